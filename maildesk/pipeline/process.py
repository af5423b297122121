"""Process one stored inbound message into the ticket desk, in one transaction.

parse → classify → thread → apply (ticket, message, attachments, events,
outbox rows, inbound marked done) → commit. Running it twice on the same row
does nothing the second time; a failure leaves the row to be retried and,
after the configured number of attempts, quarantined with its reason.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from maildesk import metrics
from maildesk.config import Settings
from maildesk.domain import Address, Direction, InboundState, OutboxId, Status, TicketId
from maildesk.errors import MailParseError
from maildesk.mail.compose import OutgoingAttachment, UnsendableAddress
from maildesk.mail.limits import (
    MailLimits,
    is_control_header,
    raw_problem,
    shape_problem,
    without_control_headers,
)
from maildesk.mail.machine import MailKind, OwnIdentity, Verdict, classify
from maildesk.mail.parse import ParsedMail, parse_message
from maildesk.mail.quotes import split_reply
from maildesk.mail.tags import find_ticket_id
from maildesk.notices.notifier import Draft, MailSummary, Notifier, TicketSummary
from maildesk.pipeline import agent as agent_path
from maildesk.pipeline import selfservice
from maildesk.pipeline.agent import AgentDesk
from maildesk.pipeline.routing import (
    Routing,
    ack_template,
    apply_outcome,
    record_outcome,
    rule_notices,
    set_outcome,
)
from maildesk.policy import brakes
from maildesk.policy.brakes import BrakeLimits, SentCounts
from maildesk.policy.rules import RuleOutcome
from maildesk.policy.threading import FollowUp, NewTicket, ThreadDecision, ThreadFacts, decide_thread
from maildesk.store import repo, safety
from maildesk.store.blobs import BlobStore
from maildesk.store.db import Database, Session
from maildesk.store.models import Ticket
from maildesk.store.repo import LockedInbound
from maildesk.tickets.clock import TicketClock

log = logging.getLogger(__name__)
NOTICE_ATTACHMENT_LIMIT = 10 * 1024 * 1024
#: How long an address that bounced our mail for good gets nothing (Zammad's 60-day block, #4459).
UNDELIVERABLE_FOR = timedelta(days=60)


@dataclass(frozen=True)
class Outcome:
    """What processing one inbound row did; `outbox_ids` are to be delivered after the commit."""

    inbound_id: int
    state: InboundState | None
    ticket_id: TicketId | None = None
    outbox_ids: tuple[OutboxId, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class Desk:
    """What the pipeline works with, built once per process."""

    db: Database
    settings: Settings
    notifier: Notifier
    blobs: BlobStore
    secret: str = ""
    limits: MailLimits = field(default_factory=MailLimits)
    brake_limits: BrakeLimits = field(default_factory=BrakeLimits)
    undeliverable_for: timedelta = UNDELIVERABLE_FOR

    @functools.cached_property
    def agents(self) -> AgentDesk:
        """The agent path's view of the desk."""
        return AgentDesk(self.settings, self.notifier, self.blobs, self.secret, clock=self.clock)

    @functools.cached_property
    def selfservice(self) -> selfservice.SelfServiceDesk:
        """Status requests, requester commands, third parties and suggestions (issue #9)."""
        return selfservice.SelfServiceDesk(self.settings, self.notifier, self.blobs, self.secret,
                                           clock=self.clock)

    @functools.cached_property
    def routing(self) -> Routing:
        """Queues, calendars and rules compiled from the settings, once per process."""
        return Routing.from_settings(self.settings, self.notifier.renderer, datetime.now(UTC).date())

    @functools.cached_property
    def clock(self) -> TicketClock:
        """SLA due times and the auto-close clock, counted in the queues' calendars."""
        return TicketClock.from_settings(self.settings, self.routing.calendars)

    @property
    def own(self) -> OwnIdentity:
        """Our identity as the machine-mail classifier needs it."""
        return OwnIdentity(instance=self.notifier.identity.loop_token,
                           addresses=self.settings.desk.own_addresses,
                           message_id_domain=self.notifier.identity.message_id_domain)


