"""`maildesk ingest` for MTA pipe delivery: exit codes that make Postfix keep or bounce the mail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import make_mail, outbox_files, query, write_config

from maildesk import config


def _ingest(config_path: Path, stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "maildesk", "--config", str(config_path), "ingest", *args],
                          input=stdin, capture_output=True, timeout=60)


def _ready(tmp_path: Path, smtp: str = "") -> Path:
    path = write_config(tmp_path, smtp=smtp)
    init = subprocess.run([sys.executable, "-m", "maildesk", "--config", str(path), "init"],
                          capture_output=True, timeout=60)
    assert init.returncode == 0, init.stderr
    return path


def test_stored_and_processed_exit_0(tmp_path: Path) -> None:
    # A good message is stored (exit 0, not a word printed: the MTA would pass it on) and acknowledged.
    path = _ready(tmp_path)
    result = _ingest(path, make_mail(), "-f", "bob@client.example", "-r", "support@example.org")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"" and result.stderr == b""
    settings = config.load(path)
    assert query(settings, "select source, mail_from, state from inbound") == [("pipe", "bob@client.example",
                                                                                "done")]
    assert len(outbox_files(settings)) == 1


def test_duplicate_delivery_exit_0_and_nothing_new(tmp_path: Path) -> None:
    # The MTA delivering the same bytes twice gets 0 both times and one ticket exists.
    path = _ready(tmp_path)
    raw = make_mail()
    assert _ingest(path, raw).returncode == 0
    second = _ingest(path, raw)
    assert second.returncode == 0 and second.stdout == second.stderr == b""
    assert query(config.load(path), "select count(*) from tickets") == [(1,)]


def test_empty_input_exit_65(tmp_path: Path) -> None:
    # Nothing on stdin is refused for good, with a message.
    path = _ready(tmp_path)
    result = _ingest(path, b"")
    assert result.returncode == 65 and b"empty message" in result.stderr


def test_oversized_exit_65(tmp_path: Path) -> None:
    # A message over the configured limit is refused for good (the MTA bounces it to the sender).
    path = _ready(tmp_path, smtp="max_message_size = 1000\n")
    result = _ingest(path, make_mail(body="y" * 2000))
    assert result.returncode == 65 and b"over the limit" in result.stderr


def test_bad_config_exit_75_names_the_key(tmp_path: Path) -> None:
    # A broken config is a temporary failure for the MTA (mail stays queued): one line naming each fault.
    path = _ready(tmp_path)
    path.write_text(path.read_text() + "\n[desk2]\n[desk3]\n")
    result = _ingest(path, make_mail())
    assert result.returncode == 75 and result.stdout == b""
    assert len(result.stderr.splitlines()) == 1
    assert b"unknown section [desk2]" in result.stderr and b"unknown section [desk3]" in result.stderr


def test_database_not_initialised_exit_75(tmp_path: Path) -> None:
    # Before `maildesk init`, mail is deferred, not lost, and the message says what to run.
    path = write_config(tmp_path)
    result = _ingest(path, make_mail())
    assert result.returncode == 75 and b"maildesk init" in result.stderr


def test_database_unreachable_exit_75(tmp_path: Path) -> None:
    # A database that cannot be opened is a temporary failure.
    path = _ready(tmp_path)
    text = path.read_text().replace("[smtp]", '[database]\nurl = "sqlite:////dev/null/nowhere/x.db"\n[smtp]')
    path.write_text(text)
    result = _ingest(path, make_mail())
    assert result.returncode == 75, result.stderr
