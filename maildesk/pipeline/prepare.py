"""Before any write transaction: check, parse and classify one stored mail into an `Arrival`."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from maildesk.domain import Address, InboundState, StoredFile
from maildesk.errors import MailParseError
from maildesk.mail.limits import is_control_header, raw_problem, shape_problem, without_control_headers
from maildesk.mail.machine import Verdict, classify
from maildesk.mail.parse import ParsedMail, parse_message
from maildesk.pipeline.context import Desk
from maildesk.pipeline.outcome import Outcome, gone, quarantine, record_failure, set_aside
from maildesk.store import inbound
from maildesk.store.inbound import StoredInbound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Arrival:
    """A parsed and classified inbound mail, its files already in the blob store, ready to be
    applied to the desk in a transaction."""

    inbound_id: int
    parsed: ParsedMail
    sender: Address
    verdict: Verdict
    files: tuple[StoredFile, ...]


def prepare(desk: Desk, inbound_id: int, found: StoredInbound | None, now: datetime) -> Arrival | Outcome:
    """Check, parse and classify the stored mail; a mail that is gone, handled or cannot make a
    ticket gives its Outcome instead."""
    if found is None or found.state != InboundState.RECEIVED:
        return gone(inbound_id, "already handled or unknown")
    try:
        return _arrival(desk, found, now)
    except MailParseError as exc:
        return quarantine(desk, inbound_id, str(exc), now)
    except Exception as exc:  # A bug or a store failure must not kill the worker; count and retry.
        log.exception("inbound=%s processing failed", inbound_id)
        return record_failure(desk, inbound_id, exc, now)


def _arrival(desk: Desk, found: StoredInbound, now: datetime) -> Arrival | Outcome:
    started = time.monotonic()
    raw = found.raw
    if raw is None:  # a large mail: read now, its turn has come
        with desk.db.reading() as session:
            raw = inbound.raw_of(session, found.id)
    problem = raw_problem(raw, desk.limits)
    if problem is not None:
        return quarantine(desk, found.id, problem, now)
    parsed = parse_message(raw)
    del raw  # the parsed mail is all that is needed from here on
    problem = shape_problem(parsed.message, desk.limits)
    if problem is not None:
        return quarantine(desk, found.id, problem, now)
    verdict = classify(parsed.message, found.mail_from, desk.own)
    parsed = _without_control_headers(parsed)
    elapsed = time.monotonic() - started
    if elapsed > desk.limits.process_seconds:
        return quarantine(desk, found.id, f"parsing took {elapsed:.0f} s (budget "
                          f"{desk.limits.process_seconds:g} s)", now)
    sender = parsed.sender or _envelope_sender(found.mail_from)
    if sender is None and verdict.machine:
        return set_aside(desk, found.id, InboundState.IGNORED,
                         "machine mail without a sender address: " + ", ".join(verdict.reasons), now)
    if sender is None:
        raise MailParseError("no sender: neither a From: address nor an envelope sender")
    files = tuple(StoredFile(a.filename, a.content_type, len(a.data), desk.blobs.put(a.data))
                  for a in parsed.attachments)
    return Arrival(found.id, parsed, sender, verdict, files)


def _without_control_headers(parsed: ParsedMail) -> ParsedMail:
    """Forget maildesk's own control headers on mail from outside (S3): only we may set them, and
    the classifier has already read our loop header. Rules and threading never see them."""
    for name in {k for k in parsed.message if is_control_header(k)}:
        del parsed.message[name]
    return dataclasses.replace(parsed, headers=without_control_headers(parsed.headers))


def _envelope_sender(mail_from: str | None) -> Address | None:
    return Address(mail_from) if mail_from and "@" in mail_from else None
