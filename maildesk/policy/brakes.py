"""Brakes on automatic mail: may the desk send this automatic mail to this address now? Pure.

A loop with another robot that slips past the machine-mail classifier (no
Auto-Submitted, a changed subject each time) is stopped here by counting: each
automatic mail kind has a ceiling per recipient and window, and every automatic
mail counts towards a daily ceiling per recipient (RELIABILITY.md L4, section C).
Every recipient counts, To and Cc alike, across all tickets. Human-written mail
(an agent's reply relayed to the requester) is never braked, and neither are
notices to the desk's own agents: they are staff, and a busy day must not silence
them. Any mail, automatic or not, goes to at most `recipients_per_mail` people: a
ticket copied to thousands of strangers must not make the desk write to them all.

Answers to inbound mail (acknowledgements, status lists, the notice on how to close a request) can
be aimed at strangers by forging From:, so they have three more ceilings, counted across every
address: per recipient domain and per client address (the SMTP peer that handed the mail over) in
an hour, and per fingerprint of the mail answered (its normalised subject and text, and where it
came from) in a day. The last stops a robot that answers from a new address each time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Sized
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from maildesk.config import BrakeSettings
from maildesk.domain import AnswerCounts, SentCounts

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """At most `limit` mails in any `period`."""

    limit: int
    period: timedelta


@dataclass(frozen=True)
class BrakeLimits:
    """The ceilings; defaults from RELIABILITY.md section C."""

    # FreeScout SendAutoReply: 10 per customer per 180 min.
    ack: Window = Window(10, timedelta(hours=3))
    # "your mail could not be processed": one per sender per day, never an error for an error.
    agent_error: Window = Window(1, DAY)
    # Znuny PostmasterMaxEmails: 40 automatic mails per recipient per day, whatever the kind.
    any_automatic: Window = Window(40, DAY)
    # A conversation, not a mailing: more people than this on one mail are held back.
    recipients_per_mail: int = 20
    # How to close a request, after a "solved" nothing proved: once per address and day, like an error.
    how_to_close: Window = Window(1, DAY)
    # A notice template failing at run time: the admin hears of it once an hour, not once per mail.
    template_failed: Window = Window(1, HOUR)
    # Answers per recipient domain and per client address: NeetoDesk processes at most 100 mails per
    # hour and organisation, and 100 an hour keeps a desk far below the 5,000 a day to one provider
    # at which Google's sender guidelines count a sender as a bulk sender.
    answers_per_domain: Window = Window(100, HOUR)
    answers_per_client: Window = Window(100, HOUR)
    # Addresses answered for one fingerprint: FreeScout sends none for a subject repeated after 2 in
    # its window (per sender); 5 addresses a day leaves room for people who do write alike from one
    # provider, and stops a robot that writes from a new address each time at the sixth.
    answers_per_fingerprint: Window = Window(5, DAY)

    def window_for(self, kind: str) -> Window | None:
        """The per-kind ceiling for `kind`, or None when only the daily ceiling applies."""
        return {"ack": self.ack, "agent_error": self.agent_error, "how_to_close": self.how_to_close,
                "template_failed": self.template_failed}.get(kind)


#: Outbox kinds written by the desk on its own (RFC 3834 auto-replied / auto-generated) to outsiders.
BRAKED_KINDS = frozenset({"ack", "agent_error", "reminder", "autoclosed", "how_to_close", "template_failed",
                          "survey", "merged", "split"})
BRAKED_PREFIXES = ("status_",)
#: Outbox kinds that answer an inbound mail to its sender, whoever that claims to be.
ANSWER_KINDS = frozenset({"ack", "status_list", "how_to_close"})


def brake_limits(settings: BrakeSettings) -> BrakeLimits:
    """The limits `[brakes]` configures, the per-kind windows as RELIABILITY.md section C has them."""
    return BrakeLimits(any_automatic=Window(settings.automatic_per_day, DAY),
                       recipients_per_mail=settings.recipients_per_mail,
                       answers_per_domain=Window(settings.answers_per_domain_per_hour, HOUR),
                       answers_per_client=Window(settings.answers_per_client_per_hour, HOUR),
                       answers_per_fingerprint=Window(settings.answers_per_fingerprint_per_day, DAY))


def is_answer_kind(kind: str) -> bool:
    """Whether mail of outbox kind `kind` answers an inbound mail (and so counts per domain, client
    and fingerprint as well as per address)."""
    return kind in ANSWER_KINDS


def is_braked_kind(kind: str) -> bool:
    """Whether mail of outbox kind `kind` counts against the brakes."""
    return kind in BRAKED_KINDS or kind.startswith(BRAKED_PREFIXES)


@dataclass(frozen=True)
class BrakeDecision:
    """Send or hold, and why."""

    send: bool
    reason: str


def decide(kind: str, recipient: str, counts: SentCounts, limits: BrakeLimits) -> BrakeDecision:
    """Whether one more automatic mail of `kind` may go to `recipient`, given what was sent before."""
    if not is_braked_kind(kind):
        return BrakeDecision(True, f"{kind} is not automatic mail to an outsider")
    window = limits.window_for(kind)
    if window is not None and counts.same_kind >= window.limit:
        return BrakeDecision(False, f"brake: {counts.same_kind} {kind} mails to {recipient} in the last "
                                    f"{_span(window.period)} (limit {window.limit})")
    daily = limits.any_automatic
    if counts.automatic_day >= daily.limit:
        return BrakeDecision(False, f"brake: {counts.automatic_day} automatic mails to {recipient} in the "
                                    f"last {_span(daily.period)} (limit {daily.limit})")
    return BrakeDecision(True, "within limits")


def decide_answer(kind: str, recipient: str, counts: AnswerCounts, limits: BrakeLimits) -> BrakeDecision:
    """Whether one more answer of `kind` may go to `recipient`, given the answers already sent to
    its domain, to mail from the same client and to mail with the same fingerprint."""
    domain = recipient.rpartition("@")[2]
    for counted, window, what in ((counts.domain, limits.answers_per_domain, f"to {domain}"),
                                  (counts.client, limits.answers_per_client, "to mail from that client"),
                                  (counts.fingerprint, limits.answers_per_fingerprint,
                                   "to other addresses for mail with that fingerprint")):
        if counted >= window.limit:
            return BrakeDecision(False, f"brake: {counted} answers {what} in the last {_span(window.period)} "
                                        f"(limit {window.limit}); no {kind} to {recipient}")
    return BrakeDecision(True, "within limits")


def answer_windows(limits: BrakeLimits) -> tuple[timedelta, timedelta, timedelta]:
    """How far back the caller counts answers per domain, per client and per fingerprint."""
    return (limits.answers_per_domain.period, limits.answers_per_client.period,
            limits.answers_per_fingerprint.period)


def within_cap(recipients: Sequence[T], limits: BrakeLimits) -> tuple[tuple[T, ...], tuple[T, ...]]:
    """(the recipients a mail may go to, those held back): the first `recipients_per_mail`, To first."""
    cap = limits.recipients_per_mail
    return tuple(recipients[:cap]), tuple(recipients[cap:])


def over_cap_reason(held: Sized, limits: BrakeLimits) -> str:
    """Why `held` recipients of one mail got nothing."""
    return (f"brake: {len(held)} more recipients than the limit of {limits.recipients_per_mail} per mail; "
            "held back")


def windows(kind: str, limits: BrakeLimits) -> Mapping[str, timedelta]:
    """Which windows the caller must count for `kind`: the per-kind one (if any) and the day."""
    found = {"automatic_day": limits.any_automatic.period}
    window = limits.window_for(kind)
    if window is not None:
        found["same_kind"] = window.period
    return found


def _span(period: timedelta) -> str:
    hours = period.total_seconds() / 3600
    return f"{hours:g} h"
