"""`maildesk serve` and `maildesk worker` under systemd's eyes: the sd_notify exchange over a real
datagram socket, SIGHUP reloads, a start that cannot succeed ending at once, and journald's log format."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from conftest import REPO, ServeProcess, free_port, make_mail, outbox_files, query, wait_for
from servers import rabbitmq_server, redis_server  # noqa: F401


class Manager:
    """What systemd holds for a Type=notify service: the datagram socket named by $NOTIFY_SOCKET."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))

    def expect(self, state: str, timeout: float) -> list[str]:
        """Read datagrams until one starts with `state`; every one read, watchdog pings left out."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                message = self.sock.recv(4096).decode()
            except TimeoutError:
                break
            if message != "WATCHDOG=1":
                seen.append(message)
            if message.startswith(state):
                return seen
        raise AssertionError(f"no {state} within {timeout}s; got {seen}")

    def pending(self) -> list[str]:
        """The datagrams already waiting."""
        self.sock.setblocking(False)
        found = []
        try:
            while True:
                found.append(self.sock.recv(4096).decode())
        except BlockingIOError:
            return found
        finally:
            self.sock.setblocking(True)


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[Manager]:
    """A stand-in for systemd's notification socket."""
    found = Manager(tmp_path / "notify")
    yield found
    found.sock.close()


