"""`maildesk import PATH`: a backlog from an mbox file or a Maildir, through the ordinary inbound path.

A migration, not mail arriving: by default nobody hears of it (no acknowledgement, no agent notice:
maildesk.policy.imports), every ticket and message is dated by the mail's own Date:, and the
backlog is processed in date order so that a reply finds the ticket of what it answers. The
messages are stored and processed in chunks, one durable commit and one processing transaction
per chunk, as the SMTP intake and the pipeline process batch theirs. The content hash makes a
second run store nothing new. `--status` files the tickets the import opened (closed, say) once
every message is in, each at the date of its last mail.
"""

from __future__ import annotations

import logging
import mailbox
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from maildesk.arrival.intake import Accepted, accept_raw, accept_wave, check_size
from maildesk.domain import Envelope, InboundState, Status
from maildesk.domain.ticket import TicketChange
from maildesk.errors import ConfigError, MaildeskError, MessageRejected
from maildesk.mail.mailbox_sync import header_date, return_path
from maildesk.pipeline.outcome import Outcome
from maildesk.policy import imports
from maildesk.runtime.wiring import Runtime, utcnow
from maildesk.store import messages, tickets

log = logging.getLogger(__name__)
#: Messages stored with one commit and processed in one transaction.
CHUNK = 100
ACTOR = "system:import"


@dataclass(frozen=True)
class Backlog:
    """An opened mbox or Maildir: how many messages it holds, and a way to read each."""

    kind: str
    box: mailbox.Mailbox[mailbox.Message]
    keys: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.keys)

    def raw(self, key: str) -> bytes:
        """The raw bytes of one message (an mbox's "From " separator line excluded)."""
        return self.box.get_bytes(key)

    def in_date_order(self) -> list[str]:
        """The keys by each message's Date: (see maildesk.policy.imports.in_order)."""
        dates = [header_date(self.raw(key)) for key in self.keys]
        return [self.keys[i] for i in imports.in_order(dates)]


def open_backlog(path: Path) -> Backlog:
    """A Maildir when `path` is a folder with cur/ and new/, else an mbox file; ConfigError otherwise."""
    if path.is_dir():
        if not ((path / "cur").is_dir() and (path / "new").is_dir()):
            raise ConfigError(f"{path}: a folder, but not a Maildir (no cur/ and new/)")
        box: mailbox.Mailbox[mailbox.Message] = mailbox.Maildir(path, factory=None, create=False)
        kind = "Maildir"
    elif path.is_file():
        box = mailbox.mbox(path, create=False)
        kind = "mbox"
    else:
        raise ConfigError(f"{path}: no such mbox file or Maildir")
    try:
        keys = tuple(sorted(box.keys()) if kind == "Maildir" else box.keys())
    except (OSError, mailbox.Error) as exc:
        raise ConfigError(f"{path}: cannot read the {kind}: {exc}") from exc
    return Backlog(kind, box, keys)


@dataclass
class ImportTally:
    """What an import did, message by message, and the tickets it opened."""

    new: int = 0
    duplicate: int = 0
    refused: int = 0
    deferred: int = 0
    opened: list[int] = field(default_factory=list)
    filed: int = 0


@dataclass(frozen=True)
class Importer:
    """Stores and processes a backlog in date order; `notify` lets its mail set off notices."""

    runtime: Runtime
    notify: bool = False

    def run(self, backlog: Backlog, advanced: Callable[[int], None] = lambda n: None) -> ImportTally:
        """Import every message; `advanced(n)` is called as each chunk of n messages is done."""
        tally = ImportTally()
        order = backlog.in_date_order()
        for start in range(0, len(order), CHUNK):
            keys = order[start:start + CHUNK]
            self._chunk([backlog.raw(key) for key in keys], tally)
            advanced(len(keys))
        return tally

    def _chunk(self, raws: Sequence[bytes], tally: ImportTally) -> None:
        stored = self._store(raws, tally)
        new = [a.inbound_id for a in stored if a.new]
        tally.duplicate += len(stored) - len(new)
        tally.new += len(new)
        if not new:
            return
        outcomes = self.runtime.process_many(new)
        tally.deferred += sum(1 for o in outcomes if o.state is None or o.state == InboundState.RECEIVED)
        with self.runtime.db.reading() as session:
            tally.opened += messages.tickets_opened_by(session, new)
        if self.notify:
            self._deliver(outcomes)

    def _store(self, raws: Sequence[bytes], tally: ImportTally) -> list[Accepted]:
        """One durable commit for the chunk; a message refused for good is counted and left out."""
        mails = []
        for raw in raws:
            try:
                check_size(raw, self.runtime.settings.smtp.max_message_size)
            except MessageRejected as exc:
                log.warning("import: message refused: %s", exc)
                tally.refused += 1
                continue
            mails.append((raw, self._envelope(raw)))
        try:
            return accept_wave(self.runtime.db, mails, utcnow())
        except MaildeskError:  # as the intake does: on any failure, each on its own
            log.warning("storing %d messages together failed; storing them one by one", len(mails))
            limit = self.runtime.settings.smtp.max_message_size
            return [accept_raw(self.runtime.db, raw, envelope, utcnow(), limit) for raw, envelope in mails]

    def _envelope(self, raw: bytes) -> Envelope:
        return Envelope(mail_from=return_path(raw), rcpt_to=(self.runtime.settings.desk.address,),
                        source=imports.source(self.notify))

    def _deliver(self, outcomes: Sequence[Outcome]) -> None:
        outbox_ids = [i for o in outcomes for i in o.outbox_ids]
        if outbox_ids:
            self.runtime.deliver_many(outbox_ids)

    def file_as(self, opened: Sequence[int], status: Status) -> int:
        """Move the tickets the import opened to `status`, each at the instant of its last mail; how
        many moved (one its own mail already ended, "solved", is left as it is)."""
        moved = 0
        for start in range(0, len(opened), CHUNK):
            with self.runtime.db.transaction() as session:
                for ticket_id in opened[start:start + CHUNK]:
                    ticket = tickets.load(session, ticket_id, lock=True)
                    step = imports.status_step(Status(ticket.status), status) if ticket else None
                    if ticket is None or step is None:
                        continue
                    self.runtime.desk.writer.change(session, ticket, TicketChange(ACTOR, (step,)),
                                                    ticket.updated_at)
                    moved += 1
        return moved
