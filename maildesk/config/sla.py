"""`[[sla]]`, `[sla_defaults]` and `[autoclose]`: SLA targets, escalation and auto-closure
(docs/sla.md).

Durations are working time of the ticket's queue calendar: "90m", "4h", "2d" (a "d" is 24 hours of
working time, not a working day; write "18h" for two 9-hour days). An override in
`[autoclose.per_queue.NAME]` or `[autoclose.per_category.NAME]` takes the keys it leaves out from
`[autoclose]`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, with_config

from maildesk.config.faults import Faults
from maildesk.config.fields import (
    BUILT,
    FORBID,
    Flag,
    Name,
    NotNegativeNumber,
    Number,
    PriorityName,
    Strings,
    expect,
    is_address,
    one_or_many,
    refuse,
)
from maildesk.config.routing import RoutingSettings, array, unique

SLA_NOTIFY = ("assignee", "queue")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")
_DURATION_UNIT = {"m": 60, "h": 3600, "d": 86400}
_DURATION_TEXT = 'should be a working time such as "90m", "4h" or "2d"'


def _seconds(value: Any) -> int | None:
    """Seconds of working time in "90m", "4h" or "2d", or None when it is none of these."""
    m = _DURATION.match(value) if isinstance(value, str) else None
    if m is None or float(m[1]) <= 0:
        return None
    return round(float(m[1]) * _DURATION_UNIT[m[2]])


def _duration(value: Any) -> int:
    seconds = _seconds(value)
    if seconds is None:
        raise refuse(value, _DURATION_TEXT)
    return seconds


Duration = Annotated[int, BeforeValidator(_duration)]
Fraction = Annotated[Number, expect(lambda v: 0 < v < 1, "should be a fraction between 0 and 1, e.g. 0.5")]
Recipient = Annotated[str, expect(lambda v: v in SLA_NOTIFY or is_address(v),
                                  "should be assignee, queue or a mail address"), AfterValidator(str.lower)]


@with_config(FORBID)
@dataclass(frozen=True)
class SlaRow:
    """One `[[sla]]` row: empty match lists match anything; targets in working seconds (0 = none)."""

    name: Name
    priorities: Annotated[tuple[PriorityName, ...], Field(validation_alias="priority"),
                          BeforeValidator(one_or_many)] = ()
    categories: Annotated[Strings, Field(validation_alias="category")] = ()
    tiers: Annotated[Strings, Field(validation_alias="tier")] = ()
    first_response_seconds: Annotated[Duration, Field(validation_alias="first_response")] = 0
    resolution_seconds: Annotated[Duration, Field(validation_alias="resolution")] = 0


@with_config(FORBID)
@dataclass(frozen=True)
class AutocloseRule:
    """How long a ticket may wait on the requester: working hours pending (0 = never closes),
    reminder fractions of that, calendar days resolved (0 = never closes)."""

    pending_hours: NotNegativeNumber = 8.0
    reminders: Annotated[tuple[Fraction, ...], AfterValidator(lambda r: tuple(sorted(r)))] = (0.5, 0.9)
    resolved_days: NotNegativeNumber = 3.0


@with_config(FORBID)
@dataclass(frozen=True)
class SlaSettings:
    """The SLA table, its defaults, and auto-closure with its per-queue and per-category overrides."""

    rows: Annotated[tuple[SlaRow, ...], BUILT] = ()
    pause_while_pending: Flag = True
    warn_at: Annotated[Number, expect(lambda v: 0 < v < 1,
                                      "should be a fraction between 0 and 1, e.g. 0.8")] = 0.8
    notify: Annotated[tuple[Recipient, ...], BeforeValidator(one_or_many)] = ("assignee",)
    autoclose: Annotated[AutocloseRule, BUILT] = AutocloseRule()
    per_queue: Annotated[tuple[tuple[str, AutocloseRule], ...], BUILT] = ()
    per_category: Annotated[tuple[tuple[str, AutocloseRule], ...], BUILT] = ()

    def autoclose_for(self, queue: str, category: str) -> AutocloseRule:
        """The category's override, else the queue's, else the defaults."""
        return dict(self.per_category).get(category) or dict(self.per_queue).get(queue) or self.autoclose


def build_sla(data: Mapping[str, Any], routing: RoutingSettings, faults: Faults) -> SlaSettings:
    """The SLA sections of `data`, checked against the configured queues and categories."""
    categories = frozenset(c.name for c in routing.categories)
    rows = _rows(data.get("sla", []), categories, faults)
    auto = data.get("autoclose", {})
    if not isinstance(auto, dict):
        faults.wrong("autoclose", auto, "a table")
        auto = {}
    own = {k: v for k, v in auto.items() if k not in ("per_queue", "per_category")}
    base = faults.check(AutocloseRule, "autoclose", own) or AutocloseRule()
    per_queue = _overrides("autoclose.per_queue", auto.get("per_queue", {}),
                           frozenset(q.name for q in routing.queues), base, faults)
    per_category = _overrides("autoclose.per_category", auto.get("per_category", {}), categories, base,
                              faults)
    sla = faults.check(SlaSettings, "sla_defaults", data.get("sla_defaults", {}), rows=rows, autoclose=base,
                       per_queue=per_queue, per_category=per_category)
    return sla or SlaSettings()


def _rows(given: Any, categories: frozenset[str], faults: Faults) -> tuple[SlaRow, ...]:
    seen: set[str] = set()
    out = []
    for i, table in enumerate(array("sla", given, faults)):
        key = f"sla[{i}]"
        row = faults.check(SlaRow, key, table)
        if row is None or not unique(f"{key}.name", row.name, seen, faults):
            continue
        if not (row.first_response_seconds or row.resolution_seconds):
            faults.add(f"{key} (sla {row.name!r}) sets neither first_response nor resolution")
        if all([faults.known(f"{key}.category", c, categories) for c in row.categories]):
            out.append(row)
    return tuple(out)


def _overrides(key: str, given: Any, names: frozenset[str], base: AutocloseRule,
               faults: Faults) -> tuple[tuple[str, AutocloseRule], ...]:
    if not isinstance(given, dict):
        faults.wrong(key, given, f"a table of [{key}.NAME] tables")
        return ()
    out = []
    for name, table in given.items():
        if not faults.known(f"{key}.{name}", name, names):
            continue
        if not isinstance(table, dict):
            faults.wrong(f"{key}.{name}", table, "a table")
            continue
        rule = faults.check(AutocloseRule, f"{key}.{name}", {**asdict(base), **table})
        if rule is not None:
            out.append((name, rule))
    return tuple(out)
