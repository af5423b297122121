"""The daemon's local socket: one daemon answers on it; a second one sharing the data directory (two
front ends of one PostgreSQL desk) starts all the same and leaves the socket to the first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from maildesk.serve.local import Answer, ask, socket_path
from maildesk.serve.local_server import LocalServer


def _named(name: str) -> dict[str, Any]:
    return {"who": lambda request, body: Answer(0, output=name.encode())}


def test_a_second_daemon_on_the_same_socket_starts_and_leaves_it_to_the_first(tmp_path: Path) -> None:
    # The first daemon keeps answering; the second starts without raising, and stopping it leaves the
    # first one's socket in place.
    config = tmp_path / "maildesk.conf"
    config.write_text("")
    path = socket_path(tmp_path)
    first, second = (LocalServer(path, config, _named(n), 1024) for n in ("first", "second"))
    first.start()
    try:
        second.start()
        second.stop()
        answer = ask(path, {"op": "who", "config": str(config)}, timeout=10)
        assert answer is not None and answer.output == b"first"
    finally:
        first.stop()
    assert not path.exists()


def test_a_stale_socket_file_is_replaced(tmp_path: Path) -> None:
    # A socket file nobody answers on (a daemon that was killed) does not keep a new daemon out.
    config = tmp_path / "maildesk.conf"
    config.write_text("")
    path = socket_path(tmp_path)
    path.write_text("")
    server = LocalServer(path, config, _named("new"), 1024)
    server.start()
    try:
        answer = ask(path, {"op": "who", "config": str(config)}, timeout=10)
        assert answer is not None and answer.output == b"new"
    finally:
        server.stop()
