"""Decide whether a mail is an agent's action (DESIGN.md decision 5). Pure.

From: is trivially forged, so it only says *which* agent a mail claims to be
from. The claim counts when one of the accepted proofs holds for that agent:
the reply token verifies for this agent and this ticket, DKIM verifies for the
agent's domain, or a trusted host's Authentication-Results says pass for it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class AgentEvidence:
    """What the pipeline verified about one mail."""

    sender: str
    ticket_id: int | None
    token_ticket: int | None
    token_agent: int | None
    token_valid: bool
    dkim_domains: frozenset[str]
    auth_results_pass: frozenset[str]


@dataclass(frozen=True)
class AgentVerdict:
    """The agent the mail acts for (None: treat as a requester's mail), and why."""

    agent_id: int | None
    proof: str
    reason: str

    @property
    def failed_claim(self) -> bool:
        """An agent's address without a proof: logged as a failed agent authentication."""
        return self.agent_id is None and self.proof == "none"


def authenticate_agent(evidence: AgentEvidence, agents: Mapping[str, int],
                       accepted: Collection[str]) -> AgentVerdict:
    """Check the mail's evidence against the agent named by its From: address."""
    agent_id = agents.get(evidence.sender)
    if agent_id is None:
        return AgentVerdict(None, "", "sender is not an agent")
    domain = evidence.sender.rpartition("@")[2]
    if "token" in accepted and evidence.token_valid:
        if evidence.token_agent != agent_id:
            return AgentVerdict(None, "none", "reply token belongs to another agent")
        if evidence.ticket_id is not None and evidence.token_ticket != evidence.ticket_id:
            return AgentVerdict(None, "none", "reply token is for another ticket")
        return AgentVerdict(agent_id, "token", "reply token verified")
    if "dkim" in accepted and domain in evidence.dkim_domains:
        return AgentVerdict(agent_id, "dkim", f"DKIM signature of {domain} verified")
    if "auth-results" in accepted and domain in evidence.auth_results_pass:
        return AgentVerdict(agent_id, "auth-results", f"trusted Authentication-Results pass for {domain}")
    why = "invalid reply token" if evidence.token_ticket is not None else "no reply token"
    return AgentVerdict(None, "none", f"From: is an agent but {why} and no accepted proof")
