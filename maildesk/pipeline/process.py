"""Process stored inbound mail into the ticket desk: prepare, pick the handler for its kind, commit.

prepare (outside any write transaction: parse, classify, files to the blob store) → in one
transaction: lock the row, pick the handler — our own mail come back, a duplicate, a status request,
a third party's answer, an agent's mail, else a requester's (with what a bounce of our mail means) —
let it apply its ticket change, pass its drafts through the outbound gate, mark the row done →
commit. Running it twice on one row does nothing the second time; a failure leaves the row to be
retried and, after the configured number of attempts, quarantined with its reason.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Sequence
from datetime import datetime

from maildesk.domain import InboundState, TicketId
from maildesk.domain.ticket import Record
from maildesk.errors import MailParseError
from maildesk.mail.alignment import domain_of
from maildesk.mail.fingerprint import fingerprint
from maildesk.mail.machine import MailKind
from maildesk.notices.notifier import Draft
from maildesk.outbound.gate import Answering, Posting, admit
from maildesk.pipeline import agent, bounces, requester, satisfaction, status_request, third_party
from maildesk.pipeline.context import Desk
from maildesk.pipeline.outcome import Handled, Outcome, counted, gone, quarantine, record_failure
from maildesk.pipeline.prepare import Arrival, prepare
from maildesk.pipeline.turn import Turn
from maildesk.policy import imports
from maildesk.store import inbound, messages
from maildesk.store.db import Session

log = logging.getLogger(__name__)
#: Held while one large mail (over maildesk.store.inbound.LARGE) is prepared and applied.
ONE_LARGE_MAIL = threading.Lock()


def process_inbound(desk: Desk, inbound_id: int, now: datetime) -> Outcome:
    """Turn inbound row `inbound_id` into ticket changes; never raises for a bad message. A large mail
    waits for the other large mails of this process: parsed, they take several times their size, and
    a process handling one at a time stays bounded however many arrive at once."""
    with desk.db.reading() as session:
        found = inbound.to_process(session, [inbound_id]).get(inbound_id)
    if found is not None and found.raw is None:
        with ONE_LARGE_MAIL:
            return _process_one(desk, inbound_id, found, now)
    return _process_one(desk, inbound_id, found, now)


def _process_one(desk: Desk, inbound_id: int, found: inbound.StoredInbound | None, now: datetime) -> Outcome:
    ready = prepare(desk, inbound_id, found, now)
    if isinstance(ready, Outcome):
        return ready
    try:
        with desk.db.transaction() as session:
            outcome = _apply(desk, session, ready, now)
    except MailParseError as exc:
        return quarantine(desk, inbound_id, str(exc), now)
    except Exception as exc:  # A bug or a store failure must not kill the worker; count and retry.
        log.exception("inbound=%s processing failed", inbound_id)
        return record_failure(desk, inbound_id, exc, now)
    return counted(outcome)


def process_batch(desk: Desk, inbound_ids: Sequence[int], now: datetime) -> list[Outcome]:
    """`process_inbound` for several rows with one read and, as a rule, one write transaction.

    If anything fails the transaction rolls back and each row not yet committed is processed on
    its own, so a bad row still ends quarantined and the others are unaffected."""
    # The same bytes delivered twice are one row queued twice: it is processed once, and only its
    # first outcome hands the outbox rows on (a second look would find it done, with nothing to send).
    distinct = list(dict.fromkeys(inbound_ids))
    with desk.db.reading() as session:
        found = inbound.to_process(session, distinct)
    outcomes: dict[int, Outcome] = {}
    ready: list[Arrival] = []
    large = [i for i in distinct if i in found and found[i].raw is None]
    for inbound_id in (i for i in distinct if i not in large):
        prepared = prepare(desk, inbound_id, found.get(inbound_id), now)
        if isinstance(prepared, Outcome):
            outcomes[inbound_id] = prepared
        else:
            ready.append(prepared)
    outcomes.update((o.inbound_id, o) for o in _apply_all(desk, ready, now))
    outcomes.update((i, process_inbound(desk, i, now)) for i in large)  # each alone, in its turn
    handed: set[int] = set()
    result = []
    for inbound_id in inbound_ids:
        outcome = outcomes[inbound_id]
        result.append(outcome if inbound_id not in handed else dataclasses.replace(outcome, outbox_ids=()))
        handed.add(inbound_id)
    return result


def _apply_all(desk: Desk, ready: list[Arrival], now: datetime) -> list[Outcome]:
    """Apply `ready` in as few transactions as the intake allows: the transaction is committed
    early whenever the intake waits for the writer lock, so a 250 never waits for a whole batch."""
    done: list[Outcome] = []
    left = list(ready)
    while left:
        try:
            with desk.db.transaction() as session:
                chunk: list[Outcome] = []
                while left and not (chunk and desk.db.writer_waiting()):
                    chunk.append(_apply(desk, session, left[0], now))
                    left.pop(0)
        except Exception:  # Expected or not, one row at a time now finds and isolates the culprit.
            failed = ready[len(done):]
            log.warning("a batch of %d inbound rows failed; processing them one by one", len(failed),
                        exc_info=True)
            return done + [process_inbound(desk, r.inbound_id, now) for r in failed]
        done += [counted(o) for o in chunk]
    return done


def _apply(desk: Desk, session: Session, mail: Arrival, now: datetime) -> Outcome:
    """Apply one prepared mail inside the caller's write transaction."""
    row = inbound.lock(session, mail.inbound_id)
    if row is None or row.state != InboundState.RECEIVED:
        return gone(mail.inbound_id, "handled by another worker")
    # Mail arriving now happens now; an imported mail happened at its own Date:.
    when = imports.instant(row.source, mail.parsed.date, now)
    handled = _handled(Turn(desk, session, mail, row, when))
    drafts = _silenced(desk, session, row.source, handled, when)
    answering = _answering(mail, row) if drafts else Answering()
    ids = admit(session, desk.gate, [Posting(handled.ticket_id, d, answering) for d in drafts], when)
    verdict = mail.verdict
    inbound.finish(session, row.id, handled.state, handled.ticket_id, verdict.kind.value, verdict.reasons,
                   now)
    log.info("inbound=%s message-id=<%s> ticket=%s %s: %s", row.id, row.message_id, handled.ticket_id,
             handled.state, handled.reason)
    return Outcome(row.id, handled.state, handled.ticket_id, tuple(ids), handled.reason)


