"""Signed reply addresses: ``support+t42.a3.<mac>@example.org`` names a ticket and an agent (kind
``a``), ``x`` a third party we forwarded to, ``r`` the ticket's requester (their answer to our mail
proves it answers our mail, which "solved" and "#cancel" need).

The mac is an HMAC-SHA256 of what the address claims, under `[desk] secret`,
cut to 80 bits of lowercase hex: lowercase because some mail systems fold the
local part's case, and 80 bits because an attacker gets one guess per mail.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

MAC_HEX = 20
_TOKEN = re.compile(r"^t(?P<ticket>\d{1,12})\.(?P<kind>[axr])(?P<who>\d{1,12})\.(?P<mac>[0-9a-f]{20})$")


@dataclass(frozen=True)
class TokenClaim:
    """What a reply address claims: ticket, and agent (kind 'a'), third party (kind 'x') or requester
    (kind 'r')."""

    ticket_id: int
    kind: str
    who: int
    mac: str


def _mac(secret: str, ticket_id: int, kind: str, who: int) -> str:
    message = f"maildesk-reply:{ticket_id}:{kind}:{who}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:MAC_HEX]


def reply_address(desk_address: str, secret: str, ticket_id: int, who: int, kind: str = "a") -> str:
    """The reply address for `who` (an agent id, or a third party's id with kind 'x') on a ticket."""
    local, _, domain = desk_address.partition("@")
    base = local.split("+", 1)[0]
    return f"{base}+t{ticket_id}.{kind}{who}.{_mac(secret, ticket_id, kind, who)}@{domain}"


def parse_reply_address(address: str, desk_address: str) -> TokenClaim | None:
    """The claim in `address` if it is a token address of this desk, else None (no check of the mac)."""
    local, _, domain = address.strip().lower().rpartition("@")
    desk_local, _, desk_domain = desk_address.lower().partition("@")
    base, plus, detail = local.partition("+")
    if not plus or base != desk_local.split("+", 1)[0] or domain != desk_domain:
        return None
    m = _TOKEN.match(detail)
    if not m:
        return None
    return TokenClaim(int(m["ticket"]), m["kind"], int(m["who"]), m["mac"])


def verify(claim: TokenClaim, secret: str) -> bool:
    """Whether the claim's mac was made with `secret` (constant-time comparison)."""
    return hmac.compare_digest(claim.mac, _mac(secret, claim.ticket_id, claim.kind, claim.who))
