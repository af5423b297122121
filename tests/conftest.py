"""Shared test fixtures: a config on disk, a migrated SQLite desk, mail through it and back out of its outbox,
a real `maildesk serve` and mail sent to it over SMTP, the corpus."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

# Re-exported: the tests import their helpers from conftest alone.
from mailflow import (  # noqa: F401
    FROM,
    NOW,
    SECRET,
    from_address,
    parsed,
    plain_text,
    query,
    receive,
    recipients,
    sent,
    store,
    token,
)
from sqlalchemy import event

from maildesk import config
from maildesk.admin.agents import add_agent
from maildesk.config import Settings
from maildesk.runtime.wiring import Runtime
from maildesk.store import migrate
from maildesk.store.db import Database

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
ALICE, BOB = ("alice@example.org", "Alice"), ("bob@example.org", "Bob")  # agents, as (address, name)
# Config text several ticket tests share: a rule that makes outages urgent incidents, and SLAs for
# urgent tickets and for the rest.
OUTAGE_RULE = """
[[rules]]
name = "outage"
when = { field = "text", regex = 'is down' }
then = { type = "incident", priority = "urgent" }
"""
URGENT_AND_STANDARD_SLAS = """
[[sla]]
name = "urgent"
priority = "urgent"
first_response = "1h"
resolution = "4h"

[[sla]]
name = "standard"
first_response = "8h"
resolution = "36h"
"""
# Agents proven by their reply token or by our own MTA's Authentication-Results.
TRUSTED_MX = '[agents]\ntrusted_hosts = ["mx.example.org"]\nproofs = ["token", "auth-results"]\n'
DeskFactory = Callable[..., Runtime]  # the make_desk fixture
# Every test requester writes from client.example over one loopback client, which no real desk sees:
# the brakes on answers per domain, client and fingerprint, and the connection rate per client, are
# raised out of the way unless a test sets its own (tests/reliability/test_public_address.py does).
BUSY_BRAKES = ("[brakes]\nanswers_per_domain_per_hour = 1000000\nanswers_per_client_per_hour = 1000000\n"
               "answers_per_fingerprint_per_day = 1000000\n")
BUSY_SMTP = "connections_per_client_per_minute = 1000000\n"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(directory: Path, extra: str = "", smtp: str = "", outbound: str = "", **desk: str) -> Path:
    """A maildesk.conf in `directory` with a free SMTP port, a local outbox and fast sweeps.

    `smtp` and `outbound` add lines to those tables, `extra` adds whole tables at the end."""
    fields = {"address": "support@example.org", "name": "Example Support"} | desk
    extra = extra if "[brakes]" in extra else extra + BUSY_BRAKES
    smtp = smtp if "connections_per_client" in smtp else smtp + BUSY_SMTP
    # A value that is already TOML (a list) goes in as it is; the rest are strings.
    desk_lines = "\n".join(f"{k} = {v}" if v.startswith("[") else f'{k} = "{v}"' for k, v in fields.items())
    path = directory / "maildesk.conf"
    path.write_text(
        f"[desk]\n{desk_lines}\n"
        f'[smtp]\nlisten = "127.0.0.1:{free_port()}"\n{smtp}'
        "[sweep]\ninterval_seconds = 0.5\nstuck_after_seconds = 5\n"
        f"[outbound]\ntimeout = 1\nretry_base_seconds = 1\n{outbound}"
        f"{extra}",
        encoding="utf-8",
    )
    return path


def make_mail(sender: str = "Bob <bob@client.example>", to: str = "support@example.org",
              subject: str = "Printer broken", body: str = "My printer does not print.",
              message_id: str | None = None, **headers: str) -> bytes:
    """A plain human mail as bytes; extra headers given as keyword arguments (underscores → dashes)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Fri, 20 Nov 2026 10:00:00 +0000"
    msg["Message-ID"] = f"<{message_id or os.urandom(8).hex()}@client.example>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))  # as MTAs send it


def mail(sender: str, to: str, subject: str, text: str, *, pdf: bytes | None = None,
         id_domain: str = "client.example", **headers: str) -> bytes:
    """A mail as a person's client writes it (no Date, LF line ends), with `pdf` attached as invoice.pdf.

    Its Message-ID is made from what it says, so the same mail written twice is one message."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = f"<{abs(hash((sender, to, subject, text)))}@{id_domain}>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text)
    if pdf is not None:
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="invoice.pdf")
    return msg.as_bytes()


@pytest.fixture(autouse=True)
def _restore_umask() -> Iterator[None]:
    # `maildesk` commands set umask 027 for their process; one run in-process (click's runner) must
    # not leave the rest of the session writing files other users cannot read (Dovecot's passwd-file).
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Validated settings for a desk living in tmp_path."""
    return config.load(write_config(tmp_path))


