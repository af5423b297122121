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

from maildesk.domain import Address, Direction, InboundState, Status, TicketId
from maildesk.domain.ticket import Record, Step, TicketChange, TicketState
from maildesk.mail.compose import OutgoingAttachment
from maildesk.mail.quotes import split_reply
from maildesk.mail.tags import find_ticket_id
from maildesk.mail.tokens import verify
from maildesk.notices.notifier import Draft, TicketSummary
from maildesk.pipeline import (
    agent_plan,
    attachments,
    macros,
    merge,
    notices,
    proofs,
    satisfaction,
    third_party,
)
from maildesk.pipeline.context import Desk
from maildesk.pipeline.outcome import Handled
from maildesk.pipeline.turn import Turn
from maildesk.policy.agent_auth import AgentEvidence, AgentVerdict, authenticate_agent
from maildesk.policy.commands import (
    MergeInto,
    ParsedCommands,
    SendAttachments,
    merge_problem,
    parse_commands,
)
from maildesk.store import contacts, inbound, messages, participants

log = logging.getLogger(__name__)
REQUESTER_STATUSES = (Status.PENDING, Status.RESOLVED, Status.CLOSED)


@dataclass(frozen=True)
class AgentMail:
    """An authenticated agent's mail, with the ticket it acts on."""

    agent_id: int
    agent: Address
    ticket_id: int | None
    proof: str


def identify(t: Turn) -> tuple[AgentVerdict, AgentMail | None]:
    """Whether this mail is an authenticated agent's, and for which ticket."""
    sender, parsed, settings = t.mail.sender, t.mail.parsed, t.desk.settings
    agents = contacts.active_agent_ids(t.session)
    if sender.key not in agents:
        return AgentVerdict(None, "", "sender is not an agent"), None
    addresses = (*t.row.rcpt_to, *(a.email for a in (*parsed.to, *parsed.cc)))
    claim = proofs.token_claim(settings.desk.address, addresses)
    valid = claim is not None and claim.kind == "a" and verify(claim, t.desk.secret)
    # A reply address for ticket 0 (an error mail about a mail that named no ticket) proves the agent
    # and names no ticket.
    ticket_id = (claim.ticket_id or None) if valid and claim else _thread_ticket(t)
    accepted = settings.agents.proofs
    domain = sender.key.rpartition("@")[2]
    evidence = AgentEvidence(
        sender=sender.key, ticket_id=ticket_id,
        token_ticket=claim.ticket_id if claim else None, token_agent=claim.who if claim else None,
        token_valid=valid,
        dkim_domains=proofs.verified_domains(inbound.raw_of(t.session, t.row.id)) if "dkim" in accepted
        else frozenset(),
        auth_results_pass=proofs.auth_results_pass(parsed.headers, settings.agents.trusted_hosts, domain)
        if "auth-results" in accepted else frozenset())
    verdict = authenticate_agent(evidence, agents, accepted)
    if verdict.agent_id is None:
        return verdict, None
    return verdict, AgentMail(verdict.agent_id, sender, ticket_id, verdict.proof)


def _thread_ticket(t: Turn) -> int | None:
    tagged = find_ticket_id(t.mail.parsed.subject, t.desk.settings.desk.instance)
    found = merge.followed(t.session, tagged) if tagged is not None else None
    if found is not None:
        return found.id
    nearest, _ = messages.tickets_cited(t.session, t.mail.parsed.thread_ids)
    return nearest


def take(t: Turn, who: AgentMail) -> Handled:
    """Carry out an agent's mail: commands, then the answer relayed or kept as a note."""
    # A merged ticket's notice acts on the ticket it was merged into.
    ticket = merge.followed(t.session, who.ticket_id) if who.ticket_id is not None else None
    if ticket is None:
        problem = "this mail names no ticket of ours (reply to a notification)"
        return Handled(InboundState.DONE, None, (_error(t, who, problem),), "agent mail without a ticket")
    new_text = split_reply(t.mail.parsed.text).new_text
    if t.mail.verdict.machine:
        # An agent's out-of-office answering a notification is kept for the team, never relayed.
        _store(t, ticket.id, who, new_text, Direction.INTERNAL, "auto_reply")
        return Handled(InboundState.DONE, TicketId(ticket.id), (),
                       "agent's automatic reply kept as an internal entry")
    commands = parse_commands(new_text, _categories(t.desk))
    if commands.error is None:  # #macro texts and #forward's note join the text before planning (#9).
        commands = macros.expand(t.desk.settings, t.session, ticket, who.agent, new_text, commands)
    if commands.error is None and any(isinstance(c, MergeInto) for c in commands.commands):
        return _merge(t, ticket, who, commands, new_text)
    planned = agent_plan.plan(t.session, ticket, commands, who.agent_id, who.agent.key, t.now)
    if isinstance(planned, str):
        return _refused(t, ticket, who, commands, new_text, planned)
    drafts = _carry_out(t, ticket, who, commands, planned)
    return Handled(InboundState.DONE, TicketId(ticket.id), tuple(drafts), f"agent reply ({who.proof})")


def _categories(desk: Desk) -> set[str]:
    return {c.name for c in desk.settings.routing.categories} | {"other"}


