"""What an acknowledgement may carry, given what proves who the sender is. Pure.

From: and the envelope sender are both the client's to write, so neither proves anything alone;
but a forger who aims our acknowledgements at strangers rarely sets the two alike, and a receiving
MTA we trust can vouch for the From: domain (SPF or DKIM pass for a domain aligned with it,
RFC 7489 3.1). A sender that is neither aligned nor vouched for gets an acknowledgement that
carries none of their text — no subject, no name, no words of the mail — or none at all, as
`[brakes] unverified_acks` says: the desk's own words are worthless to a spammer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class AckMode(enum.StrEnum):
    """What the acknowledgement of a new ticket carries."""

    FULL = "full"  # the usual one: subject, name, suggestions
    NEUTRAL = "neutral"  # the desk's words only
    HOLD = "hold"  # none


@dataclass(frozen=True)
class SenderProof:
    """What the mail says about its sender: the From: domain, the envelope sender's domain ("" when
    there is none), whether the two are aligned, and the method a trusted Authentication-Results
    passed for a domain aligned with From: ("" when none did)."""

    from_domain: str
    envelope_domain: str
    aligned: bool
    vouched_by: str


@dataclass(frozen=True)
class AckDecision:
    """The acknowledgement's mode, and why."""

    mode: AckMode
    reason: str


def decide_ack(proof: SenderProof, unverified: str) -> AckDecision:
    """FULL for an aligned or vouched sender; else `unverified` ("neutral" or "hold")."""
    if proof.vouched_by:
        return AckDecision(AckMode.FULL,
                           f"{proof.vouched_by} pass for {proof.from_domain} from a trusted host")
    if proof.aligned:
        return AckDecision(AckMode.FULL, f"From: {proof.from_domain} aligned with the envelope sender")
    envelope = proof.envelope_domain or "no envelope sender"
    why = (f"From: {proof.from_domain} not aligned with the envelope sender ({envelope}) and not vouched "
           "for by a trusted Authentication-Results")
    mode = AckMode.HOLD if unverified == "hold" else AckMode.NEUTRAL
    what = "no acknowledgement" if mode is AckMode.HOLD else "an acknowledgement without the sender's text"
    return AckDecision(mode, f"{what}: {why}")