@dataclass(frozen=True)
class _Ready:
    """A parsed and classified inbound mail, ready to be applied to the desk in a transaction."""

    inbound_id: int
    parsed: ParsedMail
    sender: Address
    verdict: Verdict
    blobs: tuple[str, ...]


def process_inbound(desk: Desk, inbound_id: int, now: datetime) -> Outcome:
    """Turn inbound row `inbound_id` into ticket changes; never raises for a bad message."""
    with desk.db.reading() as session:
        found = repo.inbound_batch_to_process(session, [inbound_id])
    ready = _prepare(desk, inbound_id, found.get(inbound_id), now)
    if isinstance(ready, Outcome):
        return ready
    try:
        with desk.db.transaction() as session:
            outcome = _apply(desk, session, ready, now)
    except MailParseError as exc:
        return _quarantine(desk, inbound_id, str(exc), now)
    except Exception as exc:  # A bug or a store failure must not kill the worker; count and retry.
        log.exception("inbound=%s processing failed", inbound_id)
        return _record_failure(desk, inbound_id, exc, now)
    return _counted(outcome)


def process_batch(desk: Desk, inbound_ids: Sequence[int], now: datetime) -> list[Outcome]:
    """`process_inbound` for several rows with one read and, as a rule, one write transaction.

    If anything fails the transaction rolls back and each row not yet committed is processed on
    its own, so a bad row still ends quarantined and the others are unaffected."""
    with desk.db.reading() as session:
        found = repo.inbound_batch_to_process(session, inbound_ids)
    outcomes: dict[int, Outcome] = {}
    ready: list[_Ready] = []
    for inbound_id in inbound_ids:
        prepared = _prepare(desk, inbound_id, found.get(inbound_id), now)
        if isinstance(prepared, Outcome):
            outcomes[inbound_id] = prepared
        else:
            ready.append(prepared)
    outcomes.update((o.inbound_id, o) for o in _apply_all(desk, ready, now))
    return [outcomes[i] for i in inbound_ids]


def _apply_all(desk: Desk, ready: list[_Ready], now: datetime) -> list[Outcome]:
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
        done += [_counted(o) for o in chunk]
    return done


def _counted(outcome: Outcome) -> Outcome:
    # Counted after the commit: a batch that is rolled back and retried must not count twice.
    if outcome.state is not None:
        metrics.count("processed")
    return outcome


def _prepare(desk: Desk, inbound_id: int, found: tuple[str, bytes, str | None] | None,
             now: datetime) -> _Ready | Outcome:
    """Check, parse and classify the stored mail (state, raw bytes, envelope sender) outside any
    write transaction; a mail that is gone, handled or cannot make a ticket gives its Outcome."""
    if found is None or found[0] != InboundState.RECEIVED:
        return Outcome(inbound_id, None, reason="already handled or unknown")
    _, raw, mail_from = found
    try:
        started = time.monotonic()
        problem = raw_problem(raw, desk.limits)
        if problem is not None:
            return _quarantine(desk, inbound_id, problem, now)
        parsed = parse_message(raw)
        problem = shape_problem(parsed.message, desk.limits)
        if problem is not None:
            return _quarantine(desk, inbound_id, problem, now)
        verdict = classify(parsed.message, mail_from, desk.own)
        parsed = _without_control_headers(parsed)
        elapsed = time.monotonic() - started
        if elapsed > desk.limits.process_seconds:
            return _quarantine(desk, inbound_id, f"parsing took {elapsed:.0f} s (budget "
                               f"{desk.limits.process_seconds:g} s)", now)
        sender = parsed.sender or _envelope_sender(mail_from)
        if sender is None and verdict.machine:
            return _set_aside(desk, inbound_id, InboundState.IGNORED,
                              "machine mail without a sender address: " + ", ".join(verdict.reasons), now)
        if sender is None:
            raise MailParseError("no sender: neither a From: address nor an envelope sender")
        blobs = tuple(desk.blobs.put(a.data) for a in parsed.attachments)
        return _Ready(inbound_id, parsed, sender, verdict, blobs)
    except MailParseError as exc:
        return _quarantine(desk, inbound_id, str(exc), now)
    except Exception as exc:  # A bug or a store failure must not kill the worker; count and retry.
        log.exception("inbound=%s processing failed", inbound_id)
        return _record_failure(desk, inbound_id, exc, now)