def _refused(t: Turn, ticket: TicketState, who: AgentMail, commands: ParsedCommands, new_text: str,
             problem: str) -> Handled:
    """A bad command changes nothing and relays nothing; the agent hears which line was wrong."""
    line = f"line {commands.error.line_no}: {commands.error.line}: " if commands.error else ""
    _store(t, ticket.id, who, new_text, Direction.INTERNAL, "refused")
    t.desk.writer.record(t.session, ticket.id, t.now, f"agent:{who.agent_id}", Record("command_error",
                                                                                      line + problem))
    return Handled(InboundState.DONE, TicketId(ticket.id), (_error(t, who, line + problem),),
                   "agent command refused")


def _merge(t: Turn, ticket: TicketState, who: AgentMail, commands: ParsedCommands, new_text: str) -> Handled:
    """`#merge N`: this ticket goes into N; the agent's text stays with it as an internal note."""
    problem = merge_problem(commands)
    wanted = next(c.ticket for c in commands.commands if isinstance(c, MergeInto))
    into = None if problem else merge.followed(t.session, wanted, lock=True)
    if into is None or merge.merge_problem(ticket, into):
        problem = problem or (merge.merge_problem(ticket, into) if into else f"no ticket #{wanted}")
        return _refused(t, ticket, who, commands, new_text, f"#merge: {problem}")
    _store(t, ticket.id, who, commands.text.strip(), Direction.INTERNAL, "human")  # moves with the thread
    actor = f"agent:{who.agent_id}"
    into, drafts = merge.merge(t.desk, t.session, ticket, into, actor, agent_plan.REASON, t.now)
    why = f"#{ticket.id} merged into #{into.id}"
    return Handled(InboundState.DONE, TicketId(into.id), tuple(drafts), why)


def _carry_out(t: Turn, ticket: TicketState, who: AgentMail, commands: ParsedCommands,
               steps: tuple[Step, ...]) -> list[Draft]:
    actor = f"agent:{who.agent_id}"
    text = commands.text.strip()
    relay = bool(text) and not commands.is_note
    said = Record("note" if commands.is_note else "agent_reply", f"via {who.proof}", {"relayed": relay})
    # A relayed answer is the first response; status, priority and category move the due times.
    change = TicketChange(actor, (*steps, said), touch=True, public_reply=relay)
    after = t.desk.writer.change(t.session, ticket, change, t.now)
    _store(t, ticket.id, who, text, Direction.OUTBOUND if relay else Direction.INTERNAL, "human")
    summary = notices.summary(t.session, after)
    drafts = _to_people(t, after, ticket.status != after.status, who, commands, summary)
    if commands.is_note and text:
        for agent_id, agent in contacts.active_agents(t.session):
            if agent_id != who.agent_id:
                drafts.append(t.desk.notifier.agent_note(summary, agent, who.agent, text, t.now,
                                                         t.desk.reply_to(ticket.id, agent_id)))
    drafts += third_party.forwards(t, after, summary, who.agent, actor, commands)
    drafts += [attachments.notice(t, after, summary, (who.agent_id, who.agent), c.numbers)
               for c in commands.commands if isinstance(c, SendAttachments)]
    return drafts + satisfaction.survey(t.desk, t.session, ticket, after, actor, t.now)


def _to_people(t: Turn, ticket: TicketState, status_changed: bool, who: AgentMail, commands: ParsedCommands,
               summary: TicketSummary) -> list[Draft]:
    """The answer to the requester and the Cc participants, or, with no answer, the status notice."""
    people = [a for a, _ in participants.of_ticket(t.session, ticket.id)]
    thread = messages.thread_ids(t.session, ticket.id)
    reply_to = t.desk.requester_reply_to(ticket.id, ticket.requester_id)
    text = commands.text.strip()
    if text and not commands.is_note:
        files = tuple(OutgoingAttachment(a.filename, a.content_type,
                                         a.data) for a in t.mail.parsed.attachments)
        return [t.desk.notifier.relay_reply(summary, who.agent, people, text, files, thread, t.now,
                                            status_note=status_changed, reply_to=reply_to)]
    if status_changed and ticket.status in REQUESTER_STATUSES and not commands.is_note:
        return [t.desk.notifier.status_notice(summary, people, "", thread, t.now, reply_to=reply_to)]
    return []


def _store(t: Turn, ticket_id: int, who: AgentMail, new_text: str, direction: Direction,
           verdict: str) -> None:
    parsed = t.mail.parsed
    messages.add(t.session, messages.NewMessage(
        ticket_id=ticket_id, inbound_id=t.row.id, direction=direction, message_id=parsed.message_id,
        from_email=who.agent.key, from_name=who.agent.name, subject=parsed.subject, text=parsed.text,
        new_text=new_text, verdict=verdict, created_at=t.now), t.mail.files)


def _error(t: Turn, who: AgentMail, problem: str) -> Draft:
    parsed = t.mail.parsed
    log.warning("agent %s: mail <%s> refused: %s", who.agent.key, parsed.message_id, problem)
    # Signed for this agent (ticket 0 when the mail named none): answering the error is an agent's
    # mail again, never a requester's on somebody's ticket.
    return t.desk.notifier.agent_error(who.agent, parsed.subject, problem, parsed.message_id, who.ticket_id,
                                       t.now, t.desk.reply_to(who.ticket_id or 0, who.agent_id))
