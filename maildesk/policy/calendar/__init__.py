"""Business-hours calendars: the working-time arithmetic (:mod:`.model`), calendars from
configuration-style strings (:mod:`.spec`), and the config's named calendars with their public
holidays (:mod:`.build`).

The names below are imported on first use (module ``__getattr__``): :mod:`.build` reads the
holidays package, about 60 ms of imports, which the arithmetic alone (the report, the SLA
clock over calendars already built) does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from maildesk.policy.calendar.build import build_calendars, holiday_dates, working_calendars
    from maildesk.policy.calendar.model import (
        SEARCH_LIMIT_DAYS,
        WHOLE_DAY,
        Calendar,
        Interval,
        add_working,
        is_working,
        next_working_instant,
        working_between,
    )
    from maildesk.policy.calendar.spec import calendar_from_spec

_HOME = {
    **dict.fromkeys(("build_calendars", "holiday_dates", "working_calendars"), "build"),
    **dict.fromkeys(("SEARCH_LIMIT_DAYS", "WHOLE_DAY", "Calendar", "Interval", "add_working", "is_working",
                     "next_working_instant", "working_between"), "model"),
    "calendar_from_spec": "spec",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "SEARCH_LIMIT_DAYS",
    "WHOLE_DAY",
    "Calendar",
    "Interval",
    "add_working",
    "build_calendars",
    "calendar_from_spec",
    "holiday_dates",
    "is_working",
    "next_working_instant",
    "working_between",
    "working_calendars",
]
