"""What a requester can ask of the desk by mail alone. Pure.

* A reply whose whole new text is "solved" (вирішено, решено) closes the ticket; "#cancel"
  (скасувати, отменить) withdraws it. Courtesy words and a signed name around the word are
  allowed ("Solved, thanks!\\nBob"); anything else makes it an ordinary reply, so "not solved",
  "не вирішено" or "solved, but the scanner is broken too" never close a ticket.
* A mail to the status address asks for one's own tickets; its subject may narrow the list to
  open ones, closed ones, or those changed since a date.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date

from maildesk.domain import Status


def _set(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text` as a set (word lists read better as text)."""
    return frozenset(text.split())


class RequesterCommand(enum.StrEnum):
    """What a requester's reply asks for."""

    SOLVED = "solved"
    CANCEL = "cancel"


_COMMAND_WORDS = {
    "solved": RequesterCommand.SOLVED, "resolved": RequesterCommand.SOLVED,
    "вирішено": RequesterCommand.SOLVED, "решено": RequesterCommand.SOLVED,
    "#cancel": RequesterCommand.CANCEL, "cancel": RequesterCommand.CANCEL,
    "скасувати": RequesterCommand.CANCEL, "#скасувати": RequesterCommand.CANCEL,
    "отменить": RequesterCommand.CANCEL, "#отменить": RequesterCommand.CANCEL,
}
#: Words that may stand beside the command without changing what it means.
_FILLER = _set("""thanks thank you yes ok okay it is the problem issue has been now all please так дякую
    спасибі щиро проблему проблема питання уже вже все да спасибо большое проблема вопрос уже
    всё все""")
_SIGN_OFF = re.compile(r"^(best( regards)?|regards|cheers|kind regards|з повагою|с уважением|"
                       r"дякую|спасибо|спасибі|thanks|thank you)\W*$", re.IGNORECASE)
_NAME = re.compile(r"^[A-ZА-ЯЁІЇЄҐ][\w'’.-]*(?: [A-ZА-ЯЁІЇЄҐ][\w'’.-]*){0,2}$")
_TOKEN = re.compile(r"#?[^\W_]+")


def requester_command(new_text: str) -> RequesterCommand | None:
    """The command that is the whole of `new_text` (quotes already removed), or None."""
    lines = [line.strip() for line in new_text.strip().splitlines() if line.strip()]
    if not lines or len(lines) > 4:
        return None
    found = _command_in(lines[0])
    if found is None:
        return None
    if not all(_SIGN_OFF.match(line) or _NAME.match(line) for line in lines[1:]):
        return None
    return found


def _command_in(line: str) -> RequesterCommand | None:
    tokens = [t.lower() for t in _TOKEN.findall(line)]
    commands = [_COMMAND_WORDS[t] for t in tokens if t in _COMMAND_WORDS]
    rest = [t for t in tokens if t not in _COMMAND_WORDS]
    if len(commands) != 1 or any(t not in _FILLER for t in rest):
        return None
    return commands[0]


def command_target(command: RequesterCommand) -> Status:
    """The status a command moves a ticket to."""
    return Status.CLOSED if command is RequesterCommand.SOLVED else Status.CANCELED


@dataclass(frozen=True)
class StatusFilter:
    """Which of one's tickets a status request lists: `state` "open", "closed" or "" (all), and
    only those changed on or after `since` when set."""

    state: str = ""
    since: date | None = None

    def label(self) -> str:
        """The filter as words for the reply ("open since 2026-11-01"), or "" for none."""
        parts = [self.state] if self.state else []
        if self.since is not None:
            parts.append(f"since {self.since.isoformat()}")
        return " ".join(parts)

    def statuses(self) -> tuple[Status, ...]:
        """The statuses the filter keeps."""
        closed = (Status.CLOSED, Status.CANCELED)
        if self.state == "closed":
            return closed
        if self.state == "open":
            return tuple(s for s in Status if s not in closed)
        return tuple(Status)


_OPEN_WORDS = frozenset({"open", "opened", "відкриті", "открытые",
                         "активні", "активные"})
_CLOSED_WORDS = frozenset({"closed", "закриті", "закрытые"})
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DOTTED = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")


def parse_status_filter(subject: str) -> StatusFilter:
    """What the subject of a status request asks for; anything unrecognised lists everything."""
    words = {w.lower() for w in re.findall(r"[^\W\d_]+", subject)}
    state = "open" if words & _OPEN_WORDS else "closed" if words & _CLOSED_WORDS else ""
    return StatusFilter(state=state, since=_date_in(subject))


def _date_in(subject: str) -> date | None:
    m = _ISO.search(subject)
    parts = (int(m[1]), int(m[2]), int(m[3])) if m else None
    if parts is None and (d := _DOTTED.search(subject)):
        parts = (int(d[3]), int(d[2]), int(d[1]))  # 20.11.2026: day first, as written in uk/ru/most of en
    if parts is None:
        return None
    try:
        return date(*parts)
    except ValueError:
        return None


def status_address(configured: str, desk_address: str) -> str:
    """The status address: as configured, else ``<local>+status@<domain>`` of the desk address."""
    if configured:
        return configured.lower()
    local, _, domain = desk_address.lower().rpartition("@")
    return f"{local.split('+', 1)[0]}+status@{domain}"
