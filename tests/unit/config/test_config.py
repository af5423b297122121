"""Config loading: defaults, paths relative to the file, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk import config
from maildesk.errors import ConfigError


def _load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> config.Settings:
    path = tmp_path / "maildesk.conf"
    path.write_text(text, encoding="utf-8")
    return config.load(path, env or {})


def test_defaults_need_only_the_address(tmp_path: Path) -> None:
    # A config with just the support address gets every documented default.
    s = _load(tmp_path, '[desk]\naddress = "help@example.org"\n')
    assert s.desk.data_dir == (tmp_path / "var").resolve()
    assert s.database.url == f"sqlite:///{tmp_path.resolve() / 'var' / 'maildesk.sqlite3'}"
    assert s.broker.url == "embedded"
    assert (s.smtp.host, s.smtp.port, s.smtp.lmtp) == ("127.0.0.1", 8025, False)
    assert s.outbound.url == f"maildir:{tmp_path.resolve() / 'var' / 'outbox'}"
    assert s.desk.language == "en"


def test_example_file_is_valid() -> None:
    # The shipped example loads as it is, so every documented key is a real key.
    example = Path(__file__).resolve().parents[3] / "maildesk.conf.example"
    s = config.load(example, {})
    assert s.desk.address == "support@example.org"


@pytest.mark.parametrize(("text", "needle"), [
    ("[desk]\nname = 'x'\n", "desk.address is required"),
    ("[desk]\naddress = 'a@b.org'\ncolour = 'red'\n", "unknown key desk.colour"),
    ("[desk]\naddress = 'a@b.org'\n[smpt]\n", "unknown section [smpt]"),
    ("[desk]\naddress = 'a@b.org'\n[smtp]\nlisten = '8025'\n", "smtp.listen = '8025'"),
    ("[desk]\naddress = 'a@b.org'\n[smtp]\nlmtp = 1\n", "smtp.lmtp = 1 should be true or false"),
    ("[desk]\naddress = 'a@b.org'\n[broker]\nworker_threads = true\n", "broker.worker_threads"),
    ("[desk]\naddress = 'a@b.org'\n[broker]\nworker_threads = 0\n", "should be greater than 0"),
    ("[desk]\naddress = 'not an address'\n", "desk.address = 'not an address'"),
    ("[desk]\naddress = 'a@b.org'\nlanguage = 'de'\n", "desk.language = 'de'"),
    ("[desk]\naddress = 'a@b.org'\n[outbound]\nurl = 'ftp://x'\n", "outbound.url = 'ftp://x'"),
    ("[desk]\naddress = 'a@b.org'\n[broker]\nurl = 'kafka://x'\n", "broker.url = 'kafka://x'"),
    ("[desk]\naddress = 'a@b.org'\n[log]\nlevel = 'loud'\n", "log.level = 'loud'"),
    ("[desk\naddress = 'a@b.org'\n", "not valid TOML"),
])
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, needle: str) -> None:
    # Every mistake is reported with the file's path and the key at fault.
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    assert needle in str(err.value)
    assert str(tmp_path / "maildesk.conf") in str(err.value)


def test_missing_file_says_how_to_start(tmp_path: Path) -> None:
    # A missing file points at the example to copy.
    with pytest.raises(ConfigError, match=r"maildesk\.conf\.example"):
        config.load(tmp_path / "nope.conf", {})


def test_password_from_environment(tmp_path: Path) -> None:
    # A relay password may come from the environment instead of the file.
    text = "[desk]\naddress = 'a@b.org'\n[outbound]\nurl = 'smtp://relay:25'\npassword_env = 'RELAY_PW'\n"
    assert _load(tmp_path, text, {"RELAY_PW": "s3cret"}).outbound.password == "s3cret"
    with pytest.raises(ConfigError, match="RELAY_PW"):
        _load(tmp_path, text, {})


def test_ipv6_listen_and_relative_maildir(tmp_path: Path) -> None:
    # [::1]:2525 is a valid listen address; maildir paths are relative to the config file.
    s = _load(tmp_path, "[desk]\naddress = 'a@b.org'\n[smtp]\nlisten = '[::1]:2525'\n"
                        "[outbound]\nurl = 'maildir:mail/out'\n")
    assert (s.smtp.host, s.smtp.port) == ("::1", 2525)
    assert s.outbound.url == f"maildir:{(tmp_path / 'mail' / 'out').resolve()}"


def test_config_path_precedence(tmp_path: Path) -> None:
    # --config beats $MAILDESK_CONFIG, which beats ./maildesk.conf.
    assert config.config_path("a.conf", {"MAILDESK_CONFIG": "b.conf"}) == Path("a.conf")
    assert config.config_path(None, {"MAILDESK_CONFIG": "b.conf"}) == Path("b.conf")
    assert config.config_path(None, {}) == Path("maildesk.conf")


def test_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    # Without a configured secret, one is made on first use and read back afterwards.
    s = _load(tmp_path, "[desk]\naddress = 'a@b.org'\n")
    first = config.resolve_secret(s)
    assert len(first) == 64
    assert config.resolve_secret(s) == first
    assert (s.desk.data_dir / "secret").stat().st_mode & 0o777 == 0o600
