"""Subject tags: finding ours, ignoring other desks', writing exactly one."""

from __future__ import annotations

import pytest

from maildesk.mail.tags import find_ticket_id, tag_subject, ticket_number


@pytest.mark.parametrize(("subject", "instance", "expected"), [
    ("[#42] Printer", "", 42),
    ("Re: [#42] Printer", "", 42),
    ("AW: Fwd: RE: [#7] x", "", 7),
    ("Re: [ACME #42] Printer", "ACME", 42),
    ("Re: [acme #42] Printer", "ACME", 42),
    ("Re: [#42] Printer", "ACME", 42),  # the bare form is always accepted
    ("Re: [OTHER #42] Printer", "ACME", None),  # another desk's tag
    ("Re: [OTHER #42] [#9] Printer", "", 9),
    ("Printer [#x]", "", None),
    ("Ticket#42 is late", "", None),
    ("", "", None),
])
def test_find_ticket_id(subject: str, instance: str, expected: int | None) -> None:
    # Only our own tag (bare, or with our instance) names a ticket.
    assert find_ticket_id(subject, instance) == expected


@pytest.mark.parametrize(("subject", "instance", "expected"), [
    ("Printer broken", "", "[#5] Printer broken"),
    ("Re: [#5] Printer broken", "", "[#5] Re: Printer broken"),
    ("[#4] [#5] x", "", "[#5] x"),
    ("", "", "[#5]"),
    ("Printer", "ACME", "[ACME #5] Printer"),
    ("[OTHER #1] Printer", "ACME", "[ACME #5] [OTHER #1] Printer"),
])
def test_tag_subject_has_exactly_one_tag(subject: str, instance: str, expected: str) -> None:
    # Our older tags are replaced, other desks' tags kept.
    assert tag_subject(subject, 5, instance) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("12", 12), ("#12", 12), ("[#12]", 12), (" [CUSTOMS #12] ", 12), ("customs #12", 12), ("CUSTOMS #1", 1),
    ("[OTHER #12]", None), ("printer 12", None), ("CUSTOMS 12", None), ("#", None), ("", None), ("12a", None),
])
def test_a_ticket_number_as_the_requester_sees_it(text: str, expected: int | None) -> None:
    # `tickets show` and `list --text` take the number in any form the desk's mail shows it.
    assert ticket_number(text, "CUSTOMS") == expected
