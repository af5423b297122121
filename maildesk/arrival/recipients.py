"""Which recipients the desk accepts mail for at SMTP time (`550` for the rest). Pure."""

from __future__ import annotations

from collections.abc import Collection


def is_ours(address: str, own_addresses: Collection[str]) -> bool:
    """Whether `address` is the desk address or an alias, with any +detail (a signed reply address,
    the status address), compared without case."""
    local, _, domain = address.lower().rpartition("@")
    base = local.split("+", 1)[0]
    return f"{base}@{domain}" in own_addresses
