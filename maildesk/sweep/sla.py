"""The periodic SLA and auto-close sweep: the shell around maildesk.policy.sla and maildesk.policy.closure.

Reads only tickets whose ``next_check_at`` is due (an index range scan), lets the
pure decisions say what is owed, and in one transaction per batch closes,
reminds, escalates, writes events and outbox rows and moves ``next_check_at``
on. The rows are read inside the write transaction (SQLite's single writer;
``FOR UPDATE SKIP LOCKED`` on PostgreSQL), and acting moves ``next_check_at``
past now, so two sweeps at once never act twice on one ticket.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from maildesk.domain import Address, Status
from maildesk.notices.notifier import Draft, Notifier, TicketSummary
from maildesk.notices.render import ContextValue
from maildesk.policy.closure import ClosureStep, close_at, decide_closure
from maildesk.policy.sla import Alert, SlaCheck, check_sla
from maildesk.store import queries_sla, repo
from maildesk.store.db import Database, Session
from maildesk.store.queries_sla import DueTicket
from maildesk.tickets.clock import TicketClock, clock_of

log = logging.getLogger(__name__)
ACTOR = "system:sweep"
BATCH = 2000
#: A ticket whose next check would still be due after acting is looked at again this much later,
#: so a surprise in the decisions can never make the sweep spin on one row.
RETRY_GAP = timedelta(minutes=1)


@dataclass(frozen=True)
class SweepAction:
    """One thing the sweep did (or, in a dry run, would do) to a ticket."""

    ticket_id: int
    action: str
    reason: str


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did: the actions, the outbox rows to deliver, how many tickets it looked at."""

    actions: tuple[SweepAction, ...] = ()
    outbox_ids: tuple[int, ...] = ()
    checked: int = 0


@dataclass(frozen=True)
class SweepDesk:
    """What the sweep needs: the store, the notifier, the clock and whom SLA notices go to."""

    db: Database
    notifier: Notifier
    clock: TicketClock
    reply_to: Callable[[int, int], Address] | None = None
    agent_language: str = "en"  # SLA notices go to agents, in the desk's language


@dataclass(frozen=True)
class _Plan:
    step: ClosureStep
    sla: SlaCheck

    def actions(self, ticket_id: int) -> list[SweepAction]:
        out = []
        if self.step.close:
            out.append(SweepAction(ticket_id, f"close:{self.step.close}", self.step.reason))
        elif self.step.remind:
            out.append(SweepAction(ticket_id, f"remind:{self.step.remind}", self.step.reason))
        out += [SweepAction(ticket_id, f"sla_{a.level}:{a.target}", a.reason) for a in self.sla.alerts]
        return out


@dataclass
class _Batch:
    context: queries_sla.BatchContext
    actions: list[SweepAction] = field(default_factory=list)
    writes: repo.Writes = field(default_factory=repo.Writes)


def sweep_tickets(sd: SweepDesk, now: datetime, dry_run: bool = False, batch: int = BATCH) -> SweepResult:
    """Close, remind and escalate every ticket due at `now`; with `dry_run`, only say what would happen."""
    if dry_run:
        return _dry_run(sd, now)
    actions: list[SweepAction] = []
    outbox: list[int] = []
    checked = 0
    while True:
        with _collector_paused():
            done = _sweep_batch(sd, now, batch)
        checked += done.checked
        actions += done.actions
        outbox += done.outbox_ids
        if done.checked < batch:
            break
    if actions:
        log.info("sweep: %d tickets checked, %d actions", checked, len(actions))
    return SweepResult(tuple(actions), tuple(outbox), checked)