def _start(daemon: ServeProcess, manager: Manager) -> tuple[subprocess.Popen[bytes], Path]:
    """`maildesk serve` as systemd starts it: $NOTIFY_SOCKET set, stderr the journal stream."""
    log_path = daemon.config_path.parent / "journal.log"
    with open(log_path, "ab") as log:
        info = os.fstat(log.fileno())
        env = {**os.environ, "NOTIFY_SOCKET": str(manager.path), "JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"}
        proc = subprocess.Popen([sys.executable, "-m", "maildesk", "--config", str(daemon.config_path), "serve"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    daemon.proc = proc  # so the serve fixture kills it if a test fails half-way
    return proc, log_path


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue  # gone meanwhile
    return found


def _pipeline_child(pid: int) -> int | None:
    for child in _children(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                return child
        except OSError:
            continue
    return None


def _listening(daemon: ServeProcess) -> bool:
    try:
        with socket.create_connection((daemon.settings.smtp.host, daemon.settings.smtp.port), timeout=0.5):
            return True
    except OSError:
        return False


def test_ready_watchdog_stopping_over_the_notify_socket(serve: Callable[..., ServeProcess],
                                                       manager: Manager) -> None:
    # READY=1 comes once the port answers and the pipeline child runs, then WATCHDOG=1; SIGTERM says STOPPING=1.
    daemon = serve()
    proc, log_path = _start(daemon, manager)
    ready = manager.expect("READY=1", 30)
    assert len(ready) == 1 and "STATUS=SMTP on 127.0.0.1:" in ready[0]
    assert _listening(daemon)
    child = _pipeline_child(proc.pid)
    assert child is not None
    assert b"NOTIFY_SOCKET" not in Path(f"/proc/{child}/environ").read_bytes()  # only the main process talks
    manager.sock.settimeout(10)
    assert manager.sock.recv(4096) == b"WATCHDOG=1"
    proc.send_signal(signal.SIGTERM)
    assert manager.expect("STOPPING=1", 30) == ["STOPPING=1"]
    assert proc.wait(30) == 0
    journal = log_path.read_text().splitlines()
    assert any(line.startswith("<6>maildesk.serve.daemon: maildesk ready: SMTP on") for line in journal), journal
    assert all(line.startswith("<") for line in journal), journal  # priority first, no timestamp of our own


def _ack(daemon: ServeProcess, count: int) -> tuple[str, str]:
    """The sender and the text of acknowledgement number `count`, once it is in the outbox."""
    wait_for(lambda: len(outbox_files(daemon.settings)) == count, 10, f"acknowledgement {count}")
    ack = message_from_bytes(outbox_files(daemon.settings)[-1], policy=policy.default)
    return str(ack["From"]), ack.get_body(("plain",)).get_content()  # type: ignore[union-attr]


ADDED = (f'[kb]\npath = "{REPO / "examples" / "kb"}"\n[[categories]]\nname = "hardware"\n'
         '[[rules]]\nname = "printers"\nwhen = { field = "text", regex = "printer" }\nthen = { category = "hardware" }\n')
ARTICLE = "https://help.example.org/kb/en/printer-not-printing"


def test_sighup_reloads_keeping_the_connection_and_a_bad_file_changes_nothing(
        serve: Callable[..., ServeProcess], manager: Manager) -> None:
    # A renamed desk, a rule and a knowledge base apply after SIGHUP on a connection opened before;
    # a broken file is refused and changes nothing.
    daemon = serve(name="Old Name")
    proc, log_path = _start(daemon, manager)
    manager.expect("READY=1", 30)
    original = daemon.config_path.read_text()
    with smtplib.SMTP(daemon.settings.smtp.host, daemon.settings.smtp.port, timeout=10) as client:
        client.sendmail("bob@client.example", ["support@example.org"], make_mail(message_id="one"))
        sender, text = _ack(daemon, 1)
        assert sender == "Old Name <support@example.org>" and ARTICLE not in text
        daemon.config_path.write_text(original.replace('"Old Name"', '"New Name"') + ADDED)
        proc.send_signal(signal.SIGHUP)
        assert manager.expect("READY=1", 30)[0] == "RELOADING=1"
        client.sendmail("bob@client.example", ["support@example.org"], make_mail(message_id="two"))
        sender, text = _ack(daemon, 2)
        assert sender == "New Name <support@example.org>" and ARTICLE in text
        assert query(daemon.settings, "select category from tickets order by id") == [("other",), ("hardware",)]
        daemon.config_path.write_text(original.replace('"Old Name"', '"Broken"') + "[desk2]\n")
        proc.send_signal(signal.SIGHUP)
        assert manager.expect("READY=1", 30)[0] == "RELOADING=1"
        client.sendmail("bob@client.example", ["support@example.org"], make_mail(message_id="three"))
        assert _ack(daemon, 3)[0] == "New Name <support@example.org>"
    errors = [line for line in log_path.read_text().splitlines() if line.startswith("<3>")]
    assert len(errors) == 1 and "reload failed, the running configuration stays" in errors[0], errors
    assert "unknown section [desk2]" in errors[0]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0


def test_a_taken_port_ends_serve_at_once_with_one_line(serve: Callable[..., ServeProcess],
                                                       manager: Manager) -> None:
    # Another program holds the port: serve exits 2 (it used to run on, deaf, until SIGKILL), says so in
    # one line and never says READY.
    daemon = serve()
    with socket.create_server((daemon.settings.smtp.host, daemon.settings.smtp.port)):
        result = subprocess.run([sys.executable, "-m", "maildesk", "--config", str(daemon.config_path), "serve"],
                                env={**os.environ, "NOTIFY_SOCKET": str(manager.path)}, capture_output=True,
                                timeout=60)
    assert result.returncode == 2
    port = daemon.settings.smtp.port
    errors = [line for line in result.stderr.decode().splitlines() if line.startswith("maildesk:")]
    assert errors == [f"maildesk: the SMTP listener cannot listen on 127.0.0.1:{port}: Address already in use"]
    assert "Traceback" not in result.stderr.decode()
    assert manager.pending() == ["STOPPING=1"]


def test_a_pipeline_child_dead_at_start_ends_serve(serve: Callable[..., ServeProcess], manager: Manager) -> None:
    # The pipeline process is killed before it is ready: serve stops, exits non-zero and never says READY.
    daemon = serve()
    proc, log_path = _start(daemon, manager)
    child = None
    deadline = time.monotonic() + 30
    while child is None and time.monotonic() < deadline:
        child = _pipeline_child(proc.pid)
    assert child is not None, "no pipeline process appeared"
    os.kill(child, signal.SIGKILL)
    assert proc.wait(30) == 2
    assert manager.pending() == ["STOPPING=1"]
    journal = log_path.read_text()
    assert "maildesk: the pipeline process was killed by SIGKILL before it was ready" in journal
    assert not _listening(daemon)


def test_the_single_machine_unit_runs_on_the_embedded_defaults(serve: Callable[..., ServeProcess],
                                                               manager: Manager) -> None:
    # deploy/maildesk-serve.service's own command line, on a config with the embedded queue: READY=1.
    daemon = serve()
    unit = (REPO / "deploy" / "maildesk-serve.service").read_text().splitlines()
    command = next(line for line in unit if line.startswith("ExecStart=")).removeprefix("ExecStart=").split()
    assert command[1:3] == ["--config", "/etc/maildesk/maildesk.conf"]
    proc = subprocess.Popen([sys.executable, "-m", "maildesk", "--config", str(daemon.config_path), *command[3:]],
                            env={**os.environ, "NOTIFY_SOCKET": str(manager.path)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    daemon.proc = proc
    assert manager.expect("READY=1", 30)[0].startswith("READY=1")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0


def _worker(daemon: ServeProcess, manager: Manager, processes: int) -> tuple[subprocess.Popen[bytes], Path]:
    """`maildesk worker` as deploy/maildesk-worker@.service starts it, $NOTIFY_SOCKET set."""
    proc, log_path = daemon.worker("-p", str(processes), "-t", "1",
                                   env={**os.environ, "NOTIFY_SOCKET": str(manager.path)})
    daemon.proc = proc  # killed by the serve fixture if the test fails half-way
    return proc, log_path


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_the_worker_says_ready_once_every_process_consumes(serve: Callable[..., ServeProcess], manager: Manager,
                                                           broker: str, request: pytest.FixtureRequest) -> None:
    # Type=notify for maildesk-worker@: READY=1 once both processes consume, then WATCHDOG=1; SIGTERM: STOPPING=1.
    unit = (REPO / "deploy" / "maildesk-worker@.service").read_text()
    assert "\nType=notify\n" in unit and "\nWatchdogSec=" in unit
    if broker == "redis":
        url = request.getfixturevalue("redis_server").new_url()
    else:
        rabbit = request.getfixturevalue("rabbitmq_server")
        rabbit.purge()
        url = rabbit.url
    daemon = serve(f'[broker]\nurl = "{url}"\n')
    proc, log_path = _worker(daemon, manager, processes=2)
    assert manager.expect("READY=1", 60) == ["READY=1\nSTATUS=2 processes × 1 threads consuming"]
    children = [c for c in _children(proc.pid) if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
    assert len(children) == 2
    assert all(b"NOTIFY_SOCKET" not in Path(f"/proc/{c}/environ").read_bytes() for c in children)
    manager.sock.settimeout(10)
    assert manager.sock.recv(4096) == b"WATCHDOG=1"
    proc.send_signal(signal.SIGTERM)
    assert manager.expect("STOPPING=1", 30) == ["STOPPING=1"]
    assert proc.wait(30) == 0, log_path.read_text()[-2000:]


def test_a_worker_whose_broker_does_not_answer_never_says_ready(serve: Callable[..., ServeProcess],
                                                                manager: Manager) -> None:
    # Nothing listens on the broker's port: no READY=1 (systemd fails the start), one line says why; SIGTERM stops it.
    daemon = serve(f'[broker]\nurl = "redis://127.0.0.1:{free_port()}/0"\n')
    proc, log_path = _worker(daemon, manager, processes=1)
    wait_for(lambda: "not ready until it answers" in log_path.read_text(), 60, "the worker to say why")
    time.sleep(2)  # a READY=1 sent regardless would have arrived by now
    assert manager.pending() == []  # nor the watchdog, which starts with READY=1
    assert log_path.read_text().count("not ready until it answers") == 1
    proc.send_signal(signal.SIGTERM)
    assert manager.expect("STOPPING=1", 30) == ["STOPPING=1"]
    assert proc.wait(30) == 0, log_path.read_text()[-2000:]
