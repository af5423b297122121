"""A requester's mail: which ticket it belongs to, then a new ticket or a follow-up, and its notices.

Load (the tagged and cited tickets), decide (maildesk.policy.threading), apply (one TicketChange
through the ticket writer), store the message, then say who hears of it. "solved" or "#cancel" as the
whole new text of the requester's own reply closes or cancels the ticket afterwards (a Cc'd
participant's "solved" is an ordinary reply: the request is not theirs to withdraw) — but only when
the mail proves it answers our mail to the requester: it went to their signed reply address (the
Reply-To of every notice to them) or cites a mail we sent them. From: and a ticket number prove
nothing (numbers are sequential); such a mail is an ordinary reply, and the requester is told how
to close the ticket.
"""

from __future__ import annotations

import dataclasses

from maildesk.domain import Address, Direction, InboundState, Status, TicketId
from maildesk.domain.ticket import AddParticipant, Opening, Record, SetStatus, Step, TicketChange, TicketState
from maildesk.mail.compose import OutgoingAttachment
from maildesk.mail.parse import ParsedMail
from maildesk.mail.quotes import split_reply
from maildesk.mail.subject import without_reply_prefixes
from maildesk.mail.tags import find_ticket_id
from maildesk.mail.tokens import parse_reply_address, verify
from maildesk.notices.notifier import Draft, MailSummary
from maildesk.pipeline import merge, notices
from maildesk.pipeline.outcome import Handled
from maildesk.pipeline.routing import rule_steps
from maildesk.pipeline.turn import Turn
from maildesk.policy import imports, requester
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
from maildesk.store import contacts, messages, outbox, participants, tickets
from maildesk.store.contacts import ContactRef
from maildesk.store.db import Session

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


def take(t: Turn) -> tuple[Handled, TicketState]:
    """File the mail on its ticket (a new one, or the one it follows up) and say who hears of it."""
    decision, loaded = _decide(t)
    decision, command, proof = _command(t, decision, loaded)
    who = contacts.contact_for(t.session, t.mail.sender, t.now)
    if isinstance(decision, NewTicket):
        ticket, outcome = _open(t, decision, who)
    else:
        ticket, outcome = _follow_up(t, loaded[decision.ticket_id], decision, who)
    said = _store(t, ticket, decision)
    drafts = _notices(t, ticket, decision, said, outcome, who)
    ticket, more = _carry_out(t, ticket, command) if proof else (ticket, _unproven(t, ticket, command))
    return Handled(InboundState.DONE, TicketId(ticket.id), (*drafts, *more), decision.reason), ticket


def _decide(t: Turn) -> tuple[ThreadDecision, dict[int, TicketState]]:
    """The threading decision, with the tickets it looked at (locked: a second reply to the same
    ticket, on another worker, waits until this one commits)."""
    parsed, verdict = t.mail.parsed, t.mail.verdict
    tag = find_ticket_id(parsed.subject, t.desk.settings.desk.instance)
    cited = parsed.thread_ids
    if verdict.original_message_id:
        # A delivery report names the mail of ours it is about: that is where it belongs (L2d).
        cited = (verdict.original_message_id, *cited)
    nearest, ours = messages.tickets_cited(t.session, cited)
    ours = merge.followed_ids(t.session, ours)  # our mail about a merged ticket proves the one it went into
    tagged, referenced = _current(t.session, tag), _current(t.session, nearest)
    loaded = _locked(t.session, {tagged, referenced} - {None})
    facts = ThreadFacts(sender=t.mail.sender.key, tagged=_view(t.session, tagged, loaded),
                        referenced=_view(t.session, referenced, loaded), cites_our_mail_on=ours,
                        machine=verdict.machine, now=t.now,
                        reopen_closed_days=t.desk.settings.tickets.reopen_closed_days)
    return decide_thread(facts), loaded


def _current(session: Session, ticket_id: int | None) -> int | None:
    """The ticket `ticket_id` stands for now: itself, or the one it was merged into (mail naming or
    citing a merged ticket belongs there)."""
    found = merge.followed(session, ticket_id) if ticket_id is not None else None
    return found.id if found is not None else None


def _locked(session: Session, ticket_ids: set[int | None]) -> dict[int, TicketState]:
    """The tickets that exist among `ticket_ids`, locked lowest number first. One order for every
    worker: a mail tagged #1 citing #2 and one tagged #2 citing #1, processed at once, would
    otherwise each hold one ticket and wait for the other (a deadlock PostgreSQL breaks by failing
    one of them)."""
    found = (tickets.load(session, i, lock=True) for i in sorted(i for i in ticket_ids if i is not None))
    return {ticket.id: ticket for ticket in found if ticket is not None}


def _view(session: Session, ticket_id: int | None, loaded: dict[int, TicketState]) -> TicketView | None:
    ticket = loaded.get(ticket_id) if ticket_id is not None else None
    if ticket is None:
        return None
    people = frozenset(a.key for a, _ in participants.of_ticket(session, ticket.id))
    return TicketView(id=ticket.id, status=Status(ticket.status), participants=people,
                      closed_at=ticket.closed_at)


