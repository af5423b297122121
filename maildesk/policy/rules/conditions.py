"""Rule conditions: small frozen tests of one mail, combined into groups. Pure.

Each condition answers ``check(view, queue)`` from a :class:`MailView`; ``queue`` is the queue the
walk has chosen so far, which the working-hours test needs. :mod:`maildesk.policy.rules.compile`
builds them from the config's `when` tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from maildesk.policy.rules.facts import MailView


class Condition(Protocol):
    """A pure test of one mail; `queue` is the queue chosen so far (for the working-hours test)."""

    def check(self, view: MailView, queue: str) -> bool:
        """True when the mail satisfies the condition."""
        ...


@dataclass(frozen=True, slots=True)
class Always:
    """A rule without `when` applies to every mail."""

    def check(self, view: MailView, queue: str) -> bool:
        """Always true."""
        return True


@dataclass(frozen=True, slots=True)
class FieldMatch:
    """One field against plain strings or regexes; `mode` says what a plain match means for it."""

    field: str
    needles: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    mode: str = "contains"  # "contains" for text, "equals" for addresses, "domain" for from_domain
    header: str = ""
    case_sensitive: bool = False
    negate: bool = False

    def check(self, view: MailView, queue: str) -> bool:
        """True when any value of the field matches any needle or pattern (inverted by `negate`)."""
        # Plain loops, not any(): this runs for every rule on every mail (see bench/rules.py).
        # A case-insensitive regex was compiled folded (see _folded_regex) and reads folded values.
        values = view.values(self.field, self.header, self.case_sensitive)
        for pattern in self.patterns:
            for value in values:
                if pattern.search(value):
                    return not self.negate
        contains = self.mode == "contains"
        for needle in self.needles:
            for value in values:
                if (needle in value) if contains else _plain_hit(self.mode, needle, value):
                    return not self.negate
        return self.negate


def _plain_hit(mode: str, needle: str, value: str) -> bool:
    if mode == "equals":
        return needle == value
    if mode == "domain":
        # A domain also covers its subdomains: example.org matches mail.example.org.
        return value == needle or value.endswith("." + needle)
    return needle in value


@dataclass(frozen=True, slots=True)
class HasAttachment:
    """The mail carries at least one attachment."""

    negate: bool = False

    def check(self, view: MailView, queue: str) -> bool:
        """True when there is an attachment (inverted by `negate`)."""
        return view.facts.has_attachment != self.negate


@dataclass(frozen=True, slots=True)
class IsAbusive:
    """maildesk.policy.abuse found the mail abusive."""

    negate: bool = False

    def check(self, view: MailView, queue: str) -> bool:
        """True when the mail is abusive (inverted by `negate`)."""
        return view.facts.abusive != self.negate


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """The mail arrived inside (or outside) working hours of a calendar, by default its queue's."""

    inside: bool
    calendar: str = ""
    negate: bool = False

    def check(self, view: MailView, queue: str) -> bool:
        """True when the working-hours state is the wanted one (inverted by `negate`)."""
        return (view.working(queue, self.calendar) == self.inside) != self.negate


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every child condition holds."""

    children: tuple[Condition, ...]
    negate: bool = False

    def check(self, view: MailView, queue: str) -> bool:
        """True when all children hold (inverted by `negate`)."""
        return all(c.check(view, queue) for c in self.children) != self.negate


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one child condition holds."""

    children: tuple[Condition, ...]
    negate: bool = False

    def check(self, view: MailView, queue: str) -> bool:
        """True when any child holds (inverted by `negate`)."""
        return any(c.check(view, queue) for c in self.children) != self.negate

