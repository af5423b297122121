"""A private Dovecot IMAP server on a loopback port, for integration tests.

Test modules take the `dovecot` fixture with `from dovecot import dovecot_fixture  # noqa: F401`
(a module of its own rather than tests/integration/conftest.py, which would shadow tests/conftest.py
for `from conftest import ...`).

Everything lives in one temporary folder; mail belongs to the `mail` user because
Dovecot refuses root and low uids for mail access (first_valid_uid is lowered to 8).
The server is stopped by the pid in base_dir/master.pid.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

USER = "desk"
PASSWORD = "desk-secret"


@dataclass(frozen=True)
class Dovecot:
    """A running test server: where to connect, who to log in as, where its files are."""

    host: str
    port: int
    user: str
    password: str
    root: Path

    def stop(self) -> None:
        """Stop the master process and wait until the port is closed."""
        pidfile = self.root / "run" / "master.pid"
        if pidfile.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        _wait(lambda: not _listening(self.host, self.port), 10, "dovecot to stop")

    def client(self) -> IMAPClient:
        """A logged-in imapclient connection (the test's own, not maildesk's)."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=30)
        client.login(self.user, self.password)
        return client

    def append(self, messages: list[bytes], folder: str = "INBOX") -> None:
        """APPEND each message to `folder`, one command per message as mail would arrive."""
        with self.client() as client:
            for raw in messages:
                client.append(folder, raw)

    def count(self, folder: str) -> int:
        """How many messages `folder` holds (0 when it does not exist)."""
        with self.client() as client:
            if not client.folder_exists(folder):
                return 0
            return int(client.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"])

    def seen_count(self, folder: str) -> int:
        """How many messages in `folder` are marked \\Seen."""
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            return len(client.search(["SEEN"]))

    def kick(self) -> None:
        """Make the server drop every connection of the test user (doveadm kick), as a restart would."""
        subprocess.run(["doveadm", "-c", str(self.root / "dovecot.conf"), "kick", self.user], check=True,
                       capture_output=True, timeout=30)

    def restart(self) -> None:
        """Stop and start again on the same port (drops every connection)."""
        self.stop()
        _start(self.root)
        _wait(lambda: _listening(self.host, self.port), 10, "dovecot to listen")
        _wait(self._logs_in, 60, "dovecot's auth process to answer")

    def _logs_in(self) -> bool:
        # The login listener opens before the auth process answers; on a busy machine the first
        # LOGIN then gets "[UNAVAILABLE] Temporary authentication failure".
        try:
            self.client().logout()
            return True
        except Exception:  # any failure means "not yet"
            return False


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_dovecot(root: Path) -> Dovecot:
    """Write a config under `root`, start `dovecot -c`, and wait for the listener."""
    port = free_port()
    server = start_with(root, port, _CONFIG.format(root=root, port=port, **mail_owner()))
    _wait(server._logs_in, 60, "dovecot's auth process to answer")
    return server


def mail_owner() -> dict[str, int]:
    """The uid and gid that own the test's mail ({uid} and {gid} in a config)."""
    mail = pwd.getpwnam("mail")
    return {"uid": mail.pw_uid, "gid": mail.pw_gid}


def start_with(root: Path, port: int, config: str) -> Dovecot:
    """Start a Dovecot on `config` under `root` (base_dir {root}/run, mail in {root}/mail) with the
    test user, and wait until `port` listens."""
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    # Dovecot's unprivileged processes must traverse every level down to its files.
    root.chmod(0o755)
    owner = mail_owner()
    os.chown(root / "mail", owner["uid"], owner["gid"])
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    (root / "dovecot.conf").write_text(config)
    for readable in ("passwd", "dovecot.conf"):  # Dovecot's auth user reads them, whatever our umask
        (root / readable).chmod(0o644)
    _start(root)
    server = Dovecot("127.0.0.1", port, USER, PASSWORD, root)
    _wait(lambda: _listening(server.host, port), 15, "dovecot to listen")
    return server


def dovecot_binary() -> str | None:
    """The dovecot executable, or None when it is not installed."""
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None)


def _start(root: Path) -> None:
    binary = dovecot_binary()
    assert binary is not None
    # The master daemonizes and keeps inherited pipes open, so its output goes to a file, not a pipe.
    with (root / "start.log").open("ab") as out:
        subprocess.run([binary, "-c", str(root / "dovecot.conf")], check=True, stdout=out, stderr=out,
                       stdin=subprocess.DEVNULL, timeout=30)


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait(ready: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


#: What every private test instance has: stats sockets its processes may write, and its users in a
#: passwd file of its own, all mapped to one mail owner.
PRIVATE_STATS_AND_USERS = """\
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
"""

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = maildesk-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""" + PRIVATE_STATS_AND_USERS + """\
namespace inbox {{
  inbox = yes
  separator = /
}}
"""


def imap_block(server: Dovecot, name: str = "support", after: str = "move", password: str | None = None,
               folder: str = "INBOX", **extra: str) -> str:
    """A `[[imap]]` section for `server`; `extra` values are TOML literals."""
    keys = {"name": f'"{name}"', "host": f'"{server.host}"', "port": str(server.port), "tls": '"plain"',
            "username": f'"{server.user}"', "password": f'"{password or server.password}"',
            "folder": f'"{folder}"', "after": f'"{after}"', "poll_interval_seconds": "2"} | extra
    return "\n[[imap]]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())


def require_dovecot() -> None:
    """Skip (with the reason) when dovecot is not installed or we are not root; under CI (CI=true)
    that is a failure, because .ci/run installs it and runs as root."""
    missing = None
    if dovecot_binary() is None:
        missing = "the dovecot binary is not installed (apt-get install dovecot-imapd)"
    elif os.geteuid() != 0:
        missing = "a private dovecot needs root to hand its mail folder to the mail user"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {missing}")
        pytest.skip(missing)


@pytest.fixture(name="dovecot")
def dovecot_fixture() -> Iterator[Dovecot]:
    """A Dovecot on a free loopback port with one test user and an empty mail folder (see
    require_dovecot for when it is skipped)."""
    require_dovecot()
    # Not under tmp_path: other pytest runs reset /tmp/pytest-of-<user> to 0700 at any moment, and
    # Dovecot's unprivileged processes must traverse every parent folder.
    root = Path(tempfile.mkdtemp(prefix="maildesk-dovecot-"))
    server = start_dovecot(root)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)

