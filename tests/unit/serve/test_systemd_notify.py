"""sd_notify(3) over a real AF_UNIX datagram socket: what systemd reads, and nothing without one."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from maildesk.serve.systemd import Systemd


def _manager(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(5)
    return sock


def test_each_state_is_one_datagram_on_the_socket(tmp_path: Path) -> None:
    # Scenario: ready (with a status line), reloading, watchdog and stopping arrive as systemd parses them.
    path = tmp_path / "notify"
    with _manager(str(path)) as manager:
        systemd = Systemd(str(path))
        systemd.ready("SMTP on 127.0.0.1:8025")
        systemd.reloading()
        systemd.watchdog()
        systemd.stopping()
        got = [manager.recv(4096) for _ in range(4)]
    assert got == [b"READY=1\nSTATUS=SMTP on 127.0.0.1:8025", b"RELOADING=1", b"WATCHDOG=1", b"STOPPING=1"]


def test_an_abstract_socket_name_starts_with_at() -> None:
    # Scenario: systemd may hand out "@name", the abstract namespace (a NUL byte first).
    name = f"maildesk-test-{os.getpid()}"
    with _manager("\0" + name) as manager:
        Systemd("@" + name).ready()
        assert manager.recv(4096) == b"READY=1"


def test_the_variable_is_taken_so_children_do_not_inherit_it(tmp_path: Path) -> None:
    # Scenario: $NOTIFY_SOCKET is read once and removed from the environment our children get.
    environ = {"NOTIFY_SOCKET": str(tmp_path / "notify"), "PATH": "/bin"}
    assert Systemd.from_environment(environ).address == str(tmp_path / "notify")
    assert environ == {"PATH": "/bin"}
    assert Systemd.from_environment({}).address is None


def test_no_socket_or_a_dead_one_never_raises(tmp_path: Path) -> None:
    # Scenario: outside systemd nothing is sent; a socket nobody reads is logged once, not fatal.
    Systemd(None).ready()
    gone = Systemd(str(tmp_path / "nobody-listens"))
    gone.watchdog()
    gone.watchdog()
    assert gone.address is not None