def _sweep_batch(sd: SweepDesk, now: datetime, batch: int) -> SweepResult:
    """One transaction: claim up to `batch` due tickets, act on them, write everything back."""
    with sd.db.transaction() as session:
        tickets = queries_sla.due_tickets(session, now, batch)
        plans = [(t, _plan(sd.clock, t, now)) for t in tickets]
        # One round of queries for the whole batch instead of several per ticket.
        done = _Batch(queries_sla.batch_context(session, [t.id for t in tickets],
                                                [t.id for t, p in plans if p.step.close]))
        for ticket, plan in plans:
            _sweep_one(sd, session, ticket, plan, now, done)
        outbox = done.writes.flush(session)
        queries_sla.save_due(session, tickets)
    return SweepResult(tuple(done.actions), tuple(outbox), len(tickets))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold Python's cyclic garbage collector while one batch runs.

    A batch keeps tens of thousands of objects alive until it commits, and as they pile up the
    collector walks them, and in its full passes every object of the process, again and again (a
    full pass over a desk's ~100,000 long-lived objects costs about 0.1 s; a 10,000-ticket sweep
    made three or four). Reference counting still frees whatever the batch drops, and by the time
    the collector is back the batch's objects are gone; only reference cycles wait for it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _dry_run(sd: SweepDesk, now: datetime) -> SweepResult:
    with sd.db.reading() as session:
        tickets = queries_sla.due_tickets(session, now, limit=10**9, lock=False)
        actions = [a for t in tickets for a in _plan(sd.clock, t, now).actions(t.id)]
    return SweepResult(tuple(actions), (), len(tickets))


def _plan(clock: TicketClock, ticket: DueTicket, now: datetime) -> _Plan:
    cal = clock.calendar_for(ticket.queue)
    state = clock_of(ticket)
    step = decide_closure(clock.closure_for(ticket), ticket.status, state.waiting_since,
                          state.reminders_sent, cal, now)
    sla = check_sla(clock.policy_for(ticket), state, cal, now, clock.sla.warn_at,
                    clock.sla.pause_while_pending)
    if step.close:
        # Closing ends every promise; a warning now would only be noise.
        sla = SlaCheck((), frozenset(), None)
    return _Plan(step, sla)


def _sweep_one(sd: SweepDesk, session: Session, ticket: DueTicket, plan: _Plan, now: datetime,
               done: _Batch) -> None:
    done.actions += plan.actions(ticket.id)
    if plan.step.close:
        _close(sd, session, ticket, plan.step, now, done)
    elif plan.step.remind:
        _remind(sd, session, ticket, plan.step, now, done)
    for alert in plan.sla.alerts:
        _escalate(sd, session, ticket, alert, now, done)
    if plan.sla.marks:
        ticket.sla_sent = ",".join(sorted({*filter(None, ticket.sla_sent.split(",")), *plan.sla.marks}))
    sd.clock.update(ticket, now)
    if ticket.next_check_at is not None and ticket.next_check_at <= now:
        log.warning("ticket=%s still due after the sweep acted; looking again later", ticket.id)
        ticket.next_check_at = now + RETRY_GAP


def _close(sd: SweepDesk, session: Session, ticket: DueTicket, step: ClosureStep, now: datetime,
           done: _Batch) -> None:
    # What was done so far, read before the closure itself joins the list.
    history: dict[str, ContextValue] = {
        "close_reason": step.close,
        "agent_replies": [_line(h) for h in done.context.replies.get(ticket.id, [])],
        "actions": [_line(h) for h in done.context.actions.get(ticket.id, [])],
    }
    old = ticket.status
    ticket.status, ticket.closed_at, ticket.close_reason = Status.CLOSED, now, step.close
    ticket.updated_at = now
    done.writes.event(ticket.id, now, ACTOR, "status", step.reason, old=old, new=Status.CLOSED,
                   close_reason=step.close)
    if not ticket.spam:
        _to_requester(sd, session, ticket, "autoclosed", history, now, done)


