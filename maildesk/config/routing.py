"""Calendars, queues, categories and rules: everything that routes, classifies and prioritises.

These sections refer to each other by name (a queue names a calendar and a category, a rule names
queues, categories and calendars, each support address belongs to one queue), so after each table
is validated the references are checked here, each in one place.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, with_config

from maildesk.config.faults import Faults
from maildesk.config.fields import (
    BUILT,
    FORBID,
    AddressOrEmpty,
    Days,
    Flag,
    Hours,
    Language,
    LowerAddress,
    Name,
    PriorityName,
    Zone,
    refuse,
)
from maildesk.config.rules import Known, RuleSettings, rules_settings

DEFAULT_CALENDAR = "default"
OTHER_CATEGORY = "other"
_LANGUAGES = typing.get_args(Language)


def _titles(value: Any) -> Any:
    if isinstance(value, dict) and all(k in _LANGUAGES and isinstance(v, str) for k, v in value.items()):
        return tuple(value.items())
    raise refuse(value, f"should be a table of titles by language ({', '.join(_LANGUAGES)})")


@with_config(FORBID)
@dataclass(frozen=True, kw_only=True)
class CalendarSettings:
    """Working hours as written in `[calendars.NAME]`; turned into a Calendar by maildesk.policy."""

    name: Name
    tz: Zone = "UTC"
    hours: Hours = "24/7"
    holidays_country: str = ""
    holidays_subdiv: str = ""
    holidays: Days = ()
    extra_working_days: Days = ()


@with_config(FORBID)
@dataclass(frozen=True, kw_only=True)
class QueueSettings:
    """One `[[queues]]` entry: the support addresses it owns and what its tickets start with."""

    name: Name
    addresses: tuple[LowerAddress, ...] = ()
    agents: tuple[LowerAddress, ...] = ()
    calendar: str = DEFAULT_CALENDAR
    default_category: str = OTHER_CATEGORY
    default_priority: PriorityName = "normal"
    # How the queue's notices sign: the sender's display name ("" = [desk] name) and lines under it.
    display_name: str = ""
    signature: str = ""
    # Who an abusive mail is raised to: assigned (when an active agent) and told ("" = [abuse] lead).
    lead: Annotated[AddressOrEmpty, AfterValidator(str.lower)] = ""
    # Whether its resolved tickets' requesters are asked to rate them (None: [satisfaction] enabled).
    satisfaction: Flag | None = None


@with_config(FORBID)
@dataclass(frozen=True)
class CategorySettings:
    """One `[[categories]]` entry; `titles` pairs a language with the title shown in it."""

    name: Name
    titles: Annotated[tuple[tuple[Language, str], ...], Field(validation_alias="title"),
                      BeforeValidator(_titles)] = ()


@with_config(FORBID)
@dataclass(frozen=True)
class RoutingSettings:
    """Everything that routes, classifies and prioritises a request."""

    calendars: Annotated[tuple[CalendarSettings, ...], BUILT] = ()
    queues: Annotated[tuple[QueueSettings, ...], BUILT] = ()
    categories: Annotated[tuple[CategorySettings, ...], BUILT] = (CategorySettings(OTHER_CATEGORY, ()),)
    rules: Annotated[tuple[RuleSettings, ...], BUILT] = ()
    # [rules_defaults] importance_high: priority "high" when the requester flags the mail.
    importance_high: Flag = True


def routing_settings(path: Path, data: Mapping[str, Any], defaults: Any) -> RoutingSettings:
    """The routing sections of `data` and the `[rules_defaults]` table `defaults`, checked against
    each other; ConfigError lists every fault."""
    faults = Faults(path)
    return faults.result(build_routing(data, defaults, faults))


def build_routing(data: Mapping[str, Any], defaults: Any, faults: Faults) -> RoutingSettings:
    """The routing sections of `data`; what is faulty is left out and adds its lines to `faults`."""
    calendars = _calendars(data.get("calendars", {}), faults)
    categories = _categories(data.get("categories", []), faults)
    known = Known(queues=frozenset(), categories=frozenset(c.name for c in categories),
                  calendars=frozenset({DEFAULT_CALENDAR, *(c.name for c in calendars)}))
    queues = _queues(data.get("queues", []), known, faults)
    known = Known(queues=frozenset(q.name for q in queues), categories=known.categories,
                  calendars=known.calendars)
    rules = rules_settings(data.get("rules", []), known, faults)
    routing = faults.check(RoutingSettings, "rules_defaults", defaults, calendars=calendars, queues=queues,
                           categories=categories, rules=rules)
    return routing or RoutingSettings()


def array(section: str, value: Any, faults: Faults) -> list[Any]:
    """The `[[section]]` array of tables, or [] after a fault when it is written otherwise."""
    if isinstance(value, list):
        return value
    faults.wrong(section, value, f"an array of tables ([[{section}]])")
    return []


def unique(key: str, name: str, seen: set[str], faults: Faults) -> bool:
    """Whether `name` is not in `seen` (then it is added); a fault if it is."""
    if name in seen:
        faults.add(f"{key} = {name!r} is used twice")
        return False
    seen.add(name)
    return True


def _calendars(given: Any, faults: Faults) -> tuple[CalendarSettings, ...]:
    if not isinstance(given, dict):
        faults.wrong("calendars", given, "a table of [calendars.NAME] tables")
        return ()
    calendars = (faults.check(CalendarSettings, f"calendars.{name}", table, name=name)
                 for name, table in given.items())
    return tuple(c for c in calendars if c is not None)


def _categories(given: Any, faults: Faults) -> tuple[CategorySettings, ...]:
    seen: set[str] = set()
    out = []
    for i, table in enumerate(array("categories", given, faults)):
        category = faults.check(CategorySettings, f"categories[{i}]", table)
        if category is not None and unique(f"categories[{i}].name", category.name, seen, faults):
            out.append(category)
    if OTHER_CATEGORY not in seen:
        # "Other" always exists: it is where a request no rule recognises lands.
        out.append(CategorySettings(OTHER_CATEGORY, ()))
    return tuple(out)


def _queues(given: Any, known: Known, faults: Faults) -> tuple[QueueSettings, ...]:
    seen: set[str] = set()
    owner: dict[str, str] = {}
    out = []
    for i, table in enumerate(array("queues", given, faults)):
        key = f"queues[{i}]"
        queue = faults.check(QueueSettings, key, table)
        if queue is None or not unique(f"{key}.name", queue.name, seen, faults):
            continue
        faults.known(f"{key}.calendar", queue.calendar, known.calendars)
        faults.known(f"{key}.default_category", queue.default_category, known.categories)
        for address in queue.addresses:
            if address in owner:
                faults.add(f"{key}.addresses: {address} already belongs to queue {owner[address]}")
            owner.setdefault(address, queue.name)
        out.append(queue)
    return tuple(out)
