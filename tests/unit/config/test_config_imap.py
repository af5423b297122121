"""[[imap]] sections: defaults, secrets, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk import config
from maildesk.errors import ConfigError

BASE = '[desk]\naddress = "support@example.org"\n'


def _load(tmp_path: Path, imap: str, env: dict[str, str] | None = None) -> config.Settings:
    path = tmp_path / "maildesk.conf"
    path.write_text(BASE + imap, encoding="utf-8")
    return config.load(path, env or {})


def test_defaults(tmp_path: Path) -> None:
    # Scenario: a minimal account gets IMAPS on 993, INBOX, move to maildesk/processed, a generated name.
    (account,) = _load(tmp_path, '[[imap]]\nhost = "imap.example.org"\nusername = "u"\npassword = "p"\n').imap
    assert (account.name, account.port, account.tls, account.folder, account.after, account.move_to) == (
        "imap1", 993, "imaps", "INBOX", "move", "maildesk/processed")


def test_password_from_env_and_file(tmp_path: Path) -> None:
    # Scenario: the password may come from an environment variable, or a file read at each login.
    imap = ('[[imap]]\nname = "a"\nhost = "h"\nusername = "u"\npassword_env = "PW"\n'
            '[[imap]]\nname = "b"\nhost = "h"\nusername = "u"\npassword_file = "pw.txt"\n')
    a, b = _load(tmp_path, imap, {"PW": "secret"}).imap
    assert a.password == "secret" and b.password_file == tmp_path / "pw.txt"


def test_ca_file_is_a_path_beside_the_config(tmp_path: Path) -> None:
    # Scenario: ca_file is read relative to the config file like the other files; none by default.
    imap = ('[[imap]]\nname = "a"\nhost = "h"\nusername = "u"\npassword = "p"\nca_file = "ca.pem"\n'
            '[[imap]]\nname = "b"\nhost = "h"\nusername = "u"\npassword = "p"\n')
    a, b = _load(tmp_path, imap).imap
    assert a.ca_file == tmp_path / "ca.pem" and b.ca_file is None


@pytest.mark.parametrize(("imap", "message"), [
    ('[[imap]]\nhost = "h"\nusername = "u"\n', "set exactly one of password"),
    ('[[imap]]\nhost = "h"\nusername = "u"\npassword = "p"\npassword_env = "X"\n', "set exactly one"),
    ('[[imap]]\nhost = "h"\nusername = "u"\nauth = "xoauth2"\n', "oauth2_token_command or oauth2_token_file"),
    ('[[imap]]\nhost = "imap.example.org"\nusername = "u"\npassword = "p"\ntls = "plain"\n', "loopback"),
    ('[[imap]]\nhost = "127.0.0.1"\nusername = "u"\npassword = "p"\ntls = "plain"\nca_file = "ca.pem"\n',
     "imap[0].ca_file is for tls = 'imaps' or 'starttls'"),
    ('[[imap]]\nhost = "h"\nusername = "u"\npassword = "p"\nafter = "delete"\n', "after = 'delete'"),
    ('[[imap]]\nhost = "h"\nusername = "u"\npassword = "p"\nbatch = 5\n', "unknown key imap[0].batch"),
    ('[[imap]]\nname = "x"\nhost = "h"\nusername = "u"\npassword = "p"\n' * 2, "two [[imap]] sections"),
    ('[imap]\nhost = "h"\n', "[[imap]] sections"),
])
def test_errors_name_the_key(tmp_path: Path, imap: str, message: str) -> None:
    # Scenario: every mistake in an [[imap]] section stops the start with a message naming it.
    with pytest.raises(ConfigError, match=None) as caught:
        _load(tmp_path, imap)
    assert message in str(caught.value)
