"""The periodic SLA and auto-close sweep: the shell around maildesk.policy.sla and maildesk.policy.closure.

Reads only tickets whose ``next_check_at`` is due (an index range scan), lets the pure decisions say
what is owed, and in one transaction per batch closes, reminds and escalates: the changes go through
the ticket writer (one executemany per set of changed columns), the notices through the outbound
gate. The rows are read inside the write transaction (SQLite's single writer; ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL), and acting moves ``next_check_at`` past now, so two sweeps at once never
act twice on one ticket.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from maildesk.domain import Address, Status
from maildesk.domain.ticket import Record, SetField, SetStatus, Step, TicketChange, TicketState
from maildesk.notices.notifier import Draft, TicketSummary
from maildesk.notices.render import ContextValue
from maildesk.outbound.gate import Posting, admit
from maildesk.pipeline.context import Desk
from maildesk.policy.closure import ClosureStep, close_at, decide_closure
from maildesk.policy.sla import Alert, SlaCheck, check_sla
from maildesk.store import tickets
from maildesk.sweep.history import SweepContext, line
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


@dataclass(frozen=True)
class _Notice:
    """A notice owed, rendered once the ticket's change is applied: `to` None means the requester
    and the other participants; else one agent (with their id, 0 for a literal address)."""

    kind: str
    extra: dict[str, ContextValue]
    to: tuple[int, Address] | None = None


@dataclass
class _Owed:
    """What the sweep does to one ticket: the change and the notices that follow it."""

    steps: list[Step] = field(default_factory=list)
    notices: list[_Notice] = field(default_factory=list)


def sweep_tickets(desk: Desk, now: datetime, dry_run: bool = False, batch: int = BATCH) -> SweepResult:
    """Close, remind and escalate every ticket due at `now`; with `dry_run`, only say what would happen."""
    if dry_run:
        return _dry_run(desk, now)
    actions: list[SweepAction] = []
    outbox: list[int] = []
    checked = 0
    while True:
        with _collector_paused():
            done = _sweep_batch(desk, now, batch)
        checked += done.checked
        actions += done.actions
        outbox += done.outbox_ids
        if done.checked < batch:
            break
    if actions:
        log.info("sweep: %d tickets checked, %d actions", checked, len(actions))
    return SweepResult(tuple(actions), tuple(outbox), checked)


def _sweep_batch(desk: Desk, now: datetime, batch: int) -> SweepResult:
    """One transaction: claim up to `batch` due tickets, act on them, write everything back."""
    with desk.db.transaction() as session:
        due = tickets.due(session, now, batch)
        plans = [(t, _plan(desk.clock, t, now)) for t in due]
        # One round of queries for the whole batch instead of several per ticket.
        context = SweepContext.load(session, [t.id for t in due], [t.id for t, p in plans if p.step.close])
        owed = [_owed(desk, t, p, now, context) for t, p in plans]
        changes = [(t, TicketChange(ACTOR, tuple(o.steps), settle=RETRY_GAP)) for t, o in zip(due, owed,
                                                                                              strict=True)]
        after = desk.writer.change_many(session, changes, now)
        postings = [Posting(t.id, d) for t, o in zip(after, owed, strict=True) for d in _drafts(desk, t, o,
                                                                                                context, now)]
        outbox = admit(session, desk.gate, postings, now)
    actions = tuple(a for t, p in plans for a in p.actions(t.id))
    return SweepResult(actions, tuple(outbox), len(due))


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


def _dry_run(desk: Desk, now: datetime) -> SweepResult:
    with desk.db.reading() as session:
        due = tickets.due(session, now, limit=10**9, lock=False)
        actions = [a for t in due for a in _plan(desk.clock, t, now).actions(t.id)]
    return SweepResult(tuple(actions), (), len(due))


def _plan(clock: TicketClock, ticket: TicketState, now: datetime) -> _Plan:
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


def _owed(desk: Desk, ticket: TicketState, plan: _Plan, now: datetime, context: SweepContext) -> _Owed:
    owed = _Owed()
    if plan.step.close:
        _close(desk, ticket, plan.step, context, owed)
    elif plan.step.remind:
        _remind(desk.clock, ticket, plan.step, now, owed)
    for alert in plan.sla.alerts:
        _escalate(desk, ticket, alert, context, owed)
    if plan.sla.marks:
        owed.steps.append(SetField("sla_sent", ",".join(sorted({*filter(None, ticket.sla_sent.split(",")),
                                                                *plan.sla.marks}))))
    return owed


def _close(desk: Desk, ticket: TicketState, step: ClosureStep, context: SweepContext, owed: _Owed) -> None:
    # What was done so far, read before the closure itself joins the list.
    def wall_clock(at: datetime) -> str:
        return desk.wall_clock(at, ticket.queue)

    history: dict[str, ContextValue] = {
        "close_reason": step.close,
        "agent_replies": [line(h, wall_clock) for h in context.replies.get(ticket.id, [])],
        "actions": [line(h, wall_clock) for h in context.actions.get(ticket.id, [])],
    }
    owed.steps.append(SetStatus(Status.CLOSED, step.reason, close_reason=step.close,
                                detail={"close_reason": step.close}))
    if not ticket.spam:
        owed.notices.append(_Notice("autoclosed", history))


def _remind(clock: TicketClock, ticket: TicketState, step: ClosureStep, now: datetime, owed: _Owed) -> None:
    cal = clock.calendar_for(ticket.queue)
    closes = close_at(clock.closure_for(ticket), ticket.waiting_since or now, cal)
    owed.steps += [SetField("reminders_sent", step.reminders_due),
                   Record("reminder", step.reason, {"number": step.remind,
                                                    "closes_at": closes.isoformat() if closes else None})]
    if not ticket.spam:
        local = closes.astimezone(cal.zone) if closes else None
        owed.notices.append(_Notice("reminder", {"reminder": step.remind,
                                                 "closes_at": f"{local:%Y-%m-%d %H:%M %Z}" if local else ""}))


def _escalate(desk: Desk, ticket: TicketState, alert: Alert, context: SweepContext, owed: _Owed) -> None:
    recipients = _sla_recipients(desk, context.agents, ticket)
    owed.steps.append(Record(f"sla_{alert.level}", alert.reason, {
        "target": alert.target, "due": alert.due.isoformat(), "policy": ticket.sla_policy,
        "to": [a.email for _, a in recipients]}))
    local = alert.due.astimezone(desk.clock.calendar_for(ticket.queue).zone)
    extra: dict[str, ContextValue] = {"target": alert.target, "due": f"{local:%Y-%m-%d %H:%M %Z}",
                                      "policy": ticket.sla_policy, "queue": ticket.queue}
    owed.notices += [_Notice(f"sla_{alert.level}", extra, to) for to in recipients]


def _sla_recipients(desk: Desk, agents: list[tuple[int, Address]], ticket: TicketState) -> list[tuple[int,
                                                                                                      Address]]:
    """`assignee` (or the queue while unassigned), `queue` (its agents, else every active agent),
    and literal addresses; each address once."""
    team = next((q.agents for q in desk.settings.routing.queues if q.name == ticket.queue), ())
    out: dict[str, tuple[int, Address]] = {}
    for item in desk.settings.sla.notify:
        if item == "assignee" and ticket.assignee_id is not None:
            picked = [(i, a) for i, a in agents if i == ticket.assignee_id]
        elif item in ("assignee", "queue"):
            picked = [(i, a) for i, a in agents if not team or a.key in team]
        else:  # an address; an agent's gets their signed Reply-To like any agent
            picked = [next(((i, a) for i, a in agents if a.key == item.lower()), (0, Address(item)))]
        for agent_id, address in picked:
            out.setdefault(address.key, (agent_id, address))
    return list(out.values())


def _drafts(desk: Desk, ticket: TicketState, owed: _Owed, context: SweepContext,
            now: datetime) -> list[Draft]:
    """The notices owed for `ticket`, rendered as it is after its change."""
    people = context.people.get(ticket.id, [])
    drafts = []
    for notice in owed.notices:
        if notice.to is None:
            if people:  # a ticket nobody is on (an imported oddity): nothing to send
                drafts.append(desk.notifier.ticket_notice(
                    notice.kind, _summary(ticket, people[0]), people, notice.extra,
                    context.threads.get(ticket.id, []), now,
                    reply_to=desk.requester_reply_to(ticket.id, ticket.requester_id)))
            continue
        agent_id, address = notice.to
        # SLA notices go to agents, in the desk's language.
        summary = _summary(ticket, (people or [Address("")])[0], desk.settings.desk.language)
        reply_to = desk.reply_to(ticket.id, agent_id) if agent_id else None
        drafts.append(desk.notifier.ticket_notice(notice.kind, summary, [address], notice.extra, [], now,
                                                  reply_to=reply_to))
    return drafts


def _summary(ticket: TicketState, requester: Address, language: str = "") -> TicketSummary:
    return TicketSummary(id=ticket.id, subject=ticket.subject, status=ticket.status, priority=ticket.priority,
                         category=ticket.category, language=language or ticket.language, requester=requester,
                         type=ticket.type, queue=ticket.queue)

