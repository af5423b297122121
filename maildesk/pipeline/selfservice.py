"""Requesters helping themselves by mail: the pipeline's hooks for issue #9.

* `intercept`: mail that never becomes a ticket or a public reply — a request to the status
  address (answered with the sender's own tickets, to the sender's own address only) and a third
  party's answer to a forward (kept internal for the agents).
* `requester_command` / `carry_out_command`: "solved" or "#cancel" as the whole new text of the
  requester's reply closes or cancels the ticket. Only the requester may: a CC'd participant's
  "solved" is an ordinary reply the agents read, since the request is not theirs to withdraw.
* `ack_articles`: knowledge-base suggestions for the acknowledgement.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time

from maildesk.config import Settings
from maildesk.domain import Address, InboundState, Status
from maildesk.mail.machine import Verdict
from maildesk.mail.parse import ParsedMail
from maildesk.mail.quotes import split_reply
from maildesk.mail.tags import make_tag
from maildesk.notices.notifier import Draft, MailSummary, Notifier, TicketSummary
from maildesk.notices.render import ContextValue
from maildesk.pipeline import kb, third_party
from maildesk.policy import requester
from maildesk.policy.kb import guess_language
from maildesk.policy.lifecycle import closes
from maildesk.policy.requester import RequesterCommand, command_target
from maildesk.policy.threading import FollowUp, ThreadDecision
from maildesk.store import repo
from maildesk.store import selfservice as store
from maildesk.store.blobs import BlobStore
from maildesk.store.db import Session
from maildesk.store.models import Ticket
from maildesk.store.repo import LockedInbound
from maildesk.tickets.clock import TicketClock

log = logging.getLogger(__name__)
#: A status reply lists at most this many tickets, most recently updated first.
STATUS_LIST_LIMIT = 50
CLOSE_REASONS = {RequesterCommand.SOLVED: "requester_solved", RequesterCommand.CANCEL: "requester_canceled"}
#: Why the ticket closed, as the status notice tells the requester, per language.
NOTICE_REASONS = {
    RequesterCommand.SOLVED: {"en": "you told us the problem is solved",
                              "uk": "ви повідомили, що питання вирішено",
                              "ru": "вы сообщили, что вопрос решён"},
    RequesterCommand.CANCEL: {"en": "you withdrew the request", "uk": "ви відкликали звернення",
                              "ru": "вы отозвали обращение"},
}


@dataclass(frozen=True)
class SelfServiceDesk:
    """What the self-service hooks need from the desk."""

    settings: Settings
    notifier: Notifier
    blobs: BlobStore
    secret: str
    clock: TicketClock | None = None

    @property
    def outreach(self) -> third_party.Outreach:
        """The third-party side of the desk."""
        return third_party.Outreach(self.settings, self.notifier, self.blobs, self.secret)

    @property
    def status_address(self) -> str:
        """Where requesters ask for their tickets."""
        return requester.status_address(self.settings.selfservice.status_address, self.settings.desk.address)


@dataclass(frozen=True)
class Intercepted:
    """What became of a mail the self-service hooks took over."""

    state: InboundState
    ticket_id: int | None
    drafts: tuple[Draft, ...]
    reason: str


def intercept(ss: SelfServiceDesk, session: Session, parsed: ParsedMail, row: LockedInbound, sender: Address,
              verdict: Verdict, blobs: tuple[str, ...], now: datetime) -> Intercepted | None:
    """Handle a status request or a third party's answer; None for every other mail."""
    if _to_status_address(ss, parsed, row):
        if verdict.machine:  # Never answer a machine: an auto-reply to the status address is dropped.
            return Intercepted(InboundState.IGNORED, None, (), "machine mail to the status address: " +
                               ", ".join(verdict.reasons))
        return Intercepted(InboundState.DONE, None, tuple(_status_reply(ss, session, parsed, sender, now)),
                           "status request answered")
    answer = third_party.recognise(ss.outreach, session, parsed, row, sender)
    if answer is None:
        return None
    drafts = third_party.receive(ss.outreach, session, answer, parsed, row, sender, verdict, blobs, now)
    return Intercepted(InboundState.DONE, answer.ticket_id, tuple(drafts),
                       f"third party's answer kept internal ({answer.proof})")


def _to_status_address(ss: SelfServiceDesk, parsed: ParsedMail, row: LockedInbound) -> bool:
    wanted = ss.status_address
    headers = (x.email for x in (*parsed.to, *parsed.cc))
    return any(a.strip().lower() == wanted for a in (*row.rcpt_to, *headers))


