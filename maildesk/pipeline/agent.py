"""Agents working from their mail client: who is an agent, and what their reply does.

A mail counts as an agent's only when its From: is an agent *and* a proof
holds (maildesk.policy.agent_auth). Then the commands at its top change the
ticket, and its new text is relayed to the requester and the CC participants
from the support address, or kept internal with ``#note``. A bad command
changes nothing, relays nothing, and tells the agent which line was wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from maildesk.config import Settings
from maildesk.domain import Address, Direction, Status
from maildesk.errors import InvalidTransition
from maildesk.mail.authres import passes_for, trusted_results
from maildesk.mail.compose import OutgoingAttachment
from maildesk.mail.parse import ParsedMail
from maildesk.mail.quotes import split_reply
from maildesk.mail.tags import find_ticket_id
from maildesk.mail.tokens import parse_reply_address, reply_address, verify
from maildesk.notices.notifier import Draft, Notifier, TicketSummary
from maildesk.pipeline import macros, third_party
from maildesk.pipeline.proofs import verified_domains
from maildesk.policy.agent_auth import AgentEvidence, AgentVerdict, authenticate_agent
from maildesk.policy.commands import (
    Assign,
    ChangeCc,
    Command,
    ParsedCommands,
    SetCategory,
    SetPriority,
    SetStatus,
    parse_commands,
)
from maildesk.policy.lifecycle import check_transition, closes
from maildesk.store import repo
from maildesk.store.blobs import BlobStore
from maildesk.store.db import Session
from maildesk.store.models import Ticket
from maildesk.store.repo import LockedInbound
from maildesk.tickets.clock import TicketClock

log = logging.getLogger(__name__)
REQUESTER_STATUSES = (Status.PENDING, Status.RESOLVED, Status.CLOSED)


@dataclass(frozen=True)
class AgentDesk:
    """What the agent path needs from the desk."""

    settings: Settings
    notifier: Notifier
    blobs: BlobStore
    secret: str
    clock: TicketClock | None = None  # None: the SLA clock is not kept (tools that only read)

    def reply_to(self, ticket_id: int, agent_id: int) -> Address:
        """The signed Reply-To that lets this agent act on this ticket by answering a notice."""
        return Address(reply_address(self.settings.desk.address, self.secret, ticket_id, agent_id),
                       self.settings.desk.name)


@dataclass(frozen=True)
class AgentMail:
    """An authenticated agent's mail, with the ticket it acts on."""

    agent_id: int
    agent: Address
    ticket_id: int | None
    proof: str


@dataclass
class _Plan:
    """The changes one agent mail makes, computed before anything is written."""

    status: Status | None = None
    priority: str | None = None
    category: str | None = None
    assignee: tuple[int | None, str] | None = None
    cc_add: list[str] = field(default_factory=list)
    cc_remove: list[str] = field(default_factory=list)


def identify(ad: AgentDesk, session: Session, parsed: ParsedMail, row: LockedInbound,
             sender: Address) -> tuple[AgentVerdict, AgentMail | None]:
    """Whether this mail is an authenticated agent's, and for which ticket."""
    agents = repo.active_agent_ids(session)
    if sender.key not in agents:
        return AgentVerdict(None, "", "sender is not an agent"), None
    claim = _token_claim(ad, parsed, row)
    valid = claim is not None and claim.kind == "a" and verify(claim, ad.secret)
    ticket_id = claim.ticket_id if valid and claim else _thread_ticket(ad, session, parsed)
    accepted = ad.settings.agents.proofs
    domain = sender.key.rpartition("@")[2]
    evidence = AgentEvidence(
        sender=sender.key, ticket_id=ticket_id,
        token_ticket=claim.ticket_id if claim else None, token_agent=claim.who if claim else None,
        token_valid=valid,
        dkim_domains=verified_domains(row.raw) if "dkim" in accepted else frozenset(),
        auth_results_pass=_auth_results(ad, parsed, domain) if "auth-results" in accepted else frozenset())
    verdict = authenticate_agent(evidence, agents, accepted)
    if verdict.agent_id is None:
        return verdict, None
    return verdict, AgentMail(verdict.agent_id, sender, ticket_id, verdict.proof)


def _token_claim(ad: AgentDesk, parsed: ParsedMail, row: LockedInbound):  # type: ignore[no-untyped-def]
    for address in (*row.rcpt_to, *(a.email for a in (*parsed.to, *parsed.cc))):
        claim = parse_reply_address(address, ad.settings.desk.address)
        if claim is not None:
            return claim
    return None


