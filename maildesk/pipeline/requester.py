"""A requester's mail: which ticket it belongs to, then a new ticket or a follow-up, and its notices.

Load (the tagged and cited tickets), decide (maildesk.policy.threading), apply (one TicketChange
through the ticket writer), store the message, then say who hears of it. "solved" or "#cancel" as the
whole new text of the requester's own reply closes or cancels the ticket afterwards (a Cc'd
participant's "solved" is an ordinary reply: the request is not theirs to withdraw).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from maildesk.domain import Address, Direction, InboundState, Status, TicketId
from maildesk.domain.ticket import AddParticipant, Opening, Record, SetStatus, Step, TicketChange, TicketState
from maildesk.mail.compose import OutgoingAttachment
from maildesk.mail.parse import ParsedMail
from maildesk.mail.quotes import split_reply
from maildesk.mail.tags import find_ticket_id
from maildesk.notices.notifier import Draft, MailSummary
from maildesk.pipeline import notices
from maildesk.pipeline.context import Desk
from maildesk.pipeline.outcome import Handled
from maildesk.pipeline.prepare import Arrival
from maildesk.pipeline.routing import rule_steps
from maildesk.policy import requester
from maildesk.policy.agent_auth import AgentVerdict
from maildesk.policy.lifecycle import closes
from maildesk.policy.requester import RequesterCommand, command_target
from maildesk.policy.rules import RuleOutcome
from maildesk.policy.threading import (
    FollowUp,
    NewTicket,
    ThreadDecision,
    ThreadFacts,
    TicketView,
    decide_thread,
)
from maildesk.store import contacts, messages, participants, tickets
from maildesk.store.contacts import ContactRef
from maildesk.store.db import Session
from maildesk.store.inbound import LockedInbound

NOTICE_ATTACHMENT_LIMIT = 10 * 1024 * 1024
CLOSE_REASONS = {RequesterCommand.SOLVED: "requester_solved", RequesterCommand.CANCEL: "requester_canceled"}
#: Why the ticket closed, as the status notice tells the requester, per language.
NOTICE_REASONS = {
    RequesterCommand.SOLVED: {"en": "you told us the problem is solved",
                              "uk": "ви повідомили, що питання вирішено",
                              "ru": "вы сообщили, что вопрос решён"},
    RequesterCommand.CANCEL: {"en": "you withdrew the request", "uk": "ви відкликали звернення",
                              "ru": "вы отозвали обращение"},
}


def take(desk: Desk, session: Session, mail: Arrival, row: LockedInbound, now: datetime) -> tuple[Handled,
                                                                                                  TicketState]:
    """File `mail` on its ticket (a new one, or the one it follows up) and say who hears of it."""
    decision, loaded = _decide(desk, session, mail, now)
    decision, command = _command(session, decision, mail)
    who = contacts.contact_for(session, mail.sender, now)
    if isinstance(decision, NewTicket):
        ticket, outcome = _open(desk, session, decision, mail, row, who, now)
    else:
        ticket, outcome = _follow_up(desk, session, loaded[decision.ticket_id], decision, mail, row, who, now)
    said = _store(session, ticket, decision, mail, row, now)
    drafts = _notices(desk, session, ticket, decision, said, mail, outcome, who, now)
    ticket, more = _carry_out(desk, session, ticket, command, now)
    return Handled(InboundState.DONE, TicketId(ticket.id), (*drafts, *more), decision.reason), ticket


def _decide(desk: Desk, session: Session, mail: Arrival,
            now: datetime) -> tuple[ThreadDecision, dict[int, TicketState]]:
    """The threading decision, with the tickets it looked at (locked: a second reply to the same
    ticket, on another worker, waits until this one commits)."""
    parsed, verdict = mail.parsed, mail.verdict
    loaded: dict[int, TicketState] = {}
    tag = find_ticket_id(parsed.subject, desk.settings.desk.instance)
    tagged = _view(session, tag, loaded) if tag is not None else None
    cited = parsed.thread_ids
    if verdict.original_message_id:
        # A delivery report names the mail of ours it is about: that is where it belongs (L2d).
        cited = (verdict.original_message_id, *cited)
    nearest, ours = messages.tickets_cited(session, cited)
    referenced = _view(session, nearest, loaded) if nearest is not None else None
    facts = ThreadFacts(sender=mail.sender.key, tagged=tagged, referenced=referenced, cites_our_mail_on=ours,
                        machine=verdict.machine, now=now,
                        reopen_closed_days=desk.settings.tickets.reopen_closed_days)
    return decide_thread(facts), loaded


def _view(session: Session, ticket_id: int, loaded: dict[int, TicketState]) -> TicketView | None:
    ticket = loaded.get(ticket_id) or tickets.load(session, ticket_id, lock=True)
    if ticket is None:
        return None
    loaded[ticket_id] = ticket
    people = frozenset(a.key for a, _ in participants.of_ticket(session, ticket_id))
    return TicketView(id=ticket.id, status=Status(ticket.status), participants=people,
                      closed_at=ticket.closed_at)


def _command(session: Session, decision: ThreadDecision,
             mail: Arrival) -> tuple[ThreadDecision, RequesterCommand | None]:
    """The requester's command in a follow-up, with the decision no longer reopening the ticket
    (a "solved" must not first reopen a resolved ticket and then close it)."""
    if not isinstance(decision, FollowUp) or mail.verdict.machine:
        return decision, None
    command = requester.requester_command(split_reply(mail.parsed.text).new_text)
    if command is None:
        return decision, None
    people = participants.of_ticket(session, decision.ticket_id)
    if not people or people[0][0].key != mail.sender.key:
        return decision, None
    return dataclasses.replace(decision, new_status=None), command


def _open(desk: Desk, session: Session, decision: NewTicket, mail: Arrival, row: LockedInbound,
          who: ContactRef,
          now: datetime) -> tuple[TicketState, RuleOutcome]:
    """A new ticket, written once and whole: rules (which see the instant the mail arrived) and due
    times are settled before its INSERT."""
    parsed = mail.parsed
    opening = Opening(parsed.subject, who.id, desk.settings.desk.language, decision.linked_to)
    outcome = desk.routing.evaluate(parsed, row.rcpt_to, row.received_at, None, source=row.source)
    rules = rule_steps((), outcome, True, _assignee(session, outcome))
    people = [AddParticipant(who.id, "requester")]
    for address in (*parsed.to, *parsed.cc):
        if address.key not in desk.settings.desk.own_addresses:
            people.append(AddParticipant(contacts.contact_for(session, address, now).id, "cc"))
    created = Record("created", decision.reason, {"verdict": mail.verdict.kind.value,
                                                  "linked_to": decision.linked_to})
    change = TicketChange("system", (*rules.fields, *people, created,
                                     *([rules.record] if rules.record else [])))
    return desk.writer.open(session, opening, change, now), outcome


def _assignee(session: Session, outcome: RuleOutcome) -> int | None:
    return contacts.active_agent_id(session, outcome.assignee) if outcome.assignee else None


def _follow_up(desk: Desk, session: Session, ticket: TicketState, decision: FollowUp, mail: Arrival,
               row: LockedInbound, who: ContactRef, now: datetime) -> tuple[TicketState, RuleOutcome]:
    """The mail on its ticket. A robot neither joins the ticket nor moves it: no participant, no
    status, no updated_at; its mail is only recorded. Rules run on both; the clock follows."""
    verdict = mail.verdict
    if verdict.machine:
        steps: list[Step] = [Record("machine_mail", decision.reason,
                              {"verdict": verdict.kind.value,
                               "reasons": list(verdict.reasons)}, actor="system")]
    else:
        steps = [AddParticipant(who.id, "cc"), Record("reply", decision.reason,
                                                      {"verdict": verdict.kind.value})]
        if decision.new_status is not None and decision.new_status != ticket.status:
            steps.append(SetStatus(decision.new_status, decision.reason))
    outcome = desk.routing.evaluate(mail.parsed, row.rcpt_to, row.received_at, ticket.queue,
                                    source=row.source)
    steps += rule_steps(ticket.tags, outcome, False, _assignee(session, outcome)).steps
    change = TicketChange(f"contact:{who.id}", tuple(steps), touch=not verdict.machine)
    return desk.writer.change(session, ticket, change, now), outcome


def _store(session: Session, ticket: TicketState, decision: ThreadDecision, mail: Arrival, row: LockedInbound,
           now: datetime) -> MailSummary:
    """Keep the mail on the thread; what notices may quote of it. Machine mail on an existing ticket
    is kept for the team as an internal entry: it is not the requester's reply and is never quoted."""
    parsed, verdict, sender = mail.parsed, mail.verdict, mail.sender
    follow_up = isinstance(decision, FollowUp)
    direction = Direction.INTERNAL if verdict.machine and follow_up else Direction.INBOUND
    new_text = split_reply(parsed.text).new_text if follow_up else parsed.text
    messages.add(session, messages.NewMessage(
        ticket_id=ticket.id, inbound_id=row.id, direction=direction, message_id=parsed.message_id,
        from_email=sender.key, from_name=sender.name, subject=parsed.subject, text=parsed.text,
        new_text=new_text, verdict=verdict.kind.value, verdict_reasons=verdict.reasons, created_at=now),
        mail.files)
    return MailSummary(sender=sender, text=new_text,
                       attachments=tuple(a.filename for a in parsed.attachments),
                       message_id=parsed.message_id, references=parsed.references, files=_forwardable(parsed))


