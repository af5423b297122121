"""Which RCPT TO addresses the listener accepts."""

from __future__ import annotations

import pytest

from maildesk.arrival.recipients import is_ours

OWN = frozenset({"support@example.org", "help@example.org"})


@pytest.mark.parametrize(
    ("address", "ours"),
    [
        pytest.param("support@example.org", True, id="the-desk-address"),
        pytest.param("Support@EXAMPLE.org", True, id="any-case"),
        pytest.param("help@example.org", True, id="an-alias"),
        pytest.param("support+t1.a2.abcdef@example.org", True, id="a-signed-reply-address"),
        pytest.param("support+status@example.org", True, id="the-status-address"),
        pytest.param("sales@example.org", False, id="another-mailbox-of-the-domain"),
        pytest.param("support@example.org.evil.test", False, id="a-lookalike-domain"),
        pytest.param("support", False, id="no-domain"),
    ],
)
def test_only_the_desk_addresses_with_any_detail_are_accepted(address: str, ours: bool) -> None:
    # Scenario: RCPT TO is checked against the desk address and its aliases, +detail ignored.
    assert is_ours(address, OWN) is ours