def _thread_ticket(ad: AgentDesk, session: Session, parsed: ParsedMail) -> int | None:
    tagged = find_ticket_id(parsed.subject, ad.settings.desk.instance)
    if tagged is not None and repo.ticket_view(session, tagged) is not None:
        return tagged
    nearest, _ = repo.tickets_cited(session, parsed.thread_ids)
    return nearest


def _auth_results(ad: AgentDesk, parsed: ParsedMail, domain: str) -> frozenset[str]:
    results = trusted_results(parsed.headers, ad.settings.agents.trusted_hosts)
    return frozenset({domain}) if passes_for(results, domain, {"dkim", "spf"}) else frozenset()


def handle(ad: AgentDesk, session: Session, who: AgentMail, parsed: ParsedMail, row: LockedInbound,
           blobs: tuple[str, ...], machine: bool, now: datetime) -> tuple[int | None, list[Draft], str]:
    """Carry out an agent's mail; return (ticket id, drafts to send, reason)."""
    ticket = session.get(Ticket, who.ticket_id) if who.ticket_id is not None else None
    if ticket is None:
        return None, [_error(ad, who, parsed, "this mail names no ticket of ours (reply to a notification)",
                             now)], "agent mail without a ticket"
    new_text = split_reply(parsed.text).new_text
    if machine:
        # An agent's out-of-office answering a notification is kept for the team, never relayed.
        _store(session, ticket.id, row, parsed, who, new_text, Direction.INTERNAL, blobs, "auto_reply", now)
        return ticket.id, [], "agent's automatic reply kept as an internal entry"
    commands = parse_commands(new_text, _categories(ad))
    if commands.error is None:  # #macro texts and #forward's note join the text before planning (#9).
        commands = macros.expand(ad.settings, session, ticket, who.agent, new_text, commands)
    plan_or_error = _plan(session, ticket, commands, who) if commands.error is None else commands.error.reason
    if isinstance(plan_or_error, str):
        line = f"line {commands.error.line_no}: {commands.error.line}: " if commands.error else ""
        _store(session, ticket.id, row, parsed, who, new_text, Direction.INTERNAL, blobs, "refused", now)
        problem = line + plan_or_error
        repo.add_event(session, ticket.id, now, f"agent:{who.agent_id}", "command_error", problem)
        return ticket.id, [_error(ad, who, parsed, problem, now)], "agent command refused"
    drafts = _carry_out(ad, session, ticket, who, parsed, row, blobs, commands, plan_or_error, now)
    outreach = third_party.Outreach(ad.settings, ad.notifier, ad.blobs, ad.secret)
    drafts.extend(third_party.forwards(outreach, session, ticket, ticket_summary(session, ticket), who.agent,
                                       f"agent:{who.agent_id}", commands, now))
    return ticket.id, drafts, f"agent reply ({who.proof})"


def _categories(ad: AgentDesk) -> set[str]:
    names = {c.name for c in ad.settings.routing.categories}
    return names | {"other"}


def _plan(session: Session, ticket: Ticket, commands: ParsedCommands, who: AgentMail) -> _Plan | str:
    plan = _Plan()
    for command in commands.commands:
        problem = _add_to_plan(session, plan, command, who)
        if problem:
            return problem
    target = plan.status
    if target is None and not commands.is_note and commands.text.strip() and ticket.status == Status.NEW:
        target = Status.OPEN  # The first public answer puts a new ticket in work.
    if target is not None and target != ticket.status:
        try:
            check_transition(Status(ticket.status), target)
        except InvalidTransition as exc:
            return str(exc)
        plan.status = target
    elif target == ticket.status:
        plan.status = None
    return plan


def _add_to_plan(session: Session, plan: _Plan, command: Command, who: AgentMail) -> str:
    if isinstance(command, SetStatus):
        plan.status = command.status
    elif isinstance(command, SetPriority):
        plan.priority = command.priority.value
    elif isinstance(command, SetCategory):
        plan.category = command.category
    elif isinstance(command, Assign):
        found = _assignee(session, command.agent, who)
        if isinstance(found, str):
            return found
        plan.assignee = found
    elif isinstance(command, ChangeCc):
        (plan.cc_add if command.add else plan.cc_remove).append(command.address)
    return ""


def _assignee(session: Session, wanted: str, who: AgentMail) -> tuple[int | None, str] | str:
    if wanted.lower() == "me":
        return who.agent_id, who.agent.key
    if wanted.lower() == "none":
        return None, ""
    match = repo.find_agent(session, wanted)
    return match if match is not None else f"#assign: no active agent {wanted!r}"