def _without_control_headers(parsed: ParsedMail) -> ParsedMail:
    """Forget maildesk's own control headers on mail from outside (S3): only we may set them, and
    the classifier has already read our loop header. Rules and threading never see them."""
    for name in {k for k in parsed.message if is_control_header(k)}:
        del parsed.message[name]
    return dataclasses.replace(parsed, headers=without_control_headers(parsed.headers))


def _envelope_sender(mail_from: str | None) -> Address | None:
    return Address(mail_from) if mail_from and "@" in mail_from else None


def _apply(desk: Desk, session: Session, ready: _Ready, now: datetime) -> Outcome:
    """Apply one prepared mail inside the caller's write transaction."""
    inbound_id, parsed, sender, verdict, blobs = (ready.inbound_id, ready.parsed, ready.sender, ready.verdict,
                                                  ready.blobs)
    row = repo.lock_inbound(session, inbound_id)
    if row is None or row.state != InboundState.RECEIVED:
        return Outcome(inbound_id, None, reason="handled by another worker")
    # Every path below ends in _finish, which records the verdict with the outcome.
    _finish = functools.partial(_finished, session, verdict)
    if verdict.kind is MailKind.OWN:
        return _finish(row, InboundState.IGNORED, None, (), "our own mail came back: " +
                       ", ".join(verdict.reasons), now)
    if parsed.message_id:
        # Only the same mail again (same id, sender, subject and text) is a duplicate: senders do
        # reuse Message-IDs for different mail, and that mail must not vanish (D5b).
        done = safety.ticket_with_same_mail(session, parsed.message_id, sender.key, parsed.subject,
                                            parsed.text)
        if done is not None:
            return _finish(row, InboundState.DUPLICATE, TicketId(done), (),
                           "the same mail (Message-ID, sender, subject, text) is on a ticket", now)
    taken = selfservice.intercept(desk.selfservice, session, parsed, row, sender, verdict, blobs, now)
    if taken is not None:  # A status request or a third party's answer: never a ticket or a reply.
        ids = _to_outbox(desk, session, taken.ticket_id, list(taken.drafts), now)
        return _finish(row, taken.state, TicketId(taken.ticket_id) if taken.ticket_id else None, ids,
                       taken.reason, now)
    auth, agent = agent_path.identify(desk.agents, session, parsed, row, sender)
    if agent is not None:
        ticket_id, drafts, reason = agent_path.handle(desk.agents, session, agent, parsed, row, blobs,
                                                      verdict.machine, now)
        ids = _to_outbox(desk, session, ticket_id, drafts, now)
        return _finish(row, InboundState.DONE, TicketId(ticket_id) if ticket_id else None, ids, reason,
                       now)
    decision = _decide(desk, session, parsed, sender, verdict, now)
    decision, command = selfservice.requester_command(session, decision, parsed, sender, verdict)
    ticket, drafts = _carry_out(desk, session, decision, parsed, sender, verdict, row, blobs, now)
    drafts.extend(selfservice.carry_out_command(desk.selfservice, session, ticket, command, now))
    drafts.extend(_bounce_consequences(desk, session, ticket, verdict, now))
    if auth.failed_claim:
        # From: names an agent but nothing proves it: handled as a requester's mail, and recorded.
        log.warning("inbound=%s failed agent authentication for %s: %s", row.id, sender.key, auth.reason)
        repo.add_event(session, ticket.id, now, "system", "agent_auth_failed", auth.reason,
                       sender=sender.key)
    ids = _to_outbox(desk, session, ticket.id, drafts, now)
    return _finish(row, InboundState.DONE, TicketId(ticket.id), ids, decision.reason, now)


