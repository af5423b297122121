"""DKIM verification of inbound mail (RFC 6376). The only module that imports dkimpy.

It looks up public keys in DNS, so it lives outside the pure layers; the
lookup function can be replaced (tests use one that serves a key they made).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import dkim

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
