"""The one gate for mail out (DESIGN.md decision 12): every draft enters the outbox through `admit`.

Whatever produced a draft — the pipeline, an agent's command, the sweep, the CLI, an alert — `admit`
decides who of its recipients may have it, and only then composes its bytes and stores the row:

* at most `recipients_per_mail` recipients, To first (a ticket copied to thousands of strangers does
  not make the desk write to them all);
* for automatic mail to outsiders, the brakes (maildesk.policy.brakes) per recipient — To and Cc
  alike, counted across every ticket, including what this very call admitted before;
* for answers to inbound mail (acknowledgements …), also the brakes per recipient domain, per
  client address of the mail answered and per fingerprint of that mail, across every address;
* an address the message format cannot carry holds the whole mail.

What it holds back is logged and, on a ticket, recorded as an event saying why. Nothing else in the
package adds outbox rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from maildesk.domain import Address, AnswerCounts, OutboxId, SentCounts
from maildesk.domain.ticket import Record
from maildesk.mail.compose import UnsendableAddress, compose
from maildesk.notices.notifier import Draft
from maildesk.policy import brakes
from maildesk.policy.brakes import BrakeLimits
from maildesk.store import outbox
from maildesk.store.db import Session
from maildesk.store.outbox import NewOutbox
from maildesk.tickets.apply import TicketWriter

log = logging.getLogger(__name__)
#: At most this many held addresses are named in a log line or a brake event.
NAMED = 50


@dataclass(frozen=True)
class Answering:
    """The inbound mail a draft answers: the client address that handed it over ("" when none counts)
    and its fingerprint ("" when it has none)."""

    client_ip: str = ""
    fingerprint: str = ""


@dataclass(frozen=True)
class Posting:
    """A draft on its way out, the ticket it is about (None: mail about no ticket), and the inbound
    mail it answers, if any."""

    ticket_id: int | None
    draft: Draft
    answering: Answering = field(default_factory=Answering)


@dataclass(frozen=True)
class Gate:
    """The brakes' limits, and the writer that records on a ticket what was held back."""

    writer: TicketWriter
    limits: BrakeLimits = field(default_factory=BrakeLimits)


@dataclass(frozen=True)
class _Verdict:
    send_to: tuple[Address, ...]
    held: tuple[str, ...]
    reason: str
    event: str = "brake"


def admit(session: Session, gate: Gate, postings: Sequence[Posting], now: datetime) -> list[OutboxId]:
    """Store what may go of `postings` as outbox rows, in their order; return the new rows' ids."""
    counts = _Counts(session, gate.limits, now, postings)
    rows: list[NewOutbox] = []
    for posting in postings:
        verdict = _judge(posting, counts, gate.limits)
        if verdict.send_to:
            row = _composed(posting, verdict)
            if isinstance(row, NewOutbox):
                rows.append(row)
                counts.add(row.kind, row.counted, posting.answering)
            else:
                verdict = _Verdict((), tuple(a.email for a in posting.draft.recipients), row, "suppressed")
        if verdict.held:
            _held(session, gate, posting, verdict, now)
    return [OutboxId(i) for i in outbox.add(session, rows, now)]


def _judge(posting: Posting, counts: _Counts, limits: BrakeLimits) -> _Verdict:
    """Who of the draft's recipients may have it, who not, and why not."""
    draft = posting.draft
    kept, over = brakes.within_cap(draft.recipients, limits)
    reasons = [brakes.over_cap_reason(over, limits)] if over else []
    held = [a.email for a in over]
    if brakes.is_braked_kind(draft.kind):
        allowed = []
        for address in kept:
            decision = brakes.decide(draft.kind, address.key, counts.of(draft.kind, address.key), limits)
            if decision.send and brakes.is_answer_kind(draft.kind):
                answered = counts.answers(address.key, posting.answering)
                decision = brakes.decide_answer(draft.kind, address.key, answered, limits)
            if decision.send:
                allowed.append(address)
            else:
                held.append(address.email)
                reasons.append(decision.reason)
        kept = tuple(allowed)
    return _Verdict(tuple(kept), tuple(held), "; ".join(reasons))