def _to_outbox(desk: Desk, session: Session, ticket_id: int | None, drafts: list[Draft],
               now: datetime) -> tuple[OutboxId, ...]:
    """Store the drafts the brakes let through; a held one leaves an event saying why (L4)."""
    ids: list[OutboxId] = []
    for d in drafts:
        held = _brake(desk, session, d, now)
        if held is not None:
            log.error("ticket=%s %s to %s held: %s", ticket_id, d.kind, ", ".join(d.rcpt_to), held)
            if ticket_id is not None:
                repo.add_event(session, ticket_id, now, "system", "brake", held, mail_kind=d.kind,
                               to=list(d.rcpt_to))
            continue
        ids.append(OutboxId(repo.add_outbox(session, ticket_id, d.kind, d.message_id, d.mail_from,
                                            d.rcpt_to, d.raw, now)))
    return tuple(ids)


def _brake(desk: Desk, session: Session, draft: Draft, now: datetime) -> str | None:
    """Why `draft` must not be written now, or None. Counts what the outbox already holds."""
    if not brakes.is_braked_kind(draft.kind) or not draft.rcpt_to:
        return None
    to = draft.rcpt_to[0].lower()
    spans = brakes.windows(draft.kind, desk.brake_limits)
    same, day = safety.sent_counts(session, to, draft.kind,
                                   now - spans["same_kind"] if "same_kind" in spans else None,
                                   now - spans["automatic_day"])
    counts = SentCounts(same_kind=same, automatic_day=day)
    decision = brakes.decide(draft.kind, to, counts, desk.brake_limits)
    return None if decision.send else decision.reason


def _finished(session: Session, verdict: Verdict, row: LockedInbound, state: InboundState,
              ticket_id: TicketId | None, ids: tuple[OutboxId, ...], reason: str, now: datetime) -> Outcome:
    repo.update_inbound(session, row.id, state=state, ticket_id=ticket_id, processed_at=now, error="",
                        verdict=verdict.kind.value, verdict_reasons=list(verdict.reasons))
    log.info("inbound=%s message-id=<%s> ticket=%s %s: %s", row.id, row.message_id, ticket_id, state, reason)
    return Outcome(row.id, state, ticket_id, ids, reason)


def _decide(desk: Desk, session: Session, parsed: ParsedMail, sender: Address, verdict: Verdict,
            now: datetime) -> ThreadDecision:
    tag = find_ticket_id(parsed.subject, desk.settings.desk.instance)
    # Locked: a second reply to the same ticket, on another worker, waits until this one commits.
    tagged = repo.ticket_view(session, tag, lock=True) if tag is not None else None
    cited = parsed.thread_ids
    if verdict.original_message_id:
        # A delivery report names the mail of ours it is about: that is where it belongs (L2d).
        cited = (verdict.original_message_id, *cited)
    nearest, ours = repo.tickets_cited(session, cited)
    referenced = repo.ticket_view(session, nearest, lock=True) if nearest is not None else None
    return decide_thread(ThreadFacts(
        sender=sender.key, tagged=tagged, referenced=referenced, cites_our_mail_on=ours,
        machine=verdict.machine, now=now, reopen_closed_days=desk.settings.tickets.reopen_closed_days))


