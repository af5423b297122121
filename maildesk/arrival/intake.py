"""Store raw mail durably before anyone is told it arrived (DESIGN.md decision 1)."""

from __future__ import annotations

import hashlib
import logging
import queue
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32

from maildesk import metrics
from maildesk.arrival.spool import Spool
from maildesk.domain import Envelope, InboundId
from maildesk.errors import MessageRejected, StoreError
from maildesk.mail.limits import without_bom
from maildesk.store import inbound
from maildesk.store.db import Database, Session

log = logging.getLogger(__name__)
_MSGID = re.compile(r"<([^<>\s]{1,990})>")
#: Mail as it reaches the intake: whole (IMAP, the pipe, an import) or spooled by the SMTP listener.
RawMail = bytes | Spool


@dataclass(frozen=True)
class Accepted:
    """The outcome of storing a message: its row, and whether these bytes were new."""

    inbound_id: InboundId
    new: bool
    message_id: str = ""  # from the header section, for the log line


def accept_raw(db: Database, raw: RawMail, envelope: Envelope, now: datetime, max_size: int) -> Accepted:
    """Commit `raw` with its envelope; the same bytes delivered again return the first row.

    Raises MessageRejected for empty or oversized mail, StoreUnavailable when the
    database cannot take it (the caller answers 451 / exits 75 so the sender retries).
    """
    check_size(raw, max_size)
    for attempt in (1, 2):
        try:
            return accept_wave(db, [(raw, envelope)], now)[0]
        except StoreError:
            # A concurrent delivery of the same bytes won the unique index; the second look finds it.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def check_size(raw: RawMail, max_size: int) -> None:
    """MessageRejected for empty or oversized mail."""
    size = raw.size if isinstance(raw, Spool) else len(raw)
    if (raw.is_blank() if isinstance(raw, Spool) else not raw or raw.isspace()):
        raise MessageRejected("empty message")
    if size > max_size:
        raise MessageRejected(f"message of {size} bytes is over the limit of {max_size}")


def accept_wave(db: Database, mails: Sequence[tuple[RawMail, Envelope]], now: datetime) -> list[Accepted]:
    """Store mail that arrived at the same time (sizes already checked) with one durable commit;
    the same bytes stored before, or twice in `mails`, return the first row. Any failure fails the
    whole wave; the caller then stores each alone. Durable: this commit is what the 250 (or the IMAP
    flag) stands on, so it must survive a power cut. A spooled message is read whole only while its
    row is written, one at a time."""
    done: dict[str, Accepted] = {}
    out = []
    with db.transaction(durable=True) as session:
        for raw, envelope in mails:
            digest = raw.digest if isinstance(raw, Spool) else hashlib.sha256(raw).hexdigest()
            if digest not in done:
                existing = inbound.find_by_digest(session, digest)
                done[digest] = (Accepted(InboundId(existing), new=False) if existing is not None else
                                _insert(session, raw, envelope, digest, now))
                out.append(done[digest])
            else:  # the same bytes twice in one wave: the second is the duplicate
                out.append(Accepted(done[digest].inbound_id, new=False))
    for (raw, envelope), accepted in zip(mails, out, strict=True):
        _logged(accepted, raw, envelope)
    return out


def _insert(session: Session, raw: RawMail, envelope: Envelope, digest: str, now: datetime) -> Accepted:
    message_id = header_message_id(raw.head(65536) if isinstance(raw, Spool) else raw)
    inbound_id = InboundId(inbound.add(session, raw.read() if isinstance(raw, Spool) else raw, envelope,
                                       digest, message_id, now))
    return Accepted(inbound_id, True, message_id)


def _logged(accepted: Accepted, raw: RawMail, envelope: Envelope) -> None:
    # After the commit: a line never claims a store that was rolled back.
    if not accepted.new:
        log.info("inbound=%s duplicate delivery of the same bytes via %s", accepted.inbound_id,
                 envelope.source)
        return
    metrics.count("received")
    size = raw.size if isinstance(raw, Spool) else len(raw)
    log.info("inbound=%s stored %d bytes from %s via %s message-id=<%s>", accepted.inbound_id, size,
             envelope.mail_from, envelope.source, accepted.message_id)


def header_message_id(raw: bytes) -> str:
    """The Message-ID from the header section only (cheap; full parsing happens in the worker)."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(without_bom(raw[:65536]))
        match = _MSGID.search(str(headers.get("Message-ID", "")))
    except Exception:  # Any header the parser chokes on just means no id here; the worker will judge.
        return ""
    return match[1] if match else ""


@dataclass(frozen=True)
class _Arrival:
    raw: RawMail
    envelope: Envelope
    stored: Future[Accepted]


class WaveWriter:
    """One thread that stores the mail of every SMTP session: what arrives while a commit is under
    way is stored together in the next one. Concurrent sessions then share one turn at the SQLite
    writer lock and one fsync, instead of each queueing for its own behind the pipeline's commits."""

    MAX_WAVE = 64

    def __init__(self, db: Database, max_size: int, clock: Callable[[], datetime]) -> None:
        self.db, self.max_size, self.clock = db, max_size, clock
        self._arrivals: queue.SimpleQueue[_Arrival | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="maildesk-intake", daemon=True)

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def stop(self) -> None:
        """Store what has arrived, then end the thread (after the listener has stopped)."""
        if self._thread.is_alive():
            self._arrivals.put(None)
            self._thread.join(30)

    def accept(self, raw: RawMail, envelope: Envelope) -> Accepted:
        """Store `raw` durably (blocking until it is); raises as `accept_raw` does."""
        check_size(raw, self.max_size)
        if not self._thread.is_alive():  # not started, or stopping: store it here and now
            return accept_raw(self.db, raw, envelope, self.clock(), self.max_size)
        arrival = _Arrival(raw, envelope, Future())
        self._arrivals.put(arrival)
        return arrival.stored.result()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._arrivals.get()
            wave = [first] if first is not None else []
            stopping = first is None
            while len(wave) < self.MAX_WAVE:
                try:
                    more = self._arrivals.get_nowait()
                except queue.Empty:
                    break
                stopping = stopping or more is None
                wave += [more] if more is not None else []
            if wave:
                self._store(wave)

    def _store(self, wave: list[_Arrival]) -> None:
        try:
            stored = accept_wave(self.db, [(a.raw, a.envelope) for a in wave], self.clock())
        except Exception:  # One bad apple (or a store hiccup): each on its own, each with its own answer.
            log.warning("storing %d arrivals together failed; storing them one by one", len(wave),
                        exc_info=True)
            for arrival in wave:
                try:
                    arrival.stored.set_result(accept_raw(self.db, arrival.raw, arrival.envelope, self.clock(),
                                                         self.max_size))
                except Exception as exc:
                    arrival.stored.set_exception(exc)
            return
        for arrival, accepted in zip(wave, stored, strict=True):
            arrival.stored.set_result(accepted)
