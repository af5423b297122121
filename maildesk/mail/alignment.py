"""Identifier alignment (RFC 7489 3.1, relaxed): do two domains belong to one organisation? Pure.
The only module that imports `publicsuffixlist`, which ships the Public Suffix List inside the
package (nothing is fetched at run time).

`bounce.client.example` and `client.example` are aligned (one organisational domain); `a.co.uk`
and `b.co.uk` are not, because `co.uk` is a public suffix.
"""

from __future__ import annotations

import functools

from publicsuffixlist import PublicSuffixList


@functools.cache
def _list() -> PublicSuffixList:
    return PublicSuffixList()  # about 40 ms to read the list: once per process


def domain_of(address: str | None) -> str:
    """The domain of a mail address, lowercased, without a trailing dot ("" for none)."""
    if not address or "@" not in address:
        return ""
    return address.strip().strip("<>").rpartition("@")[2].strip().rstrip(".").lower()


def organisational_domain(domain: str) -> str:
    """The registrable domain of `domain` (`client.example` for `mx.client.example`); `domain`
    itself when it is a public suffix or not a domain name at all."""
    domain = _bare(domain)
    if not domain or domain.startswith("["):  # an address literal is its own organisation
        return domain
    return str(_list().privatesuffix(domain) or domain)


def aligned(first: str, second: str) -> bool:
    """Whether two domains share their organisational domain (DMARC's relaxed alignment)."""
    if not first or not second:
        return False
    if _bare(first) == _bare(second):  # most mail: From: and envelope in one domain; no list needed
        return True
    return organisational_domain(first) == organisational_domain(second)


def _bare(domain: str) -> str:
    return domain.strip().rstrip(".").lower()
