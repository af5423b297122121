"""Agent authentication: From: names the agent, a proof must back it."""

from __future__ import annotations

import pytest

from maildesk.policy.agent_auth import AgentEvidence, authenticate_agent

AGENTS = {"alice@example.org": 1, "bob@example.org": 2}
ALL = ("token", "dkim", "auth-results")


def _evidence(**changes: object) -> AgentEvidence:
    base: dict[str, object] = dict(sender="alice@example.org", ticket_id=42, token_ticket=None, token_agent=None,
                                   token_valid=False, dkim_domains=frozenset(), auth_results_pass=frozenset())
    return AgentEvidence(**(base | changes))  # type: ignore[arg-type]


def test_valid_token_for_this_agent_and_ticket() -> None:
    # The normal case: the agent answers the notification's Reply-To.
    v = authenticate_agent(_evidence(token_ticket=42, token_agent=1, token_valid=True), AGENTS, ("token",))
    assert (v.agent_id, v.proof) == (1, "token")


@pytest.mark.parametrize(("changes", "reason"), [
    ({"token_ticket": 41, "token_agent": 1, "token_valid": True}, "another ticket"),
    ({"token_ticket": 42, "token_agent": 2, "token_valid": True}, "another agent"),
    ({"token_ticket": 42, "token_agent": 1, "token_valid": False}, "invalid reply token"),
    ({}, "no reply token"),
])
def test_forged_or_misused_token_is_refused(changes: dict[str, object], reason: str) -> None:
    # A token for ticket 41 or for Bob, a broken one, or none: Alice's From: alone proves nothing.
    v = authenticate_agent(_evidence(**changes), AGENTS, ("token",))
    assert v.agent_id is None and v.failed_claim and reason in v.reason


def test_dkim_counts_only_when_accepted() -> None:
    # DKIM for the agent's domain is a proof only where the admin accepts it.
    evidence = _evidence(dkim_domains=frozenset({"example.org"}))
    assert authenticate_agent(evidence, AGENTS, ("token",)).agent_id is None
    assert authenticate_agent(evidence, AGENTS, ALL).proof == "dkim"


def test_dkim_of_another_domain_does_not_count() -> None:
    # A valid signature from the attacker's own domain proves nothing about example.org.
    v = authenticate_agent(_evidence(dkim_domains=frozenset({"evil.example"})), AGENTS, ALL)
    assert v.agent_id is None


def test_trusted_authentication_results() -> None:
    # Our MTA's Authentication-Results pass for the agent's domain is a proof when accepted.
    v = authenticate_agent(_evidence(auth_results_pass=frozenset({"example.org"})), AGENTS, ALL)
    assert v.proof == "auth-results"


def test_non_agent_is_simply_a_requester() -> None:
    # Mail from someone who is not an agent is not a failed authentication.
    v = authenticate_agent(_evidence(sender="bob@client.example"), AGENTS, ALL)
    assert v.agent_id is None and not v.failed_claim