def _carry_out(ad: AgentDesk, session: Session, ticket: Ticket, who: AgentMail, parsed: ParsedMail,
               row: LockedInbound, blobs: tuple[str, ...], commands: ParsedCommands, plan: _Plan,
               now: datetime) -> list[Draft]:
    actor = f"agent:{who.agent_id}"
    old_status = Status(ticket.status)
    _apply_plan(session, ticket, plan, actor, now)
    text = commands.text.strip()
    relay = bool(text) and not commands.is_note
    direction = Direction.OUTBOUND if relay else Direction.INTERNAL
    _store(session, ticket.id, row, parsed, who, text, direction, blobs, "human", now)
    repo.add_event(session, ticket.id, now, actor, "note" if commands.is_note else "agent_reply",
                   f"via {who.proof}", relayed=relay)
    ticket.updated_at = now
    if ad.clock is not None:
        # A relayed answer is the first response; status, priority and category move the due times.
        ad.clock.update(ticket, now, public_reply=relay)
    summary = ticket_summary(session, ticket)
    people = repo.participants(session, ticket.id)
    thread = repo.thread_message_ids(session, ticket.id)
    drafts: list[Draft] = []
    status_changed = plan.status is not None and plan.status != old_status
    if relay:
        files = tuple(OutgoingAttachment(a.filename, a.content_type, a.data) for a in parsed.attachments)
        drafts.append(ad.notifier.relay_reply(summary, who.agent, [a for a, _ in people], text, files, thread,
                                              now, status_note=status_changed))
    elif status_changed and plan.status in REQUESTER_STATUSES and not commands.is_note:
        drafts.append(ad.notifier.status_notice(summary, [a for a, _ in people], "", thread, now))
    if commands.is_note and text:
        for agent_id, agent in repo.active_agents_with_ids(session):
            if agent_id != who.agent_id:
                drafts.append(ad.notifier.agent_note(summary, agent, who.agent, text, now,
                                                     ad.reply_to(ticket.id, agent_id)))
    return drafts


def _apply_plan(session: Session, ticket: Ticket, plan: _Plan, actor: str, now: datetime) -> None:
    if plan.status is not None and plan.status != ticket.status:
        repo.add_event(session, ticket.id, now, actor, "status", "agent command", old=ticket.status,
                       new=plan.status)
        ticket.status = plan.status
        ticket.closed_at = now if closes(plan.status) else None
        ticket.close_reason = "agent" if closes(plan.status) else ""
    for name, value in (("priority", plan.priority), ("category", plan.category)):
        if value is not None and value != getattr(ticket, name):
            repo.add_event(session, ticket.id, now, actor, name, "agent command",
                           old=getattr(ticket, name), new=value)
            setattr(ticket, name, value)
    if plan.assignee is not None and plan.assignee[0] != ticket.assignee_id:
        repo.add_event(session, ticket.id, now, actor, "assign", "agent command", new=plan.assignee[1])
        ticket.assignee_id = plan.assignee[0]
    for address in plan.cc_add:
        contact = repo.contact_for(session, Address(address), now)
        if repo.add_participant(session, ticket.id, contact.id, "cc"):
            repo.add_event(session, ticket.id, now, actor, "cc_add", "agent command", address=address)
    for address in plan.cc_remove:
        if repo.remove_participant(session, ticket.id, address):
            repo.add_event(session, ticket.id, now, actor, "cc_remove", "agent command", address=address)


def _store(session: Session, ticket_id: int, row: LockedInbound, parsed: ParsedMail, who: AgentMail,
           new_text: str, direction: Direction, blobs: Sequence[str], verdict: str, now: datetime) -> None:
    repo.add_message(session, repo.NewMessage(
        ticket_id=ticket_id, inbound_id=row.id, direction=direction, message_id=parsed.message_id,
        from_email=who.agent.key, from_name=who.agent.name, subject=parsed.subject, text=parsed.text,
        new_text=new_text, verdict=verdict, created_at=now), parsed.attachments, blobs)


def _error(ad: AgentDesk, who: AgentMail, parsed: ParsedMail, problem: str, now: datetime) -> Draft:
    log.warning("agent %s: mail <%s> refused: %s", who.agent.key, parsed.message_id, problem)
    return ad.notifier.agent_error(who.agent, parsed.subject, problem, parsed.message_id, who.ticket_id, now)


def ticket_summary(session: Session, ticket: Ticket, requester: Address | None = None) -> TicketSummary:
    """The facts of `ticket` that notices show (`requester` when the caller knows it already)."""
    requester = requester or repo.participants(session, ticket.id)[0][0]
    return TicketSummary(id=ticket.id, subject=ticket.subject, status=ticket.status, priority=ticket.priority,
                         category=ticket.category, language=ticket.language, requester=requester)
