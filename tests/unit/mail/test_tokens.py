"""Signed reply addresses: round trip, tampering, other tickets and agents."""

from __future__ import annotations

import pytest

from maildesk.mail.tokens import parse_reply_address, reply_address, verify

DESK = "support@example.org"


def test_round_trip() -> None:
    # An address made for agent 3 on ticket 42 parses back and verifies.
    address = reply_address(DESK, "s3cret", 42, 3)
    assert address.startswith("support+t42.a3.") and address.endswith("@example.org")
    claim = parse_reply_address(address, DESK)
    assert claim is not None and (claim.ticket_id, claim.kind, claim.who) == (42, "a", 3)
    assert verify(claim, "s3cret")


def test_case_folded_by_a_mail_system_still_verifies() -> None:
    # Some systems upper-case local parts; the token survives.
    claim = parse_reply_address(reply_address(DESK, "k", 7, 1).upper(), DESK)
    assert claim is not None and verify(claim, "k")


@pytest.mark.parametrize("change", [("t42.", "t43."), (".a3.", ".a4."), (".a3.", ".x3.")])
def test_altered_claim_does_not_verify(change: tuple[str, str]) -> None:
    # Changing the ticket, the agent or the kind breaks the mac.
    forged = reply_address(DESK, "s3cret", 42, 3).replace(*change)
    claim = parse_reply_address(forged, DESK)
    assert claim is not None and not verify(claim, "s3cret")


def test_other_secret_does_not_verify() -> None:
    # A token made by another desk (another secret) is worthless here.
    claim = parse_reply_address(reply_address(DESK, "other", 42, 3), DESK)
    assert claim is not None and not verify(claim, "s3cret")


@pytest.mark.parametrize("address", ["support@example.org", "support+billing@example.org",
                                     "sales+t1.a1.0123456789abcdef0123@example.org",
                                     "support+t1.a1.0123456789abcdef0123@other.example",
                                     "support+t1.a1.xyz@example.org"])
def test_not_a_token_address(address: str) -> None:
    # Plain, subaddressed, foreign and malformed addresses carry no claim.
    assert parse_reply_address(address, DESK) is None
