"""DATA into a spool: CRLF lines only, dot-unstuffing, the size limit, and only a megabyte in memory."""

from __future__ import annotations

import asyncio
import hashlib

from maildesk.arrival.spool import DataEnd, Spool, read_data


def _read(data: bytes, limit: int = 10**8) -> tuple[DataEnd, Spool]:
    async def run() -> tuple[DataEnd, Spool]:
        reader = asyncio.StreamReader(limit=1024)
        reader.feed_data(data)
        reader.feed_eof()
        spool = Spool()
        return await read_data(reader, spool, limit, lambda: None), spool

    return asyncio.run(run())


def test_dot_unstuffing_and_the_end_of_data() -> None:
    # ".." at a line start loses a dot; a bare LF before ".\r\n" is data, not the end (no smuggling).
    ended, spool = _read(b"a\r\n..b\r\nc\n.\r\nMAIL FROM:<x>\r\n.\r\nnext")
    assert ended is DataEnd.COMPLETE
    assert spool.read() == b"a\r\n.b\r\nc\n.\r\nMAIL FROM:<x>\r\n"


def test_a_long_line_is_data_and_large_mail_goes_to_disk() -> None:
    # A 3 MB message with a 100 KB line (over the reader's buffer) is kept whole; past 1 MB it is a file.
    body = b"x" * 100_000 + b"\r\n" + b"y" * 76 * 40_000
    ended, spool = _read(body + b"\r\n.\r\n")
    assert ended is DataEnd.COMPLETE and spool.size == len(body) + 2
    assert spool.digest == hashlib.sha256(body + b"\r\n").hexdigest()
    assert spool._file._rolled  # type: ignore[attr-defined]


def test_over_the_limit_keeps_nothing() -> None:
    # Past the size limit the data is read to its end and dropped.
    ended, spool = _read(b"z" * 5000 + b"\r\n.\r\n", limit=1000)
    assert ended is DataEnd.TOO_MUCH and spool.size == 0