def _carry_out(desk: Desk, session: Session, decision: ThreadDecision, parsed: ParsedMail, sender: Address,
               verdict: Verdict, row: LockedInbound, blobs: tuple[str, ...],
               now: datetime) -> tuple[Ticket, list[Draft]]:
    requester = repo.contact_for(session, sender, now)
    if isinstance(decision, NewTicket):
        ticket, outcome = _open_ticket(desk, session, decision, parsed, requester.id, verdict, row, now)
    else:
        ticket = _follow_up(session, decision, requester.id, verdict, now)
        outcome = desk.routing.evaluate(parsed, row.rcpt_to, row.received_at, ticket.queue, source=row.source)
        apply_outcome(session, ticket, outcome, False, now)
        desk.clock.update(ticket, now)  # A reopened ticket, or rules changed priority: due times follow.
    # Machine mail on an existing ticket is kept for the team as an internal entry: it is not the
    # requester's reply (no SLA clock, no reopening) and is never quoted to anyone.
    internal = verdict.machine and isinstance(decision, FollowUp)
    direction = Direction.INTERNAL if internal else Direction.INBOUND
    new_text = split_reply(parsed.text).new_text if isinstance(decision, FollowUp) else parsed.text
    repo.add_message(session, repo.NewMessage(
        ticket_id=ticket.id, inbound_id=row.id, direction=direction, message_id=parsed.message_id,
        from_email=sender.key, from_name=sender.name, subject=parsed.subject, text=parsed.text,
        new_text=new_text, verdict=verdict.kind.value, verdict_reasons=verdict.reasons, created_at=now),
        parsed.attachments, blobs)
    summary = MailSummary(sender=sender, text=new_text,
                          attachments=tuple(a.filename for a in parsed.attachments),
                          message_id=parsed.message_id, references=parsed.references,
                          files=_forwardable(parsed))
    # A new ticket's requester is the sender just stored: no need to read the participants back.
    known = Address(requester.email, requester.name) if isinstance(decision, NewTicket) else None
    return ticket, _notices(desk, session, ticket, decision, summary, verdict, outcome, now, known)


def _forwardable(parsed: ParsedMail) -> tuple[OutgoingAttachment, ...]:
    # Agents get the files with the notice unless they are too big for a mailbox; then only the names.
    if sum(len(a.data) for a in parsed.attachments) > NOTICE_ATTACHMENT_LIMIT:
        return ()
    return tuple(OutgoingAttachment(a.filename, a.content_type, a.data) for a in parsed.attachments)


def _open_ticket(desk: Desk, session: Session, decision: NewTicket, parsed: ParsedMail, requester_id: int,
                 verdict: Verdict, row: LockedInbound, now: datetime) -> tuple[Ticket, RuleOutcome]:
    ticket = Ticket(subject=parsed.subject[:2000], status=Status.NEW, priority="normal", category="other",
                    queue="", language=desk.settings.desk.language, requester_id=requester_id,
                    linked_ticket_id=decision.linked_to, close_reason="", created_at=now, updated_at=now,
                    type="request", tier="", tags=[], spam=False, sla_policy="", paused_seconds=0,
                    clock_status="", sla_sent="", reminders_sent=0)
    # Rules (which see the instant the mail arrived) and due times first, so the row is written
    # once and whole: one INSERT instead of an INSERT and an UPDATE.
    outcome = desk.routing.evaluate(parsed, row.rcpt_to, row.received_at, None, source=row.source)
    rules_detail = set_outcome(session, ticket, outcome, True)
    desk.clock.update(ticket, now)
    repo.insert_ticket(session, ticket)
    repo.add_participant(session, ticket.id, requester_id, "requester")
    for address in (*parsed.to, *parsed.cc):
        if address.key not in desk.settings.desk.own_addresses:
            repo.add_participant(session, ticket.id, repo.contact_for(session, address, now).id, "cc")
    repo.add_event(session, ticket.id, now, "system", "created", decision.reason,
                   verdict=verdict.kind.value, linked_to=decision.linked_to)
    record_outcome(session, ticket.id, outcome, rules_detail, now)
    return ticket, outcome