def _answering(mail: Arrival, row: inbound.LockedInbound) -> Answering:
    """What the brakes on answers count this mail by: the client that handed it over, when it is a
    client on the internet (SMTP; an LMTP peer is our own MTA, and IMAP and the pipe have none), and
    its fingerprint, from that client or else the sender's domain."""
    client = row.client_ip or "" if row.source == "smtp" else ""
    origin = client or domain_of(mail.sender.email)
    return Answering(client, fingerprint(mail.parsed.subject, mail.parsed.text, origin))


def _handled(t: Turn) -> Handled:
    """The handler for this kind of mail, and what it made of it."""
    verdict = t.mail.verdict
    if verdict.kind is MailKind.OWN:
        return Handled(InboundState.IGNORED, None, (),
                       "our own mail came back: " + ", ".join(verdict.reasons))
    duplicate = _duplicate_of(t.session, t.mail)
    if duplicate is not None:
        return Handled(InboundState.DUPLICATE, TicketId(duplicate), (),
                       "the same mail (Message-ID, sender, subject, text) is on a ticket")
    if status_request.is_status_request(t):
        return status_request.take(t)
    answer = third_party.recognise(t)
    if answer is not None:  # A third party's answer: never a ticket or a public reply.
        return third_party.take(t, answer)
    rated = satisfaction.recognise(t)
    if rated is not None:  # A rating answering the survey: an event, never a reopened ticket.
        return satisfaction.take(t, rated)
    auth, agent_mail = agent.identify(t)
    if agent_mail is not None:
        return agent.take(t, agent_mail)
    handled, ticket = requester.take(t)
    notes = bounces.consequences(t, ticket)
    if auth.failed_claim:
        log.warning("inbound=%s failed agent authentication for %s: %s", t.row.id, t.mail.sender.key,
                    auth.reason)
        requester.failed_agent_claim(t, ticket.id, auth)
    return Handled(handled.state, handled.ticket_id, (*handled.drafts, *notes), handled.reason)


def _silenced(desk: Desk, session: Session, source: str, handled: Handled,
              when: datetime) -> tuple[Draft, ...]:
    """The drafts for the gate: none at all for a silent import (an agent's imported reply too: it
    was sent when it was written), which the ticket records."""
    if not handled.drafts or not imports.silent(source):
        return handled.drafts
    if handled.ticket_id is not None:
        desk.writer.record(session, handled.ticket_id, when, "system", Record(
            "suppressed", imports.SILENT_REASON, {"drafts": [d.kind for d in handled.drafts]}))
    return ()


def _duplicate_of(session: Session, mail: Arrival) -> int | None:
    """The ticket already holding this very mail. Only the same mail again (same id, sender, subject
    and text) is a duplicate: senders do reuse Message-IDs for different mail, and that must not
    vanish (D5b)."""
    parsed = mail.parsed
    if not parsed.message_id:
        return None
    # Another worker may hold a copy of this mail right now: look once it has committed.
    messages.hold_message_id(session, parsed.message_id)
    return messages.ticket_with_same_mail(session, parsed.message_id, mail.sender.key, parsed.subject,
                                          parsed.text)
