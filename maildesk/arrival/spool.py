"""A message in transit between the SMTP DATA phase and its durable store, held in memory while it is
small and in a file once it is not, so a listener with many large messages in flight holds only a
megabyte of each (the intake reads one at a time back when it stores it).

`read_data` reads DATA from the client as RFC 5321 4.5.2 and 2.3.8 say: lines end at CRLF only (a
bare LF or CR is data, never the end of a line, which closes the door to SMTP smuggling), a lone
"." line ends the data, and a leading dot is removed. A line longer than the reader's buffer is
data too, written as it comes: the whole message may be one "line" from a broken client.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

#: Up to this many bytes a message stays in memory.
IN_MEMORY = 1024 * 1024
#: Lines are gathered into writes of about this size.
_WRITE = 64 * 1024


class Spool:
    """One message's bytes, written once, then read back; its size and sha256 are kept as it is written."""

    def __init__(self, directory: Path | None = None, in_memory: int = IN_MEMORY) -> None:
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed by close())
            max_size=in_memory, dir=str(directory) if directory is not None else None)
        self._sha = hashlib.sha256()
        self.size = 0

    @classmethod
    def of(cls, raw: bytes) -> Spool:
        """A spool holding `raw` (mail that arrived whole: IMAP, the pipe, tests)."""
        spool = cls(in_memory=len(raw) + 1)
        spool.write(raw)
        return spool

    def write(self, data: bytes) -> None:
        """Append `data`."""
        self._file.write(data)
        self._sha.update(data)
        self.size += len(data)

    @property
    def digest(self) -> str:
        """The sha256 of what was written, in hex."""
        return self._sha.hexdigest()

    def head(self, limit: int) -> bytes:
        """The first `limit` bytes."""
        self._file.seek(0)
        return self._file.read(limit)

    def read(self) -> bytes:
        """All of it, as one bytes object (the store needs one)."""
        self._file.seek(0)
        return self._file.read()

    def is_blank(self) -> bool:
        """Whether the message is empty or whitespace only (a long one never is, in practice)."""
        return self.size == 0 or (self.size <= 65536 and self.head(65536).isspace())

    def close(self) -> None:
        """Drop the bytes (and the file, if it came to one)."""
        self._file.close()


class DataEnd(enum.Enum):
    """How the DATA phase ended."""

    COMPLETE = "complete"
    TOO_MUCH = "too much"  # over the size limit: drained, nothing kept


async def read_data(reader: asyncio.StreamReader, spool: Spool, limit: int,
                    progress: Callable[[], None]) -> DataEnd:
    """Read DATA up to its lone "." line into `spool` (dot-unstuffed); `progress` is called after each
    line or piece read (the caller keeps its idle timer from firing while bytes flow)."""
    pending = bytearray()
    at_line_start, too_much = True, False
    while True:
        try:
            line = await reader.readuntil(b"\r\n")
        except asyncio.LimitOverrunError as overrun:
            line = await reader.read(overrun.consumed)  # a piece of a long line: data, not an end
        progress()
        ends = line.endswith(b"\r\n")
        if at_line_start and line == b".\r\n":
            break
        if at_line_start and line.startswith(b"."):
            line = line[1:]
        at_line_start = ends
        if too_much or spool.size + len(pending) + len(line) > limit:
            too_much, pending = True, bytearray()  # keep reading to the end, keep nothing
            continue
        pending += line
        if len(pending) >= _WRITE:
            spool.write(bytes(pending))
            pending.clear()
    if pending and not too_much:
        spool.write(bytes(pending))
    return DataEnd.TOO_MUCH if too_much else DataEnd.COMPLETE