def _follow_up(session: Session, decision: FollowUp, requester_id: int, verdict: Verdict,
               now: datetime) -> Ticket:
    ticket = session.get(Ticket, decision.ticket_id)
    assert ticket is not None  # threading only names tickets it found in this transaction
    if verdict.machine:
        # A robot neither joins the ticket nor moves it: no participant, no status, no updated_at.
        repo.add_event(session, ticket.id, now, "system", "machine_mail", decision.reason,
                       verdict=verdict.kind.value, reasons=list(verdict.reasons))
        return ticket
    repo.add_participant(session, ticket.id, requester_id, "cc")
    actor = f"contact:{requester_id}"
    repo.add_event(session, ticket.id, now, actor, "reply", decision.reason, verdict=verdict.kind.value)
    if decision.new_status is not None and decision.new_status != ticket.status:
        repo.add_event(session, ticket.id, now, actor, "status", decision.reason,
                       old=ticket.status, new=decision.new_status)
        ticket.status = decision.new_status
        ticket.closed_at = None
        ticket.close_reason = ""
    ticket.updated_at = now
    return ticket


def _notices(desk: Desk, session: Session, ticket: Ticket, decision: ThreadDecision, mail: MailSummary,
             verdict: Verdict, outcome: RuleOutcome, now: datetime,
             requester: Address | None = None) -> list[Draft]:
    if verdict.machine:
        # Never answer a machine, and do not wake agents for it either; it is on the ticket.
        repo.add_event(session, ticket.id, now, "system", "suppressed", "machine mail: " +
                       ", ".join(verdict.reasons))
        return []
    summary = agent_path.ticket_summary(session, ticket, requester)
    drafts: list[Draft] = []
    if isinstance(decision, NewTicket):
        drafts.extend(_acknowledgement(desk, session, ticket, summary, mail, outcome, now))
    kind = "agent_new" if isinstance(decision, NewTicket) else "agent_reply"
    # A queue that names its agents notifies only them; spam wakes nobody.
    for agent_id, agent in [] if ticket.spam else _agents_to_notify(desk, session, ticket):
        if agent.key != mail.sender.key:
            drafts.append(desk.notifier.agent_notice(kind, summary, agent, mail, now,
                                                     reply_to=desk.agents.reply_to(ticket.id, agent_id)))
    drafts.extend(rule_notices(desk.notifier, summary, mail, outcome, now))
    return drafts


def _bounce_consequences(desk: Desk, session: Session, ticket: Ticket, verdict: Verdict,
                         now: datetime) -> list[Draft]:
    """A report that our mail bounced: the outbox row fails, a hard-bounced address gets nothing for
    the block period, and the assignee (else the ticket's agents) hears of it (L2d)."""
    if verdict.kind is not MailKind.BOUNCE or not verdict.original_message_id:
        return []
    sent = safety.outbox_by_message_id(session, verdict.original_message_id)
    if sent is None:
        return []
    failed = [a for a in verdict.bounced_recipients if a in {r.lower() for r in sent.rcpt_to}] or \
        [r.lower() for r in sent.rcpt_to]
    why = "bounced: " + ", ".join(verdict.reasons)
    safety.mark_bounced(session, sent.id, why)
    if verdict.hard_bounce:
        for address in failed:
            safety.block_address(session, address, now + desk.undeliverable_for, why, sent.id, now)
    repo.add_event(session, ticket.id, now, "system", "bounce", why, outbox_id=sent.id, mail_kind=sent.kind,
                   addresses=failed, hard=bool(verdict.hard_bounce))
    summary = agent_path.ticket_summary(session, ticket)
    text = (f"Our {sent.kind} mail to {', '.join(failed)} bounced "
            f"({'permanent' if verdict.hard_bounce else 'temporary'} failure).\n" +
            (f"No more mail goes to that address for {desk.undeliverable_for.days} days.\n"
             if verdict.hard_bounce else "") + "Reasons: " + ", ".join(verdict.reasons))
    me = Address(desk.notifier.identity.address, desk.notifier.identity.name)
    targets = _agents_to_notify(desk, session, ticket)
    assignee = [(i, a) for i, a in targets if i == ticket.assignee_id]
    return [desk.notifier.agent_note(summary, agent, me, text, now,
                                     reply_to=desk.agents.reply_to(ticket.id, agent_id))
            for agent_id, agent in assignee or targets]