def _composed(posting: Posting, verdict: _Verdict) -> NewOutbox | str:
    """The outbox row for the recipients the draft may go to, or why it cannot be written."""
    draft = posting.draft
    mail = draft.mail
    if verdict.held:
        to = tuple(a for a in mail.to if a in verdict.send_to)
        cc = tuple(a for a in mail.cc if a in verdict.send_to)
        mail = replace(mail, to=to or cc[:1], cc=cc if to else cc[1:])
    try:
        raw = compose(mail)
    except UnsendableAddress as exc:
        # The ticket stands; only this mail cannot be written to that address.
        return f"{'acknowledgement' if draft.kind == 'ack' else draft.kind} not sent: {exc}"
    rcpt_to = tuple(a.email for a in (*mail.to, *mail.cc))
    counted = tuple(a.lower() for a in rcpt_to) if brakes.is_braked_kind(draft.kind) else ()
    answer = brakes.is_answer_kind(draft.kind)
    answering = posting.answering if answer else Answering()
    return NewOutbox(posting.ticket_id, draft.kind, mail.message_id, draft.mail_from, rcpt_to, raw, counted,
                     answering.client_ip, answering.fingerprint, answer)


def _held(session: Session, gate: Gate, posting: Posting, verdict: _Verdict, now: datetime) -> None:
    draft = posting.draft
    # A flood can hold thousands of addresses: the log and the event name the first of them.
    named = list(verdict.held[:NAMED])
    more = f" and {len(verdict.held) - len(named)} more" if len(verdict.held) > len(named) else ""
    log.error("ticket=%s %s to %s%s held: %s", posting.ticket_id, draft.kind, ", ".join(named), more,
              verdict.reason)
    if posting.ticket_id is None:
        return
    detail = {"mail_kind": draft.kind, "to": named,
              "held": len(verdict.held)} if verdict.event == "brake" else {}
    gate.writer.record(session, posting.ticket_id, now, "system", Record(verdict.event, verdict.reason,
                                                                         detail))


class _Counts:
    """What the brakes count for the recipients of one `admit` call: read once, then kept current as
    drafts are admitted, so a batch cannot slip past a limit between two of its own mails."""

    def __init__(self, session: Session, limits: BrakeLimits, now: datetime,
                 postings: Sequence[Posting]) -> None:
        self.same: dict[tuple[str, str], int] = {}
        self.day: dict[str, int] = {}
        self.session, self.now, self.limits = session, now, limits
        # Answers per domain and client, and the addresses answered per fingerprint: read when first
        # asked for, then kept current.
        self.by: dict[tuple[str, str], int] = {}
        self.printed: dict[str, set[str]] = {}
        kinds: dict[str, set[str]] = {}
        for p in postings:
            if brakes.is_braked_kind(p.draft.kind):
                kinds.setdefault(p.draft.kind, set()).update(a.key for a in p.draft.recipients)
        for kind, addresses in kinds.items():
            spans = brakes.windows(kind, limits)
            since = now - spans["same_kind"] if "same_kind" in spans else None
            for address, counted in outbox.sent_counts(session, addresses, kind, since,
                                                       now - spans["automatic_day"]).items():
                self.same[(kind, address)] = counted.same_kind
                self.day[address] = counted.automatic_day

    def of(self, kind: str, address: str) -> SentCounts:
        return SentCounts(self.same.get((kind, address), 0), self.day.get(address, 0))

    def answers(self, address: str, answering: Answering) -> AnswerCounts:
        """Answers so far to `address`'s domain and to mail from the client of `answering`, and the
        other addresses answered for its fingerprint."""
        domain, client, print_ = address.rpartition("@")[2], answering.client_ip, answering.fingerprint
        spans = brakes.answer_windows(self.limits)
        if ("domain", domain) not in self.by or ("client", client) not in self.by:
            counted = outbox.answer_counts(self.session, brakes.ANSWER_KINDS, domain, client,
                                           (self.now - spans[0], self.now - spans[1]))
            self.by.setdefault(("domain", domain), counted[0])
            self.by.setdefault(("client", client), counted[1])
        if print_ and print_ not in self.printed:
            self.printed[print_] = outbox.fingerprinted(self.session, brakes.ANSWER_KINDS, print_,
                                                        self.now - spans[2],
                                                        self.limits.answers_per_fingerprint.limit + 2)
        others = self.printed.get(print_, set()) - {address}
        from_client = self.by[("client", client)] if client else 0
        return AnswerCounts(self.by[("domain", domain)], from_client, len(others))

    def add(self, kind: str, addresses: Sequence[str], answering: Answering) -> None:
        for address in addresses:
            self.same[(kind, address)] = self.same.get((kind, address), 0) + 1
            self.day[address] = self.day.get(address, 0) + 1
            if brakes.is_answer_kind(kind):
                for key in (("domain", address.rpartition("@")[2]), ("client", answering.client_ip)):
                    if key in self.by:
                        self.by[key] += 1
                if answering.fingerprint in self.printed:
                    self.printed[answering.fingerprint].add(address)
