"""Agents working from their mail client: who is an agent, and what their reply does.

A mail counts as an agent's only when its From: is an agent *and* a proof
holds (maildesk.policy.agent_auth). Then the commands at its top change the
ticket, and its new text is relayed to the requester and the Cc participants
from the support address, or kept internal with ``#note``. A bad command
changes nothing, relays nothing, and tells the agent which line was wrong.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from maildesk.domain import Address, Direction, InboundState, Status, TicketId
from maildesk.domain.ticket import Record, Step, TicketChange, TicketState
from maildesk.mail.compose import OutgoingAttachment
from maildesk.mail.quotes import split_reply
from maildesk.mail.tags import find_ticket_id
from maildesk.mail.tokens import verify
from maildesk.notices.notifier import Draft, TicketSummary
from maildesk.pipeline import agent_plan, macros, notices, proofs, third_party
from maildesk.pipeline.context import Desk
from maildesk.pipeline.outcome import Handled
from maildesk.pipeline.prepare import Arrival
from maildesk.policy.agent_auth import AgentEvidence, AgentVerdict, authenticate_agent
from maildesk.policy.commands import ParsedCommands, parse_commands
from maildesk.store import contacts, messages, participants, tickets
from maildesk.store.db import Session
from maildesk.store.inbound import LockedInbound

log = logging.getLogger(__name__)
REQUESTER_STATUSES = (Status.PENDING, Status.RESOLVED, Status.CLOSED)


@dataclass(frozen=True)
class AgentMail:
    """An authenticated agent's mail, with the ticket it acts on."""

    agent_id: int
    agent: Address
    ticket_id: int | None
    proof: str


def identify(desk: Desk, session: Session, mail: Arrival, row: LockedInbound) -> tuple[AgentVerdict,
                                                                                       AgentMail | None]:
    """Whether this mail is an authenticated agent's, and for which ticket."""
    sender, parsed = mail.sender, mail.parsed
    agents = contacts.active_agent_ids(session)
    if sender.key not in agents:
        return AgentVerdict(None, "", "sender is not an agent"), None
    claim = proofs.token_claim(desk.settings.desk.address, (*row.rcpt_to, *(a.email for a in (*parsed.to,
                                                                                              *parsed.cc))))
    valid = claim is not None and claim.kind == "a" and verify(claim, desk.secret)
    ticket_id = claim.ticket_id if valid and claim else _thread_ticket(desk, session, mail)
    accepted = desk.settings.agents.proofs
    evidence = AgentEvidence(
        sender=sender.key, ticket_id=ticket_id,
        token_ticket=claim.ticket_id if claim else None, token_agent=claim.who if claim else None,
        token_valid=valid,
        dkim_domains=proofs.verified_domains(row.raw) if "dkim" in accepted else frozenset(),
        auth_results_pass=proofs.auth_results_pass(parsed.headers, desk.settings.agents.trusted_hosts,
                                                   sender.key.rpartition("@")[2])
        if "auth-results" in accepted else frozenset())
    verdict = authenticate_agent(evidence, agents, accepted)
    if verdict.agent_id is None:
        return verdict, None
    return verdict, AgentMail(verdict.agent_id, sender, ticket_id, verdict.proof)


def _thread_ticket(desk: Desk, session: Session, mail: Arrival) -> int | None:
    tagged = find_ticket_id(mail.parsed.subject, desk.settings.desk.instance)
    if tagged is not None and tickets.load(session, tagged) is not None:
        return tagged
    nearest, _ = messages.tickets_cited(session, mail.parsed.thread_ids)
    return nearest


def take(desk: Desk, session: Session, who: AgentMail, mail: Arrival, row: LockedInbound,
         now: datetime) -> Handled:
    """Carry out an agent's mail: commands, then the answer relayed or kept as a note."""
    ticket = tickets.load(session, who.ticket_id) if who.ticket_id is not None else None
    if ticket is None:
        problem = "this mail names no ticket of ours (reply to a notification)"
        return Handled(InboundState.DONE, None, (_error(desk, who, mail, problem, now),),
                       "agent mail without a ticket")
    new_text = split_reply(mail.parsed.text).new_text
    if mail.verdict.machine:
        # An agent's out-of-office answering a notification is kept for the team, never relayed.
        _store(session, ticket.id, row, mail, who, new_text, Direction.INTERNAL, "auto_reply", now)
        return Handled(InboundState.DONE, TicketId(ticket.id), (),
                       "agent's automatic reply kept as an internal entry")
    commands = parse_commands(new_text, _categories(desk))
    if commands.error is None:  # #macro texts and #forward's note join the text before planning (#9).
        commands = macros.expand(desk.settings, session, ticket, who.agent, new_text, commands)
    planned = agent_plan.plan(session, ticket, commands, who.agent_id, who.agent.key, now)
    if isinstance(planned, str):
        return _refused(desk, session, ticket, who, mail, row, commands, new_text, planned, now)
    drafts = _carry_out(desk, session, ticket, who, mail, row, commands, planned, now)
    return Handled(InboundState.DONE, TicketId(ticket.id), tuple(drafts), f"agent reply ({who.proof})")


