"""Threading decisions: tag, references, strangers, reopen and closed tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maildesk.domain import Status
from maildesk.policy.threading import FollowUp, NewTicket, ThreadFacts, TicketView, decide_thread

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _ticket(status: Status = Status.OPEN, closed_days_ago: float | None = None, tid: int = 1) -> TicketView:
    closed = NOW - timedelta(days=closed_days_ago) if closed_days_ago is not None else None
    return TicketView(id=tid, status=status, participants=frozenset({"bob@x.org", "cc@x.org"}), closed_at=closed)


def _facts(**changes: object) -> ThreadFacts:
    base: dict[str, object] = dict(sender="bob@x.org", tagged=None, referenced=None,
                                   cites_our_mail_on=frozenset(), machine=False, now=NOW, reopen_closed_days=7)
    return ThreadFacts(**(base | changes))  # type: ignore[arg-type]


def test_no_tag_no_reference_is_new() -> None:
    # A first mail opens a ticket.
    assert isinstance(decide_thread(_facts()), NewTicket)


def test_tag_from_requester_follows_up() -> None:
    # The requester's reply with the tag lands on the ticket, status unchanged.
    assert decide_thread(_facts(tagged=_ticket())) == FollowUp(1, "subject tag")


def test_reference_from_cc_participant_follows_up() -> None:
    # A CC'd participant's reply found by References lands on the ticket.
    d = decide_thread(_facts(sender="cc@x.org", referenced=_ticket()))
    assert isinstance(d, FollowUp) and d.ticket_id == 1


def test_tag_from_stranger_is_new_ticket() -> None:
    # Anyone can type [#1]; a stranger without proof gets a ticket of their own.
    d = decide_thread(_facts(sender="mallory@evil.example", tagged=_ticket()))
    assert isinstance(d, NewTicket) and "not on #1" in d.reason


def test_stranger_citing_our_mail_follows_up() -> None:
    # Someone who replies to our own mail on the ticket holds proof and is let in.
    d = decide_thread(_facts(sender="colleague@x.org", tagged=_ticket(), cites_our_mail_on=frozenset({1})))
    assert isinstance(d, FollowUp) and "cites our mail" in d.reason


def test_proof_for_another_ticket_does_not_count() -> None:
    # Citing our mail on ticket 2 proves nothing about ticket 1.
    d = decide_thread(_facts(sender="mallory@evil.example", tagged=_ticket(), cites_our_mail_on=frozenset({2})))
    assert isinstance(d, NewTicket)


def test_tag_wins_over_reference() -> None:
    # When tag and references disagree, the tag the person sees decides.
    d = decide_thread(_facts(tagged=_ticket(tid=3), referenced=_ticket(tid=4)))
    assert isinstance(d, FollowUp) and d.ticket_id == 3


@pytest.mark.parametrize("status", [Status.PENDING, Status.RESOLVED])
def test_requester_reply_reopens(status: Status) -> None:
    # A reply to a ticket waiting on the requester, or resolved, puts it back in work.
    d = decide_thread(_facts(tagged=_ticket(status)))
    assert isinstance(d, FollowUp) and d.new_status == Status.OPEN


@pytest.mark.parametrize("status", [Status.PENDING, Status.CLOSED])
def test_machine_mail_never_moves_a_ticket(status: Status) -> None:
    # An out-of-office on a pending or closed ticket is stored there but changes nothing.
    d = decide_thread(_facts(tagged=_ticket(status, closed_days_ago=30 if status == Status.CLOSED else None),
                             machine=True))
    assert isinstance(d, FollowUp) and d.new_status is None


def test_reply_to_recently_closed_ticket_reopens() -> None:
    # Within the window a closed ticket comes back to life.
    d = decide_thread(_facts(tagged=_ticket(Status.CLOSED, closed_days_ago=2)))
    assert isinstance(d, FollowUp) and d.new_status == Status.OPEN


@pytest.mark.parametrize("status", [Status.CLOSED, Status.CANCELED])
def test_reply_to_long_closed_ticket_opens_linked_one(status: Status) -> None:
    # After the window, a new ticket is opened and linked to the old one.
    d = decide_thread(_facts(tagged=_ticket(status, closed_days_ago=8)))
    assert isinstance(d, NewTicket) and d.linked_to == 1