def _remind(sd: SweepDesk, session: Session, ticket: DueTicket, step: ClosureStep, now: datetime,
            done: _Batch) -> None:
    ticket.reminders_sent = step.reminders_due
    cal = sd.clock.calendar_for(ticket.queue)
    closes = close_at(sd.clock.closure_for(ticket), ticket.waiting_since or now, cal)
    done.writes.event(ticket.id, now, ACTOR, "reminder", step.reason, number=step.remind,
                   closes_at=closes.isoformat() if closes else None)
    if ticket.spam:
        return
    local = closes.astimezone(cal.zone) if closes else None
    extra: dict[str, ContextValue] = {"reminder": step.remind,
                                      "closes_at": f"{local:%Y-%m-%d %H:%M %Z}" if local else ""}
    _to_requester(sd, session, ticket, "reminder", extra, now, done)


def _to_requester(sd: SweepDesk, session: Session, ticket: DueTicket, kind: str,
                  extra: dict[str, ContextValue], now: datetime, done: _Batch) -> None:
    people = done.context.people.get(ticket.id, [])
    if not people:
        return  # a ticket nobody is on (imported oddity): nothing to send
    thread = done.context.threads.get(ticket.id, [])
    draft = sd.notifier.ticket_notice(kind, _summary(ticket, people[0]), people, extra, thread, now)
    _store(done, ticket.id, draft, now)


def _escalate(sd: SweepDesk, session: Session, ticket: DueTicket, alert: Alert, now: datetime,
              done: _Batch) -> None:
    recipients = _sla_recipients(sd, done.context.agents, ticket)
    done.writes.event(ticket.id, now, ACTOR, f"sla_{alert.level}", alert.reason, target=alert.target,
                   due=alert.due.isoformat(), policy=ticket.sla_policy, to=[a.email for _, a in recipients])
    local = alert.due.astimezone(sd.clock.calendar_for(ticket.queue).zone)
    extra: dict[str, ContextValue] = {"target": alert.target, "due": f"{local:%Y-%m-%d %H:%M %Z}",
                                      "policy": ticket.sla_policy, "queue": ticket.queue}
    people = done.context.people.get(ticket.id) or [Address("")]
    summary = _summary(ticket, people[0], sd.agent_language)
    for agent_id, address in recipients:
        reply_to = sd.reply_to(ticket.id, agent_id) if sd.reply_to and agent_id else None
        draft = sd.notifier.ticket_notice(f"sla_{alert.level}", summary, [address], extra, [], now,
                                          reply_to=reply_to)
        _store(done, ticket.id, draft, now)


def _sla_recipients(sd: SweepDesk, agents: list[tuple[int, Address]],
                    ticket: DueTicket) -> list[tuple[int, Address]]:
    """`assignee` (or the queue while unassigned), `queue` (its agents, else every active agent),
    and literal addresses; each address once."""
    team = next((q.agents for q in sd.clock.routing.queues if q.name == ticket.queue), ())
    out: dict[str, tuple[int, Address]] = {}
    for item in sd.clock.sla.notify:
        if item == "assignee" and ticket.assignee_id is not None:
            picked = [(i, a) for i, a in agents if i == ticket.assignee_id]
        elif item in ("assignee", "queue"):
            picked = [(i, a) for i, a in agents if not team or a.key in team]
        else:
            picked = [(0, Address(item))]
        for agent_id, address in picked:
            out.setdefault(address.key, (agent_id, address))
    return list(out.values())


def _summary(ticket: DueTicket, requester: Address, language: str = "") -> TicketSummary:
    return TicketSummary(id=ticket.id, subject=ticket.subject, status=ticket.status, priority=ticket.priority,
                         category=ticket.category, language=language or ticket.language, requester=requester)


def _store(done: _Batch, ticket_id: int, draft: Draft, now: datetime) -> None:
    done.writes.outbox_row(ticket_id, draft.kind, draft.message_id, draft.mail_from, draft.rcpt_to, draft.raw,
                           now)


def _line(h: queries_sla.HistoryLine) -> dict[str, ContextValue]:
    return {"at": f"{h.at:%Y-%m-%d %H:%M} UTC", "who": h.who, "what": _excerpt(h.what)}


def _excerpt(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