def _categories(desk: Desk) -> set[str]:
    return {c.name for c in desk.settings.routing.categories} | {"other"}


def _refused(desk: Desk, session: Session, ticket: TicketState, who: AgentMail, mail: Arrival,
             row: LockedInbound,
             commands: ParsedCommands, new_text: str, problem: str, now: datetime) -> Handled:
    """A bad command changes nothing and relays nothing; the agent hears which line was wrong."""
    line = f"line {commands.error.line_no}: {commands.error.line}: " if commands.error else ""
    _store(session, ticket.id, row, mail, who, new_text, Direction.INTERNAL, "refused", now)
    desk.writer.record(session, ticket.id, now, f"agent:{who.agent_id}", Record("command_error",
                                                                                line + problem))
    return Handled(InboundState.DONE, TicketId(ticket.id), (_error(desk, who, mail, line + problem, now),),
                   "agent command refused")


def _carry_out(desk: Desk, session: Session, ticket: TicketState, who: AgentMail, mail: Arrival,
               row: LockedInbound, commands: ParsedCommands, steps: tuple[Step,
                                                                          ...], now: datetime) -> list[Draft]:
    actor = f"agent:{who.agent_id}"
    text = commands.text.strip()
    relay = bool(text) and not commands.is_note
    said = Record("note" if commands.is_note else "agent_reply", f"via {who.proof}", {"relayed": relay})
    # A relayed answer is the first response; status, priority and category move the due times.
    after = desk.writer.change(session, ticket, TicketChange(actor, (*steps, said), touch=True,
                                                             public_reply=relay), now)
    _store(session, ticket.id, row, mail, who, text, Direction.OUTBOUND if relay else Direction.INTERNAL,
           "human", now)
    summary = notices.summary(session, after)
    drafts = _to_people(desk, session, after, ticket.status != after.status, who, mail, commands, text,
                        summary, now)
    if commands.is_note and text:
        for agent_id, agent in contacts.active_agents(session):
            if agent_id != who.agent_id:
                drafts.append(desk.notifier.agent_note(summary, agent, who.agent, text, now,
                                                       desk.reply_to(ticket.id, agent_id)))
    drafts += third_party.forwards(desk, session, after, summary, who.agent, actor, commands, now)
    return drafts


def _to_people(desk: Desk, session: Session, ticket: TicketState, status_changed: bool, who: AgentMail,
               mail: Arrival, commands: ParsedCommands, text: str, summary: TicketSummary,
               now: datetime) -> list[Draft]:
    """The answer to the requester and the Cc participants, or, with no answer, the status notice."""
    people = [a for a, _ in participants.of_ticket(session, ticket.id)]
    thread = messages.thread_ids(session, ticket.id)
    if text and not commands.is_note:
        files = tuple(OutgoingAttachment(a.filename, a.content_type, a.data) for a in mail.parsed.attachments)
        return [desk.notifier.relay_reply(summary, who.agent, people, text, files, thread, now,
                                          status_note=status_changed)]
    if status_changed and ticket.status in REQUESTER_STATUSES and not commands.is_note:
        return [desk.notifier.status_notice(summary, people, "", thread, now)]
    return []


def _store(session: Session, ticket_id: int, row: LockedInbound, mail: Arrival, who: AgentMail, new_text: str,
           direction: Direction, verdict: str, now: datetime) -> None:
    parsed = mail.parsed
    messages.add(session, messages.NewMessage(
        ticket_id=ticket_id, inbound_id=row.id, direction=direction, message_id=parsed.message_id,
        from_email=who.agent.key, from_name=who.agent.name, subject=parsed.subject, text=parsed.text,
        new_text=new_text, verdict=verdict, created_at=now), mail.files)


def _error(desk: Desk, who: AgentMail, mail: Arrival, problem: str, now: datetime) -> Draft:
    log.warning("agent %s: mail <%s> refused: %s", who.agent.key, mail.parsed.message_id, problem)
    return desk.notifier.agent_error(who.agent, mail.parsed.subject, problem, mail.parsed.message_id,
                                     who.ticket_id, now)