def open_desk(settings: Settings) -> Runtime:
    """A desk on the freshly migrated database of `settings`; the caller disposes of `rt.db`."""
    db = Database(settings.database.url)
    migrate.upgrade(db)
    db.dispose()
    return Runtime.build(settings)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    """A desk on a freshly migrated SQLite database, delivering into a local Maildir."""
    rt = open_desk(settings)
    yield rt
    rt.db.dispose()


@pytest.fixture
def make_desk(tmp_path: Path) -> Iterator[DeskFactory]:
    """A factory for desks configured in tmp_path; each is disposed of at the end.

    `extra` and the keywords go to write_config; `agents` are (address, name) pairs added at `since`."""
    built: list[Runtime] = []

    def factory(extra: str = "", agents: Iterable[tuple[str, str]] = (), since: datetime = NOW,
                **fields: str) -> Runtime:
        rt = open_desk(config.load(write_config(tmp_path, extra, **fields)))
        built.append(rt)
        for address, name in agents:
            add_agent(rt.db, address, name, since)
        return rt

    yield factory
    for rt in built:
        rt.db.dispose()


def outbox_files(settings: Settings) -> list[bytes]:
    """Every message delivered to the local Maildir outbox, oldest first."""
    new = Path(settings.outbound.url.removeprefix("maildir:")) / "new"
    if not new.exists():
        return []
    return [p.read_bytes() for p in sorted(new.iterdir(), key=lambda p: p.stat().st_mtime_ns)]


def statements_sent(db: Database) -> list[tuple[str, Any]]:
    """Every statement `db` sends from now on, with its parameters, as the database receives them.
    Explain a copy: an EXPLAIN sent through `db` lands in the list too."""
    statements: list[tuple[str, Any]] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append((a[2], a[3])))
    return statements


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `check` until it is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class ServeProcess:
    """`maildesk serve` as a real subprocess on its own config."""

    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self.settings = config.load(config_path)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = config_path.parent / "serve.log"
        self.start_args: tuple[str, ...] = ("serve",)  # ("serve", "--no-workers") for a front end only

    def cli(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        """Run another `maildesk` command against the same config."""
        return subprocess.run([sys.executable, "-m", "maildesk", "--config", str(self.config_path), *args],
                              input=stdin, capture_output=True, timeout=120)

    def worker(self, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], Path]:
        """Start `maildesk worker ARGS` on the same config; the process and worker.log, where its output goes."""
        log_path = self.config_path.parent / "worker.log"
        with open(log_path, "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "maildesk", "--config", str(self.config_path), "worker",
                                     *args], env=env, stdout=log, stderr=subprocess.STDOUT)
        return proc, log_path

    def start(self) -> ServeProcess:
        """Start the daemon and wait until its SMTP port answers."""
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "maildesk", "--config", str(self.config_path), *self.start_args],
                stdout=log, stderr=subprocess.STDOUT)
        wait_for(self._listening, 20, f"maildesk serve to listen (see {self.log})")
        return self

    def _listening(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"maildesk serve exited: {self.log.read_text()[-2000:]}")
        try:
            with socket.create_connection((self.settings.smtp.host, self.settings.smtp.port), timeout=0.2):
                return True
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a power cut of the process."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """A factory for initialised `maildesk serve` daemons; all are stopped at the end."""
    started: list[ServeProcess] = []

    def factory(extra: str = "", smtp: str = "", **desk: str) -> ServeProcess:
        path = write_config(tmp_path, extra, smtp, **desk)
        daemon = ServeProcess(path)
        result = daemon.cli("init")
        assert result.returncode == 0, result.stderr
        started.append(daemon)
        return daemon

    yield factory
    for daemon in started:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait(10)


def send_smtp(daemon: ServeProcess, raw: bytes, mail_from: str = FROM,
              rcpt: tuple[str, ...] = ("support@example.org",), timeout: float = 10) -> float:
    """Send `raw` to the daemon's SMTP port in one session (from its From: address unless `mail_from`
    says otherwise); the seconds it took, up to the last answer."""
    started = time.monotonic()
    with smtplib.SMTP(daemon.settings.smtp.host, daemon.settings.smtp.port, timeout=timeout) as client:
        client.sendmail(from_address(raw) if mail_from == FROM else mail_from, list(rcpt), raw)
    return time.monotonic() - started


def corpus_root() -> Path:
    """The shared corpus; skipped when absent on a user's machine, a failure under CI."""
    if CORPUS.is_dir():
        return CORPUS
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the shared corpus is missing at {CORPUS}")
    pytest.skip(f"shared corpus not found at {CORPUS} (it sits beside the repository in CI)")


@dataclass
class Sink:
    """An SMTP server that records what it receives; `answers` scripts failures."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.answers:
            return self.answers.pop(0)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


@contextmanager
def sink_server() -> Iterator[tuple[Sink, int]]:
    """A recording SMTP sink on a loopback port."""
    handler, port = Sink(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