def _forwardable(parsed: ParsedMail) -> tuple[OutgoingAttachment, ...]:
    # Agents get the files with the notice unless they are too big for a mailbox; then only the names.
    if sum(len(a.data) for a in parsed.attachments) > NOTICE_ATTACHMENT_LIMIT:
        return ()
    return tuple(OutgoingAttachment(a.filename, a.content_type, a.data) for a in parsed.attachments)


def _notices(desk: Desk, session: Session, ticket: TicketState, decision: ThreadDecision, mail: MailSummary,
             arrival: Arrival, outcome: RuleOutcome, who: ContactRef, now: datetime) -> list[Draft]:
    if arrival.verdict.machine:
        # Never answer a machine, and do not wake agents for it either; it is on the ticket.
        desk.writer.record(session, ticket.id, now, "system", Record(
            "suppressed", "machine mail: " + ", ".join(arrival.verdict.reasons)))
        return []
    new = isinstance(decision, NewTicket)
    # A new ticket's requester is the sender just stored: no need to read the participants back.
    known = Address(who.email, who.name) if new else None
    summary = notices.summary(session, ticket, known)
    return notices.for_requester_mail(desk, session, ticket, summary, mail, outcome, new, now)


def _carry_out(desk: Desk, session: Session, ticket: TicketState, command: RequesterCommand | None,
               now: datetime) -> tuple[TicketState, list[Draft]]:
    """Close or cancel the ticket as the requester asked, and tell the participants."""
    if command is None:
        return ticket, []
    actor = f"contact:{ticket.requester_id}"
    if closes(Status(ticket.status)):
        desk.writer.record(session, ticket.id, now, actor, Record(
            "requester_command", "ticket already " + ticket.status, {"command": command.value,
                                                                     "applied": False}))
        return ticket, []
    reason = CLOSE_REASONS[command]
    change = TicketChange(actor, (SetStatus(command_target(command), reason, close_reason=reason),),
                          touch=True)
    ticket = desk.writer.change(session, ticket, change, now)
    people = participants.of_ticket(session, ticket.id)
    summary = notices.summary(session, ticket, people[0][0])
    text = NOTICE_REASONS[command].get(ticket.language, NOTICE_REASONS[command]["en"])
    return ticket, [desk.notifier.status_notice(summary, [a for a, _ in people], text,
                                                messages.thread_ids(session, ticket.id), now)]


def failed_agent_claim(desk: Desk, session: Session, ticket_id: int, auth: AgentVerdict, sender: Address,
                       now: datetime) -> None:
    """From: names an agent but nothing proves it: the mail was handled as a requester's; record why."""
    desk.writer.record(session, ticket_id, now, "system", Record("agent_auth_failed", auth.reason,
                                                                 {"sender": sender.key}))
