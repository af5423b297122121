"""Read Authentication-Results (RFC 8601) written by a host we trust. Pure. The only module that
imports the `authres` library.

Anyone can write an Authentication-Results header into a mail. Only the topmost one whose
authserv-id is a configured trusted host counts: our own MTA adds its header above everything that
came with the message, and a well-configured MTA removes look-alikes carrying its own authserv-id.

The header is parsed by `authres`, which knows RFC 8601's grammar: a quoted string or a comment
that contains `; dkim=pass header.d=…` is a value, not a result. A header it cannot parse gives no
result at all (never a pass).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import authres

#: Which property names the domain a result speaks for, by method, in order of preference.
_DOMAIN_PROPERTIES = (("header", "d"), ("header", "i"), ("smtp", "mailfrom"), ("header", "from"),
                      ("smtp", "helo"))


@dataclass(frozen=True)
class AuthResult:
    """One method's verdict, with the domain it speaks for."""

    method: str
    result: str
    domain: str


def trusted_results(headers: Sequence[tuple[str, str]],
                    trusted_hosts: Collection[str]) -> tuple[AuthResult, ...]:
    """The results in the topmost Authentication-Results header from a trusted host, else ()."""
    trusted = {h.lower() for h in trusted_hosts}
    if not trusted:
        return ()
    for name, value in headers:
        if name.lower() != "authentication-results":
            continue
        parsed = _parsed(value)
        if parsed is not None and str(parsed.authserv_id).lower() in trusted:
            return tuple(_result(r) for r in parsed.results)
    return ()


def _parsed(value: str) -> authres.AuthenticationResultsHeader | None:
    try:
        return authres.AuthenticationResultsHeader.parse_value(" ".join(value.split()))
    except Exception:  # authres raises its own errors and a few plain ones on junk: no result then
        return None


def _result(found: authres.AuthenticationResult) -> AuthResult:
    props = {(str(p.type).lower(), str(p.name).lower()): str(p.value) for p in found.properties}
    where = next((props[k] for k in _DOMAIN_PROPERTIES if props.get(k)), "")
    domain = where.rpartition("@")[2].strip("\"'<>").lower()
    return AuthResult(str(found.method).lower(), str(found.result).lower(), domain)


def passes_for(results: Sequence[AuthResult], domain: str, methods: Collection[str]) -> str | None:
    """The first of `methods` that passed for exactly `domain`, or None."""
    for r in results:
        if r.method in methods and r.result == "pass" and r.domain == domain.lower():
            return r.method
    return None
