"""Peeking at the config file (how `ingest` and the ticket reads find a running daemon without
validating the file): the same data_dir and log level the loader gives, or nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from maildesk import config
from maildesk.config.peek import peek


@pytest.mark.parametrize("lines", [
    '[desk]\naddress = "help@example.org"\n',
    '[desk]\naddress = "help@example.org"\ndata_dir = "state/desk"\n[log]\nlevel = "debug"\n',
    '[desk]\naddress = "help@example.org"\ndata_dir = "/srv/maildesk"\n[log]\nlevel = "WARNING"\n',
    '[desk]\naddress = "help@example.org"\ndata_dir = "../elsewhere"\n',
])
def test_peek_agrees_with_the_loader(tmp_path: Path, lines: str) -> None:
    # Default, relative, absolute and parent-relative data_dir, and the log level in any case.
    path = tmp_path / "conf" / "maildesk.conf"
    path.parent.mkdir()
    path.write_text(lines, encoding="utf-8")
    settings = config.load(path, {})
    peeked = peek(path)
    assert peeked is not None
    assert (peeked.path, peeked.data_dir, peeked.log_level) == (settings.path, settings.desk.data_dir,
                                                                  settings.log_level)


@pytest.mark.parametrize("text", ["[desk\n", '[desk]\ndata_dir = 3\n', 'desk = "x"\n', '[log]\nlevel = []\n'])
def test_what_peek_cannot_read_is_nothing(tmp_path: Path, text: str) -> None:
    # Broken TOML, or a data_dir or level that is not a string: None, and the command validates the file.
    path = tmp_path / "maildesk.conf"
    path.write_text(text, encoding="utf-8")
    assert peek(path) is None
    assert peek(tmp_path / "missing.conf") is None


def test_peeking_imports_no_pydantic() -> None:
    # The point of peeking: no validation library is loaded.
    code = "import sys, maildesk.config.peek; print('pydantic' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr
