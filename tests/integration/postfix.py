"""A private Postfix on a loopback port, configured from deploy/postfix, for integration tests.

Test modules use `private_postfix` (a context manager) the way dovecot.py's fixture is used. The
instance has its own config_directory, queue_directory and data_directory in one temporary folder
and logs to a file there (maillog_file; there is no syslog in a container), so the package's own
instance is never touched. `postfix start` needs root (the queue belongs to root and to the postfix
user), which CI has; elsewhere the tests skip, and under CI=true a missing piece is a failure.

The example files are used as they are shipped, comments dropped, with only what names this
machine replaced: the config folder, the LMTP port, the maildesk command and config, the pipe's
user. Every replacement must match, so an example that changes shape fails here.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "postfix"

#: What only a private test instance needs; the rest comes from deploy/postfix. The domain
#: example.org is not in mydestination, and only 127.0.0.1 is "mynetworks": mail from 127.0.0.2 is
#: mail from the outside world. Retries come after a second, not after minutes.
BASE_MAIN = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.invalid
mydestination = localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
maillog_file_prefixes = {root}
maillog_file = {root}/maillog
alias_maps =
alias_database =
smtpd_peername_lookup = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""
#: The services a mail from SMTP to LMTP or a pipe passes through, none chrooted.
BASE_MASTER = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def example(name: str, replace: Mapping[str, str]) -> str:
    """deploy/postfix/`name` without its comments, with each key of `replace` (which must occur)
    replaced by its value."""
    text = "".join(line for line in (DEPLOY / name).read_text().splitlines(keepends=True)
                   if not line.lstrip().startswith("#") and line.strip())
    for old, new in replace.items():
        assert old in text, f"deploy/postfix/{name} no longer names {old!r}"
        text = text.replace(old, new)
    return text


@dataclass(frozen=True)
class Postfix:
    """A running private instance: its SMTP port and its folders."""

    root: Path
    port: int

    @property
    def config(self) -> Path:
        """The config_directory (main.cf, master.cf, the maps)."""
        return self.root / "conf"

    def log(self) -> str:
        """Everything the instance has logged so far."""
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for_log(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        """The first log line matching `pattern`, waiting for it up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.log())
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"no log line matching {pattern!r} within {timeout}s:\n{self.log()[-3000:]}")

    def flush(self) -> None:
        """Try every queued message now (`postqueue -f`), as an admin does after fixing the cause."""
        subprocess.run(["postqueue", "-c", str(self.config), "-f"], check=True, capture_output=True, timeout=30)

    def queued(self) -> int:
        """How many messages wait in the queue."""
        listing = subprocess.run(["postqueue", "-c", str(self.config), "-j"], check=True, capture_output=True,
                                 timeout=30).stdout
        return len(listing.splitlines())


def _postmap(config: Path, name: str) -> None:
    subprocess.run(["postmap", "-c", str(config), f"hash:{config / name}"], check=True, capture_output=True,
                   timeout=30)


def require_postfix() -> None:
    """Skip (fail under CI) unless Postfix is installed and we may start it."""
    missing = None
    if shutil.which("postfix") is None and not os.access("/usr/sbin/postfix", os.X_OK):
        missing = "postfix is not installed (apt-get install postfix, as .ci/run does)"
    elif os.geteuid() != 0:
        missing = "a private postfix needs root to own its queue"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {missing}")
        pytest.skip(missing)


@contextlib.contextmanager
def private_postfix(port: int, main: str, master: str, maps: Mapping[str, str]) -> Iterator[Postfix]:
    """Start a private Postfix whose smtpd listens on 127.0.0.1:`port`; `main` and `master` are
    added to the base files, `maps` are written to the config folder and postmap'ed. The keyword
    {conf} in them names the config folder."""
    require_postfix()
    # Not under tmp_path: Postfix's unprivileged processes must traverse every parent folder.
    root = Path(tempfile.mkdtemp(prefix="maildesk-postfix-"))
    root.chmod(0o755)
    server = Postfix(root, port)
    conf = server.config
    for folder in (conf, root / "queue", root / "data"):
        folder.mkdir()
    shutil.chown(root / "data", "postfix")
    (conf / "main.cf").write_text(BASE_MAIN.format(root=root) + main.replace("{conf}", str(conf)))
    (conf / "master.cf").write_text(BASE_MASTER.format(port=port) + master.replace("{conf}", str(conf)))
    for name, text in maps.items():
        (conf / name).write_text(text)
        _postmap(conf, name)
    subprocess.run(["postfix", "-c", str(conf), "check"], check=True, capture_output=True, timeout=60)
    subprocess.run(["postfix", "-c", str(conf), "start"], check=True, capture_output=True, timeout=60)
    try:
        server.wait_for_log(r"daemon started", 20)
        yield server
    finally:
        subprocess.run(["postfix", "-c", str(conf), "abort"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
