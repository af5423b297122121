"""One mail being applied to the desk: what every handler works with, in one typed value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from maildesk.pipeline.context import Desk
from maildesk.pipeline.prepare import Arrival
from maildesk.store.db import Session
from maildesk.store.inbound import LockedInbound


@dataclass(frozen=True)
class Turn:
    """The desk, the open write transaction, the prepared mail, its locked inbound row, and the
    instant processing happens (every row it writes is stamped with it)."""

    desk: Desk
    session: Session
    mail: Arrival
    row: LockedInbound
    now: datetime