def _agents_to_notify(desk: Desk, session: Session, ticket: Ticket) -> list[tuple[int, Address]]:
    """`all`: every active agent; `queue`: the queue's team if it names one; `assignee`: the
    assignee once there is one, else as `queue`."""
    agents = repo.active_agents_with_ids(session)
    mode = desk.settings.agents.notify
    if mode == "assignee" and ticket.assignee_id is not None:
        return [(i, a) for i, a in agents if i == ticket.assignee_id]
    team = desk.routing.queue_agents(ticket.queue) if mode != "all" else frozenset()
    return [(i, a) for i, a in agents if not team or a.key in team]


def _acknowledgement(desk: Desk, session: Session, ticket: Ticket, summary: TicketSummary, mail: MailSummary,
                     outcome: RuleOutcome, now: datetime) -> list[Draft]:
    if outcome.spam or outcome.suppress_ack:
        why = "spam" if outcome.spam else "suppress_ack"
        repo.add_event(session, ticket.id, now, "system", "suppressed",
                       f"acknowledgement withheld by rules: {why}")
        return []
    template = ack_template(desk.notifier.renderer, ticket.category, ticket.language)
    try:
        articles = selfservice.ack_articles(desk.selfservice, session, ticket, mail, now)
        return [desk.notifier.acknowledgement(summary, mail, now, template, articles)]
    except UnsendableAddress as exc:
        # The ticket stands; only the acknowledgement cannot be written to this address.
        log.warning("ticket=%s acknowledgement not sent: %s", ticket.id, exc)
        repo.add_event(session, ticket.id, now, "system", "suppressed", f"acknowledgement not sent: {exc}")
        return []


def _quarantine(desk: Desk, inbound_id: int, reason: str, now: datetime) -> Outcome:
    return _set_aside(desk, inbound_id, InboundState.QUARANTINED, reason, now)


def _set_aside(desk: Desk, inbound_id: int, state: InboundState, reason: str, now: datetime) -> Outcome:
    """Keep the raw mail but make no ticket of it: quarantined (broken) or ignored (a robot's)."""
    with desk.db.transaction() as session:
        row = repo.lock_inbound(session, inbound_id)
        if row is None or row.state != InboundState.RECEIVED:
            return Outcome(inbound_id, None, reason="handled by another worker")
        repo.update_inbound(session, inbound_id, state=state, error=reason, processed_at=now)
    metrics.count("quarantined" if state is InboundState.QUARANTINED else "processed")
    log.warning("inbound=%s %s: %s", inbound_id, state, reason)
    return Outcome(inbound_id, state, reason=reason)


def _record_failure(desk: Desk, inbound_id: int, exc: Exception, now: datetime) -> Outcome:
    detail = "".join(traceback.format_exception_only(exc)).strip()
    try:
        with desk.db.transaction() as session:
            row = repo.lock_inbound(session, inbound_id)
            if row is None or row.state != InboundState.RECEIVED:
                return Outcome(inbound_id, None, reason="handled by another worker")
            attempts = row.attempts + 1
            repo.update_inbound(session, inbound_id, attempts=attempts, error=detail)
            if attempts >= desk.settings.sweep.max_process_attempts:
                repo.update_inbound(session, inbound_id, state=InboundState.QUARANTINED, processed_at=now)
                metrics.count("quarantined")
                log.error("inbound=%s quarantined after %d attempts: %s", inbound_id, attempts, detail)
                return Outcome(inbound_id, InboundState.QUARANTINED, reason=detail)
    except Exception:  # The store itself is down: the sweep will find the row still received.
        log.exception("inbound=%s could not record the failure", inbound_id)
    return Outcome(inbound_id, None, reason=detail)
