"""What counts as one mail address (an addr-spec) wherever maildesk reads or writes one."""

from __future__ import annotations

import re

# A local part and a domain around a single @; no spaces, brackets, commas, quotes or control characters.
_ATOM = r"[^\s<>\"(),;:\\\[\]@\x00-\x1f\x7f]+"
_ADDR_SPEC = re.compile(rf"{_ATOM}@{_ATOM}")


def is_addr_spec(value: str) -> bool:
    """Whether `value` is exactly one plain address such as ``bob@example.org``."""
    # fullmatch, not ^...$: "$" also matches before a final "\n", which would let one line break through.
    if not _ADDR_SPEC.fullmatch(value):
        return False
    return not value.startswith(".") and ".." not in value.partition("@")[2]
