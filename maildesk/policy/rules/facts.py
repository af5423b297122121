"""What rules may look at in one mail, and that view prepared once per evaluation. Pure.

The caller builds :class:`RuleFacts` from a parsed mail (addresses lowercased, the calendars in
working hours at the mail's instant already worked out), so no condition touches the parser, the
store or the clock. :class:`MailView` lends the conditions those facts, each field prepared once
however many rules ask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RuleFacts:
    """What rules may look at in one mail; addresses are lowercased by whoever builds this."""

    recipients: tuple[str, ...] = ()
    to_cc: tuple[str, ...] = ()
    sender: str = ""
    subject: str = ""
    text: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    has_attachment: bool = False
    working_calendars: frozenset[str] = frozenset()
    # Decided beside the rules, for the rules to read: the language the words say the mail is in
    # ("" when it has none), and whether maildesk.policy.abuse finds it abusive.
    language: str = ""
    abusive: bool = False


class MailView:
    """The facts of one evaluation with per-field values prepared once, however many rules ask."""

    __slots__ = ("_cache", "_headers", "calendars", "default_calendar", "facts")

    def __init__(self, facts: RuleFacts, calendars: Mapping[str, str], default_calendar: str) -> None:
        self.facts = facts
        self.calendars = calendars
        self.default_calendar = default_calendar
        self._cache: dict[tuple[str, str, bool], tuple[str, ...]] = {}
        self._headers: dict[str, tuple[str, ...]] | None = None

    def values(self, name: str, header: str, case_sensitive: bool) -> tuple[str, ...]:
        """The strings condition field `name` tests, casefolded unless `case_sensitive`."""
        key = (name, header, case_sensitive)
        found = self._cache.get(key)
        if found is None:
            found = self._raw(name, header)
            if not case_sensitive:
                found = tuple(v.lower() for v in found)
            self._cache[key] = found
        return found

    def working(self, queue: str, calendar: str) -> bool:
        """Whether the mail's instant is in working hours of `calendar`, else of `queue`'s calendar."""
        name = calendar or self.calendars.get(queue, self.default_calendar)
        return name in self.facts.working_calendars

    def _raw(self, name: str, header: str) -> tuple[str, ...]:
        f = self.facts
        by_field: dict[str, tuple[str, ...]] = {
            "recipient": f.recipients, "to_cc": f.to_cc, "from": (f.sender,),
            "from_domain": (f.sender.rpartition("@")[2],), "subject": (f.subject,), "body": (f.text,),
            "text": (f.subject, f.text), "language": (f.language,),
        }
        if name == "header":
            return self._header_values(header)
        return by_field[name]

    def _header_values(self, header: str) -> tuple[str, ...]:
        if self._headers is None:
            collected: dict[str, list[str]] = {}
            for key, value in self.facts.headers:
                collected.setdefault(key.lower(), []).append(value)
            self._headers = {k: tuple(v) for k, v in collected.items()}
        return self._headers.get(header.lower(), ())

