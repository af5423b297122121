"""The daemon's side of the local socket (serve/local.py): one thread accepting connections on
`maildesk.sock` in the data directory, a thread per exchange, and the op's handler for the work.

The socket is 0660 in the 0750 data directory: only maildesk's user and group reach it, the same
people who may read the database file itself. A socket file left by a daemon that died is replaced;
one that still answers belongs to another running daemon, which keeps it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import socketserver
import threading
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from maildesk.errors import StartError
from maildesk.serve.local import MAX_REQUEST_LINE, TIMEOUT_SECONDS, Answer, reachable

log = logging.getLogger(__name__)
#: An op's handler: the request line's fields and the body that followed it → the answer.
Handler = Callable[[dict[str, Any], bytes], Answer]
SOCKET_MODE = 0o660


class LocalServer:
    """Serves `handlers` (by op) on the socket at `path` for requests made with config file `config`."""

    def __init__(self, path: Path, config: Path, handlers: Mapping[str, Handler], max_body: int) -> None:
        self.path, self.config, self.handlers, self.max_body = path, config.resolve(), handlers, max_body
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._names = ExitStack()

    def start(self) -> None:
        """Bind the socket (replacing a stale one) and serve in a thread; StartError when it cannot be
        made. When another daemon already answers on it (two front ends of one PostgreSQL desk sharing
        a data directory), that one keeps taking the hand-overs and this one serves without a socket:
        the work lands in the same database either way."""
        address = self._names.enter_context(reachable(self.path))
        if _answers(address):
            log.warning("another maildesk serve answers on %s: commands hand work to it, not to this one",
                        self.path)
            return
        try:
            if self.path.exists() or self.path.is_symlink():
                self.path.unlink()
            server = _Server(address, _Exchange)
            os.chmod(address, SOCKET_MODE)
        except OSError as exc:
            raise StartError(f"cannot listen on {self.path}: {exc.strerror or exc}") from exc
        server.owner = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="maildesk-local", daemon=True)
        self._thread.start()
        log.info("commands hand work over on %s", self.path)

    def stop(self) -> None:
        """Stop accepting, close the socket and remove its file."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self._names.close()

    def answer(self, request: dict[str, Any], body: bytes) -> Answer:
        """The handler's answer to one request; `fallback` for what this daemon does not do."""
        handler = self.handlers.get(str(request.get("op")))
        if handler is None or Path(str(request.get("config", ""))).resolve() != self.config:
            return Answer(0, fields={"fallback": True})  # another version's op, or another config's desk
        return handler(request, body)


def _answers(address: str) -> bool:
    """Whether a daemon answers on `address` now (connecting is enough to know)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        try:
            probe.connect(address)
        except OSError:
            return False
    return True


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    owner: LocalServer


class _Exchange(socketserver.StreamRequestHandler):
    """One connection: read the request line and the body, answer, close."""

    server: _Server

    def handle(self) -> None:
        self.connection.settimeout(TIMEOUT_SECONDS)
        owner = self.server.owner
        try:
            line = self.rfile.readline(MAX_REQUEST_LINE)
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("the request is not a JSON object")
            body = _body(self.rfile, owner.max_body)
        except (OSError, ValueError) as exc:
            log.warning("local socket: a request could not be read: %s", exc)
            return
        try:
            answer = owner.answer(request, body)
        except Exception:  # no answer: the command does the work itself, and meets the error there
            log.exception("local socket: %s failed", request.get("op"))
            return
        head = {"code": answer.code, "message": answer.message} | answer.fields
        try:
            self.wfile.write(json.dumps(head).encode() + b"\n" + answer.output)
        except OSError as exc:  # the command gave up waiting; what it asked for is done all the same
            log.warning("local socket: the command left before its answer (%s)", exc)


def _body(stream: Any, limit: int) -> bytes:
    """The bytes after the request line, to the end: at most `limit` + 1 kept (enough to tell the
    body is over the limit), the rest read and dropped so the sender is never cut off mid-write."""
    kept = stream.read(limit + 1)
    while stream.read(65536):
        pass
    return bytes(kept)
