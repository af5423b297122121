"""Public holidays by country and subdivision, from the third-party ``holidays`` package.

This is the only module that imports ``holidays``: calendars take plain dates,
so the arithmetic stays pure and the data source stays replaceable.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import holidays


def holiday_dates(country: str, subdiv: str | None, years: Iterable[int]) -> frozenset[date]:
    """Return the public-holiday dates (observed days included) of ``country``/``subdiv`` in ``years``.

    Only the package's default "public" category is used: those are the days
    offices close.  ``country`` is an ISO 3166-1 alpha-2 code in any case;
    ``subdiv`` is passed as given (the package's codes are case-sensitive).
    Raises ValueError naming an unknown country or subdivision, so the config
    layer can report it like any bad setting.
    """
    country = country.strip().upper()
    wanted = sorted(set(years))
    try:
        table = holidays.country_holidays(country, subdiv=subdiv, years=wanted)
    except NotImplementedError as exc:
        # The package signals both unknown countries and unknown subdivisions this way.
        where = country if subdiv is None else f"{country}/{subdiv}"
        raise ValueError(f"no holiday data for {where!r}: {exc}") from exc
    # Filter by year: lookups can make the table grow beyond the years asked for.
    return frozenset(day for day in table if day.year in wanted)