def _command(t: Turn, decision: ThreadDecision,
             loaded: dict[int, TicketState]) -> tuple[ThreadDecision, RequesterCommand | None, str]:
    """The requester's command in a follow-up and what proves the mail answers our mail to them
    ("" when nothing does: then the decision stands, an ordinary reply). A proven command leaves the
    decision no longer reopening the ticket (a "solved" must not first reopen a resolved ticket and
    then close it)."""
    if not isinstance(decision, FollowUp) or t.mail.verdict.machine:
        return decision, None, ""
    command = requester.requester_command(split_reply(t.mail.parsed.text).new_text)
    if command is None:
        return decision, None, ""
    people = participants.of_ticket(t.session, decision.ticket_id)
    if not people or people[0][0].key != t.mail.sender.key:
        return decision, None, ""
    proof = _proof(t, loaded[decision.ticket_id])
    if not proof:
        return decision, command, ""
    return dataclasses.replace(decision, new_status=None), command, proof


def _proof(t: Turn, ticket: TicketState) -> str:
    """"token" when the mail went to the requester's signed reply address for this ticket,
    "references" when it cites a mail we sent them on it, "import" when the admin imported it (the
    mailbox's history is the admin's to vouch for, and a silent import sent nothing to cite), else
    ""."""
    if imports.is_imported(t.row.source):
        return "import"
    parsed = t.mail.parsed
    for address in (*t.row.rcpt_to, *(a.email for a in (*parsed.to, *parsed.cc))):
        claim = parse_reply_address(address, t.desk.settings.desk.address)
        if claim is not None and claim.kind == "r" and claim.ticket_id == ticket.id and \
                claim.who == ticket.requester_id and verify(claim, t.desk.secret):
            return "token"
    sender = t.mail.sender.key
    for rcpt_to in outbox.sent_on_ticket(t.session, parsed.thread_ids, ticket.id):
        if sender in (a.lower() for a in rcpt_to):
            return "references"
    return ""


def _unproven(t: Turn, ticket: TicketState, command: RequesterCommand | None) -> list[Draft]:
    """A "solved" or "#cancel" that nothing proved the requester's: recorded, kept as a reply, and
    the requester told how to close the ticket (their signed Reply-To on it)."""
    if command is None:
        return []
    why = "not carried out: the mail neither went to the requester's signed reply address nor cites our mail"
    t.desk.writer.record(t.session, ticket.id, t.now, "system",
                         Record("requester_command", why, {"command": command.value, "applied": False}))
    summary = notices.summary(t.session, ticket)
    thread = messages.thread_ids(t.session, ticket.id)
    reply_to = t.desk.requester_reply_to(ticket.id, ticket.requester_id)
    return notices.rendered(t, ticket.id, "how_to_close", lambda: [
        t.desk.notifier.how_to_close(summary, summary.requester, thread, t.now, reply_to)])


def _open(t: Turn, decision: NewTicket, who: ContactRef) -> tuple[TicketState, RuleOutcome]:
    """A new ticket, written once and whole: rules (which see the instant the mail arrived) and due
    times are settled before its INSERT."""
    parsed, desk = t.mail.parsed, t.desk
    outcome = desk.routing.evaluate(parsed, t.row.rcpt_to, t.row.received_at, None, source=t.row.source)
    rules = rule_steps((), outcome, True, _assignee(t.session, outcome))
    people = [AddParticipant(who.id, "requester")]
    for address in (*parsed.to, *parsed.cc):
        if address.key not in desk.settings.desk.own_addresses:
            people.append(AddParticipant(contacts.contact_for(t.session, address, t.now).id, "cc"))
    detail = {"verdict": t.mail.verdict.kind.value, "linked_to": decision.linked_to}
    steps: tuple[Step, ...] = (*rules.fields, *people, Record("created", decision.reason, detail),
                               *rules.records)
    opening = Opening(without_reply_prefixes(parsed.subject), who.id, desk.settings.desk.language,
                      decision.linked_to)
    return desk.writer.open(t.session, opening, TicketChange("system", steps), t.now), outcome


def _assignee(session: Session, outcome: RuleOutcome) -> int | None:
    return contacts.active_agent_id(session, outcome.assignee) if outcome.assignee else None


