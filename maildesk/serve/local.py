"""The local socket of a running `maildesk serve`: how a command hands it work instead of starting
the desk itself — `maildesk ingest` its mail, `tickets list` and `tickets show` their reads.

A command that starts the desk pays about 0.5 s of imports (SQLAlchemy, pydantic, the pipeline)
before it does anything; the daemon has paid them already. So a command that finds the daemon's
socket (`maildesk.sock` in the data directory, mode 0660: maildesk's user and group) asks it, and
one that does not, or gets no answer, does the work itself as before. This module is the client
side and the wire format; it imports only the standard library. The server is local_server.py.

One exchange per connection. The request is a line of JSON (`op`, `config`: the config file the
command read, and the op's fields), then for `ingest` the mail's bytes until the client shuts its
side down. The answer is a line of JSON — `code` (the exit status the command ends with), `message`
(its one-line error), or `fallback` (this daemon will not do it: do it yourself) — then the bytes
the command prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SOCKET_NAME = "maildesk.sock"
# What the command exits with: sysexits.h for an MTA's pipe transport, and the CLI's own 2.
EX_USAGE = 2  # a maildesk error the admin can fix (no such ticket ...)
EX_DATAERR = 65  # the mail is refused for good: the MTA bounces it
EX_TEMPFAIL = 75  # try later: the MTA keeps the mail queued
#: A request's first line may not be longer than this.
MAX_REQUEST_LINE = 64 * 1024
#: How long a command waits for the daemon (connect, send, answer) before doing the work itself.
TIMEOUT_SECONDS = 60.0
#: sun_path holds 108 bytes; a longer path is reached through the folder's descriptor instead.
_SUN_PATH = 100


@dataclass(frozen=True)
class Answer:
    """The daemon's answer: the exit status, the one-line error for stderr, what goes to stdout, and
    the other fields of the answer line."""

    code: int
    message: str = ""
    output: bytes = b""
    fields: dict[str, Any] = field(default_factory=dict)


def socket_path(data_dir: Path) -> Path:
    """Where the daemon of `data_dir` listens."""
    return data_dir / SOCKET_NAME


@contextlib.contextmanager
def reachable(path: Path) -> Iterator[str]:
    """A name for `path` short enough for a Unix socket's address: itself, or when it is too long
    (deep test folders), the same file through an open descriptor of its folder (/proc/self/fd)."""
    if len(os.fsencode(path)) < _SUN_PATH:
        yield str(path)
        return
    folder = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{folder}/{path.name}"
    finally:
        os.close(folder)


def ask(path: Path, request: dict[str, Any], body: bytes = b"",
        timeout: float = TIMEOUT_SECONDS) -> Answer | None:
    """Send `request` (and `body`) to the daemon listening at `path`; its answer, or None when there
    is no daemon, it did not answer in time or in form, or it asked us to do the work ourselves."""
    if not path.exists():
        return None
    try:
        with reachable(path) as address, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(address)
            conn.sendall(json.dumps(request).encode() + b"\n" + body)
            conn.shutdown(socket.SHUT_WR)
            reply = _read_all(conn)
    except OSError:  # no daemon behind the file (a stale socket), or it went away
        return None
    return _answer(reply)


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(reply: bytes) -> Answer | None:
    head, newline, output = reply.partition(b"\n")
    try:
        fields = json.loads(head) if newline else None
    except ValueError:
        return None
    if not isinstance(fields, dict) or fields.get("fallback") or not isinstance(fields.get("code"), int):
        return None
    return Answer(fields["code"], str(fields.get("message", "")), output, fields)
