"""Business-hours calendars: the working-time arithmetic (:mod:`.model`), calendars from
configuration-style strings (:mod:`.spec`), and the config's named calendars with their public
holidays (:mod:`.build`).
"""

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
