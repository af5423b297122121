"""What a SIGHUP may change in a running process, and what keeps its running value until a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk import config
from maildesk.errors import ConfigError
from maildesk.runtime.wiring import Runtime
from maildesk.serve.reload import carry_over, reload_runtime


def _settings(directory: Path, extra: str = "", listen: str = "127.0.0.1:8025", data_dir: str = "var") -> config.Settings:
    path = directory / "maildesk.conf"
    path.write_text(f'[desk]\naddress = "support@example.org"\ndata_dir = "{data_dir}"\n'
                    f'[smtp]\nlisten = "{listen}"\n{extra}', encoding="utf-8")
    return config.load(path)


def test_rules_and_desk_apply_and_the_listener_keeps_its_address(tmp_path: Path) -> None:
    # Scenario: the file now has a new desk name, a log level and another listen address.
    running = _settings(tmp_path)
    loaded = _settings(tmp_path, '[log]\nlevel = "DEBUG"\n', listen="127.0.0.1:9025")
    merged, kept = carry_over(running, loaded)
    assert kept == ["smtp"]
    assert merged.smtp == running.smtp and merged.log_level == "DEBUG"


def test_an_unchanged_file_keeps_nothing_back(tmp_path: Path) -> None:
    # Scenario: SIGHUP with the same file: nothing is reported as needing a restart.
    running = _settings(tmp_path)
    assert carry_over(running, _settings(tmp_path)) == (running, [])


def test_a_moved_data_dir_keeps_the_whole_running_desk(tmp_path: Path) -> None:
    # Scenario: data_dir changed (with the store and the outbox that default to it): none of it moves.
    running = _settings(tmp_path)
    merged, kept = carry_over(running, _settings(tmp_path, data_dir="elsewhere"))
    assert kept == ["database", "desk and outbound (data_dir moved)"]
    assert (merged.desk, merged.database, merged.outbound) == (running.desk, running.database, running.outbound)


def test_a_broken_template_is_refused_and_the_running_desk_stays(tmp_path: Path) -> None:
    # Scenario: the admin's new override has a syntax error: the reload fails naming it, nothing is replaced.
    running = _settings(tmp_path)
    runtime = Runtime.build(running, require_schema=False)
    overrides = tmp_path / "templates" / "en"
    overrides.mkdir(parents=True)
    (overrides / "ack.txt.j2").write_text("Subject: {{ tag }\n\nbroken\n", encoding="utf-8")
    path = tmp_path / "maildesk.conf"
    path.write_text(path.read_text(encoding="utf-8").replace(
        '[smtp]', f'templates_dir = "{tmp_path / "templates"}"\n[smtp]'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"ack\.txt\.j2"):
        reload_runtime(runtime)
    assert runtime.settings is running and runtime.settings.desk.templates_dir is None
    runtime.db.dispose()
