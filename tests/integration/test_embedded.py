"""`maildesk serve` on the embedded queue: the pipeline runs in a child process of its own."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from conftest import ServeProcess, make_mail, outbox_files, query, send_smtp, wait_for


def _children(pid: int) -> list[int]:
    """Pipeline processes of `pid` (multiprocessing's spawned children, not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid and b"spawn_main" in command:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _send(daemon: ServeProcess, mid: str) -> None:
    """A request from `mid`@client.example, with `mid` as its Message-ID."""
    sender = f"{mid}@client.example"
    send_smtp(daemon, make_mail(sender=sender, subject=f"Request {mid}", message_id=mid), sender)


def _tickets(daemon: ServeProcess) -> int:
    return int(query(daemon.settings, "SELECT count(*) FROM tickets")[0][0])  # type: ignore[call-overload]


def test_serve_processes_mail_in_its_pipeline_process_and_takes_it_down_on_sigterm(
        serve: Callable[..., ServeProcess]) -> None:
    # One mail is processed in serve's single pipeline child, which ends when serve ends on SIGTERM.
    daemon = serve().start()
    assert daemon.proc is not None
    wait_for(lambda: len(_children(daemon.proc.pid)) == 1, 10, "one pipeline process")  # type: ignore[union-attr]
    [child] = _children(daemon.proc.pid)
    _send(daemon, "child-1")
    wait_for(lambda: len(outbox_files(daemon.settings)) == 1, 10, "the acknowledgement")
    assert _tickets(daemon) == 1
    assert daemon.stop() == 0
    wait_for(lambda: not _alive(child), 10, "the pipeline process to end with serve")


def test_a_killed_pipeline_process_is_replaced_and_the_mail_it_missed_is_processed(
        serve: Callable[..., ServeProcess]) -> None:
    # SIGKILL the pipeline child, send three mails: a new child starts and each mail gets one ticket and one ack.
    daemon = serve().start()
    assert daemon.proc is not None
    pid = daemon.proc.pid
    wait_for(lambda: len(_children(pid)) == 1, 10, "one pipeline process")
    [first] = _children(pid)
    os.kill(first, signal.SIGKILL)
    # Accepted while nothing processes: the listener answers 250 all the same (the mail is stored).
    for i in range(3):
        _send(daemon, f"orphan-{i}")
    wait_for(lambda: [c for c in _children(pid) if c != first] != [], 15, "a new pipeline process")
    wait_for(lambda: _tickets(daemon) == 3, 20, "the three mails on tickets")
    wait_for(lambda: len(outbox_files(daemon.settings)) == 3, 10, "three acknowledgements")
    time.sleep(1)  # nothing more arrives: each mail once, each acknowledgement once
    assert _tickets(daemon) == 3
    assert len(outbox_files(daemon.settings)) == 3
    assert "pipeline process" in daemon.log.read_text() and "starting another" in daemon.log.read_text()


def test_pipeline_process_false_keeps_everything_in_one_process(serve: Callable[..., ServeProcess]) -> None:
    # With pipeline_process = false there is no child: serve itself processes the mail and acknowledges it.
    daemon = serve(extra="[broker]\npipeline_process = false\n").start()
    assert daemon.proc is not None
    _send(daemon, "single-1")
    wait_for(lambda: len(outbox_files(daemon.settings)) == 1, 10, "the acknowledgement")
    assert _children(daemon.proc.pid) == []
    assert _tickets(daemon) == 1
