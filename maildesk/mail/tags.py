"""The ticket tag in subjects: ``[#123]``, or ``[ACME #123]`` when an instance name is set."""

from __future__ import annotations

import re

_ANY_TAG = re.compile(r"\[\s*(?P<instance>[A-Za-z0-9_-]+\s+)?#(?P<id>\d{1,12})\s*\]")


def find_ticket_id(subject: str, instance: str = "") -> int | None:
    """The first ticket id tagged in `subject` for this desk, or None.

    The bare ``[#N]`` form is always accepted (people retype it); a prefixed
    form counts only when its prefix is our instance, so tags of another desk
    that a requester quotes do not thread onto our tickets.
    """
    for m in _ANY_TAG.finditer(subject):
        prefix = (m["instance"] or "").strip()
        if not prefix or prefix.lower() == instance.lower():
            return int(m["id"])
    return None


def make_tag(ticket_id: int, instance: str = "") -> str:
    """The tag we write for `ticket_id`."""
    return f"[{instance} #{ticket_id}]" if instance else f"[#{ticket_id}]"


def tag_subject(subject: str, ticket_id: int, instance: str = "") -> str:
    """`subject` carrying exactly one tag for `ticket_id`, any older tags of ours removed."""
    rest = untagged(subject, instance)
    tag = make_tag(ticket_id, instance)
    return f"{tag} {rest}" if rest else tag


def untagged(subject: str, instance: str = "") -> str:
    """`subject` without our tags (another desk's stay), its spaces tidied."""
    def ours(m: re.Match[str]) -> str:
        prefix = (m["instance"] or "").strip()
        return "" if not prefix or prefix.lower() == instance.lower() else m[0]

    return " ".join(_ANY_TAG.sub(ours, subject).split())


_NUMBER = re.compile(r"^\[?\s*(?:(?P<instance>[A-Za-z0-9_-]+)\s+)?#?(?P<id>\d{1,12})\s*\]?$")


def ticket_number(text: str, instance: str = "") -> int | None:
    """The ticket `text` names as the requester sees it — ``[ACME #12]``, ``ACME #12``, ``[#12]``,
    ``#12`` or ``12`` — or None; a prefix other than our instance names another desk's ticket."""
    m = _NUMBER.match(text.strip())
    if m is None or (m["instance"] and m["instance"].lower() != instance.lower()):
        return None
    if m["instance"] and "#" not in text:
        return None  # "ACME 12" is text, not a tag
    return int(m["id"])