def _status_reply(ss: SelfServiceDesk, session: Session, parsed: ParsedMail, sender: Address,
                  now: datetime) -> list[Draft]:
    # The list goes to the From: address and only there (never Reply-To, never Cc), and names only
    # tickets that address opened: a forged From: sends the owner their own list, nobody else's.
    wanted = requester.parse_status_filter(parsed.subject)
    since = datetime.combine(wanted.since, time(0), UTC) if wanted.since else None
    found = store.requested_by(session, sender.key, [s.value for s in wanted.statuses()], since,
                               STATUS_LIST_LIMIT + 1)
    language = _language(session, sender, parsed, ss.settings.desk.language)
    tickets: list[ContextValue] = [
        {"tag": make_tag(t.id, ss.settings.desk.instance), "subject": t.subject or "(no subject)",
         "status": t.status, "updated": t.updated_at.strftime("%Y-%m-%d %H:%M UTC")}
        for t in found[:STATUS_LIST_LIMIT]]
    log.info("status request from %s: %d tickets listed", sender.key, len(tickets))
    extra: dict[str, ContextValue] = {"tickets": tickets, "more": len(found) > STATUS_LIST_LIMIT,
                                      "filter_label": wanted.label()}
    to = Address(sender.email, sender.name)
    return [ss.notifier.status_list(to, language, extra, parsed.message_id, now)]


def _language(session: Session, sender: Address, parsed: ParsedMail, default: str) -> str:
    latest = store.requested_by(session, sender.key, [s.value for s in Status], None, 1)
    if latest:
        ticket = session.get(Ticket, latest[0].id)
        if ticket is not None:
            return ticket.language
    return guess_language(f"{parsed.subject}\n{parsed.text}", default) if parsed.text.strip() else default


def requester_command(session: Session, decision: ThreadDecision, parsed: ParsedMail, sender: Address,
                      verdict: Verdict) -> tuple[ThreadDecision, RequesterCommand | None]:
    """The requester's command in a follow-up, with the decision no longer reopening the ticket
    (a "solved" must not first reopen a resolved ticket and then close it)."""
    if not isinstance(decision, FollowUp) or verdict.machine:
        return decision, None
    command = requester.requester_command(split_reply(parsed.text).new_text)
    if command is None:
        return decision, None
    people = repo.participants(session, decision.ticket_id)
    if not people or people[0][0].key != sender.key:
        return decision, None
    return dataclasses.replace(decision, new_status=None), command


def carry_out_command(ss: SelfServiceDesk, session: Session, ticket: Ticket, command: RequesterCommand | None,
                      now: datetime) -> list[Draft]:
    """Close or cancel the ticket as the requester asked, and tell the participants."""
    if command is None:
        return []
    actor = f"contact:{ticket.requester_id}"
    target = command_target(command)
    if closes(Status(ticket.status)):
        repo.add_event(session, ticket.id, now, actor, "requester_command", "ticket already " + ticket.status,
                       command=command.value, applied=False)
        return []
    reason = CLOSE_REASONS[command]
    repo.add_event(session, ticket.id, now, actor, "status", reason, old=ticket.status, new=target)
    ticket.status, ticket.closed_at, ticket.close_reason, ticket.updated_at = target, now, reason, now
    if ss.clock is not None:
        ss.clock.update(ticket, now)
    people = repo.participants(session, ticket.id)
    summary = TicketSummary(id=ticket.id, subject=ticket.subject, status=ticket.status,
                            priority=ticket.priority, category=ticket.category, language=ticket.language,
                            requester=people[0][0])
    text = NOTICE_REASONS[command].get(ticket.language, NOTICE_REASONS[command]["en"])
    return [ss.notifier.status_notice(summary, [a for a, _ in people], text,
                                      repo.thread_message_ids(session, ticket.id), now)]


def ack_articles(ss: SelfServiceDesk, session: Session, ticket: Ticket, mail: MailSummary,
                 now: datetime) -> list[dict[str, str]]:
    """Knowledge-base articles for a new ticket's acknowledgement, recorded as an event."""
    found = kb.suggest(session, ss.settings.selfservice, ticket.subject, mail.text, ticket.language)
    if found:
        repo.add_event(session, ticket.id, now, "system", "kb_suggested", "",
                       articles=[{"slug": s.slug, "score": s.score} for s in found])
    return [{"title": s.title, "url": s.url} for s in found]