def _follow_up(t: Turn, ticket: TicketState, decision: FollowUp, who: ContactRef) -> tuple[TicketState,
                                                                                           RuleOutcome]:
    """The mail on its ticket. A robot neither joins the ticket nor moves it: no participant, no
    status, no updated_at; its mail is only recorded. Rules run on both; the clock follows."""
    verdict = t.mail.verdict
    steps: list[Step]
    if verdict.machine:
        detail = {"verdict": verdict.kind.value, "reasons": list(verdict.reasons)}
        steps = [Record("machine_mail", decision.reason, detail, actor="system")]
    else:
        steps = [AddParticipant(who.id, "cc"), Record("reply", decision.reason,
                                                      {"verdict": verdict.kind.value})]
        if decision.new_status is not None and decision.new_status != ticket.status:
            steps.append(SetStatus(decision.new_status, decision.reason))
    outcome = t.desk.routing.evaluate(t.mail.parsed, t.row.rcpt_to, t.row.received_at, ticket.queue,
                                      source=t.row.source)
    steps += rule_steps(ticket.tags, outcome, False, _assignee(t.session, outcome)).steps
    change = TicketChange(f"contact:{who.id}", tuple(steps), touch=not verdict.machine)
    return t.desk.writer.change(t.session, ticket, change, t.now), outcome


def _store(t: Turn, ticket: TicketState, decision: ThreadDecision) -> MailSummary:
    """Keep the mail on the thread; what notices may quote of it. Machine mail on an existing ticket
    is kept for the team as an internal entry: it is not the requester's reply and is never quoted."""
    parsed, verdict, sender = t.mail.parsed, t.mail.verdict, t.mail.sender
    follow_up = isinstance(decision, FollowUp)
    direction = Direction.INTERNAL if verdict.machine and follow_up else Direction.INBOUND
    new_text = split_reply(parsed.text).new_text if follow_up else parsed.text
    messages.add(t.session, messages.NewMessage(
        ticket_id=ticket.id, inbound_id=t.row.id, direction=direction, message_id=parsed.message_id,
        from_email=sender.key, from_name=sender.name, subject=parsed.subject, text=parsed.text,
        new_text=new_text, verdict=verdict.kind.value, verdict_reasons=verdict.reasons, created_at=t.now),
        t.mail.files)
    return MailSummary(sender=sender, text=new_text,
                       attachments=tuple(a.filename for a in parsed.attachments),
                       message_id=parsed.message_id, references=parsed.references, files=_forwardable(parsed))


def _forwardable(parsed: ParsedMail) -> tuple[OutgoingAttachment, ...]:
    # Agents get the files with the notice unless they are too big for a mailbox; then only the names.
    if sum(len(a.data) for a in parsed.attachments) > NOTICE_ATTACHMENT_LIMIT:
        return ()
    return tuple(OutgoingAttachment(a.filename, a.content_type, a.data) for a in parsed.attachments)


def _notices(t: Turn, ticket: TicketState, decision: ThreadDecision, said: MailSummary, outcome: RuleOutcome,
             who: ContactRef) -> list[Draft]:
    if t.mail.verdict.machine:
        # Never answer a machine, and do not wake agents for it either; it is on the ticket.
        why = "machine mail: " + ", ".join(t.mail.verdict.reasons)
        t.desk.writer.record(t.session, ticket.id, t.now, "system", Record("suppressed", why))
        return []
    if imports.silent(t.row.source):  # not even rendered (nor knowledge-base articles looked up)
        t.desk.writer.record(t.session, ticket.id, t.now, "system",
                             Record("suppressed", imports.SILENT_REASON))
        return []
    new = isinstance(decision, NewTicket)
    # A new ticket's requester is the sender just stored: no need to read the participants back.
    summary = notices.summary(t.session, ticket, Address(who.email, who.name) if new else None)
    return notices.for_requester_mail(t, ticket, summary, said, outcome, new)


def _carry_out(t: Turn, ticket: TicketState, command: RequesterCommand | None) -> tuple[TicketState,
                                                                                        list[Draft]]:
    """Close or cancel the ticket as the requester asked, and tell the participants."""
    if command is None:
        return ticket, []
    actor = f"contact:{ticket.requester_id}"
    if closes(Status(ticket.status)):
        detail = {"command": command.value, "applied": False}
        t.desk.writer.record(t.session, ticket.id, t.now, actor,
                             Record("requester_command", "ticket already " + ticket.status, detail))
        return ticket, []
    reason = CLOSE_REASONS[command]
    change = TicketChange(actor, (SetStatus(command_target(command), reason, close_reason=reason),),
                          touch=True)
    ticket = t.desk.writer.change(t.session, ticket, change, t.now)
    people = participants.of_ticket(t.session, ticket.id)
    summary = notices.summary(t.session, ticket, people[0][0])
    text = NOTICE_REASONS[command].get(ticket.language, NOTICE_REASONS[command]["en"])
    thread = messages.thread_ids(t.session, ticket.id)
    reply_to = t.desk.requester_reply_to(ticket.id, ticket.requester_id)
    return ticket, notices.rendered(t, ticket.id, "status notice", lambda: [t.desk.notifier.status_notice(
        summary, [a for a, _ in people], text, thread, t.now, reply_to=reply_to)])


def failed_agent_claim(t: Turn, ticket_id: int, auth: AgentVerdict) -> None:
    """From: names an agent but nothing proves it: the mail was handled as a requester's; record why."""
    t.desk.writer.record(t.session, ticket_id, t.now, "system",
                         Record("agent_auth_failed", auth.reason, {"sender": t.mail.sender.key}))
