"""The evidence a mail can carry of who sent it: DKIM signatures (RFC 6376), a signed reply address,
a trusted host's Authentication-Results. The only module that imports dkimpy.

DKIM looks up public keys in DNS, so it lives outside the pure layers; the lookup function can be
replaced (tests use one that serves a key they made). What the evidence proves is decided by the
pure maildesk.policy.agent_auth.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence

import dkim

from maildesk.mail.alignment import aligned, domain_of
from maildesk.mail.authres import passes_for, trusted_results
from maildesk.mail.tokens import TokenClaim, parse_reply_address
from maildesk.policy.acks import SenderProof

log = logging.getLogger(__name__)

TxtLookup = Callable[..., bytes | None]
_D_TAG = re.compile(rb"(?:^|;)\s*d\s*=\s*([^;\s]+)", re.IGNORECASE)


def verified_domains(raw: bytes, lookup: TxtLookup | None = None) -> frozenset[str]:
    """The domains (d=) of every DKIM signature on `raw` that verifies; never raises."""
    try:
        checker = dkim.DKIM(raw)
        signatures = [v for k, v in checker.headers if k.lower() == b"dkim-signature"]
    except Exception:  # A mail dkimpy cannot read carries no usable signature.
        return frozenset()
    found: set[str] = set()
    for index, value in enumerate(signatures):
        m = _D_TAG.search(value.replace(b"\r\n", b""))
        if m is None:
            continue
        try:
            ok = checker.verify(idx=index, dnsfunc=lookup) if lookup else checker.verify(idx=index)
        except Exception as exc:  # DNS failures and malformed signatures both mean "not verified".
            log.debug("DKIM signature %d not verified: %r", index, exc)
            ok = False
        if ok:
            found.add(m[1].decode("ascii", "replace").lower())
    return frozenset(found)


def token_claim(desk_address: str, addresses: Iterable[str]) -> TokenClaim | None:
    """The first signed reply address (`support+t42.a7.<mac>@…`) among `addresses`, not yet verified."""
    for address in addresses:
        claim = parse_reply_address(address, desk_address)
        if claim is not None:
            return claim
    return None


def auth_results_pass(headers: Sequence[tuple[str, str]], trusted_hosts: Sequence[str],
                      domain: str) -> frozenset[str]:
    """{domain} when a trusted host's Authentication-Results says DKIM or SPF passed for it, else empty."""
    results = trusted_results(headers, trusted_hosts)
    return frozenset({domain}) if passes_for(results, domain, {"dkim", "spf"}) else frozenset()


def sender_proof(headers: Sequence[tuple[str, str]], trusted_hosts: Sequence[str], sender: str,
                 envelope_sender: str | None) -> SenderProof:
    """What the mail proves of its From: `sender`: alignment with the envelope sender, and which
    method a trusted host's Authentication-Results passed for a domain aligned with From:."""
    from_domain, envelope_domain = domain_of(sender), domain_of(envelope_sender)
    vouched = ""
    for result in trusted_results(headers, trusted_hosts):
        if result.result == "pass" and result.method in ("dkim", "spf", "dmarc") and \
                aligned(result.domain, from_domain):
            vouched = result.method
            break
    return SenderProof(from_domain, envelope_domain, aligned(from_domain, envelope_domain), vouched)
