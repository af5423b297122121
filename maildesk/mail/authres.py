"""Read Authentication-Results (RFC 8601) written by a host we trust. Pure.

Anyone can write an Authentication-Results header into a mail. Only the
topmost one whose authserv-id is a configured trusted host counts: our own
MTA adds its header above everything that came with the message, and a
well-configured MTA removes look-alikes carrying its own authserv-id.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"(?P<method>dkim|spf|dmarc)\s*=\s*(?P<result>[a-z]+)(?P<props>[^;]*)", re.IGNORECASE)
_PROP = re.compile(r"(?P<key>header\.d|header\.i|smtp\.mailfrom|header\.from)\s*=\s*(?P<value>[^\s;]+)",
                   re.IGNORECASE)


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
    for name, value in headers:
        if name.lower() != "authentication-results":
            continue
        text = _COMMENT.sub(" ", value)
        authserv, _, rest = text.partition(";")
        words = authserv.split()
        if words and words[0].lower() in trusted:
            return tuple(_results(rest))
    return ()


def _results(text: str) -> list[AuthResult]:
    found = []
    for m in _RESULT.finditer(text):
        props = {p["key"].lower(): p["value"] for p in _PROP.finditer(m["props"])}
        where = props.get("header.d") or props.get("header.i") or props.get("smtp.mailfrom") or ""
        domain = where.rpartition("@")[2].strip("\"'<>").lower()
        found.append(AuthResult(m["method"].lower(), m["result"].lower(), domain))
    return found


def passes_for(results: Sequence[AuthResult], domain: str, methods: Collection[str]) -> str | None:
    """The first of `methods` that passed for exactly `domain`, or None."""
    for r in results:
        if r.method in methods and r.result == "pass" and r.domain == domain.lower():
            return r.method
    return None
