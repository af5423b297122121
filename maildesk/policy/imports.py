"""Mail brought in by `maildesk import`: whom it may set off, when it happened, in what order, and
the status its tickets end in. Pure.

An import moves history. Its mail was written, and mostly answered, long ago: acknowledging it or
waking agents for it now would mail hundreds of people about nothing. So the inbound row's source
says a mail was imported, and how: "import" sends nothing (the default), "import+notify" sends what
mail arriving now would (`--notify`). The pipeline asks `silent(source)` and `instant(source, …)`;
nothing else needs to know.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from maildesk.domain import FINAL_STATUSES, Status
from maildesk.domain.ticket import SetStatus

SILENT = "import"
NOTIFYING = "import+notify"
#: What `--status` may file imported tickets as. Not pending or resolved: the sweep would remind
#: their requesters and close them with a notice, mail about years-old tickets.
STATUSES = (Status.OPEN, Status.CLOSED, Status.CANCELED)
CLOSE_REASON = "imported"
#: What the ticket records where a silent import held mail back.
SILENT_REASON = "imported: no mail sent"


def source(notify: bool) -> str:
    """The inbound source of an imported mail."""
    return NOTIFYING if notify else SILENT


def is_imported(source_: str) -> bool:
    """Whether the row came from `maildesk import`."""
    return source_ in (SILENT, NOTIFYING)


def silent(source_: str) -> bool:
    """Whether processing this row may send no mail at all: no acknowledgement, no agent notice, no
    rule notice, not even an agent's imported reply (it was delivered when it was written)."""
    return source_ == SILENT


def instant(source_: str, written: datetime | None, now: datetime) -> datetime:
    """The instant processing stamps on everything a mail writes (ticket, message, events, clock).
    Mail arriving now: now. Imported mail: its own Date:, so the desk's history keeps its dates; none
    or one in the future (a wrong clock) gives now."""
    if not is_imported(source_) or written is None or written > now:
        return now
    return written


def in_order(dates: Sequence[datetime | None]) -> list[int]:
    """The order to process a backlog in: by Date:, so a reply comes after what it answers and finds
    its ticket. A mail without a Date: keeps its place after the mail before it; ties keep the
    mailbox's order."""
    keys: list[tuple[datetime | None, int]] = []
    last: datetime | None = None
    for position, date in enumerate(dates):
        last = date if date is not None else last
        keys.append((last, position))
    undated_first = [k for k in keys if k[0] is None]
    dated = sorted((k for k in keys if k[0] is not None), key=lambda k: (k[0], k[1]))
    return [position for _, position in (*undated_first, *dated)]


def status_step(current: Status, wanted: Status) -> SetStatus | None:
    """How `--status` files one imported ticket, or None: already there, or already ended by its
    own mail (a requester's "solved")."""
    if current == wanted or current in FINAL_STATUSES:
        return None
    reason = f"imported as {wanted}"
    return SetStatus(wanted, reason, close_reason=CLOSE_REASON if wanted in FINAL_STATUSES else "")
