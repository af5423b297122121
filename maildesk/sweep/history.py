"""What the sweep's notices need of a batch of tickets, read with a few queries instead of several
per ticket: participants (requester first), thread Message-IDs, and, for the tickets it closes,
what was done so far (the closing notice lists it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from maildesk.domain import Address
from maildesk.notices.render import ContextValue
from maildesk.store import contacts, events, messages, participants
from maildesk.store.db import Session


@dataclass(frozen=True)
class HistoryLine:
    """One entry of the closing notice: when, who, and what."""

    at: datetime
    who: str
    what: str


@dataclass(frozen=True)
class SweepContext:
    """The batch's participants, threads, agents' answers and public actions, and the active agents."""

    people: dict[int, list[Address]]
    threads: dict[int, list[str]]
    replies: dict[int, list[HistoryLine]]
    actions: dict[int, list[HistoryLine]]
    agents: list[tuple[int, Address]]

    @classmethod
    def load(cls, session: Session, ticket_ids: Sequence[int], closing: Sequence[int]) -> SweepContext:
        """Read the context for `ticket_ids`; the history only for the `closing` ones."""
        return cls(people=participants.of_tickets(session, ticket_ids), threads=messages.threads(session,
                                                                                                 ticket_ids),
                   replies=_answers(session, closing), actions=_actions(session, closing),
                   agents=contacts.active_agents(session))


def _answers(session: Session, ticket_ids: Sequence[int]) -> dict[int, list[HistoryLine]]:
    out: dict[int, list[HistoryLine]] = {}
    if ticket_ids:
        for tid, at, who, text in messages.agent_answers(session, ticket_ids):
            out.setdefault(tid, []).append(HistoryLine(at, who, text))
    return out


def _actions(session: Session, ticket_ids: Sequence[int]) -> dict[int, list[HistoryLine]]:
    out: dict[int, list[HistoryLine]] = {}
    if ticket_ids:
        names = contacts.agent_names(session)
        for tid, at, actor, kind, detail in events.public_actions(session, ticket_ids):
            who = names.get(actor, actor.partition(":")[0])
            out.setdefault(tid, []).append(HistoryLine(at, who, f"{kind}: {detail.get('old', '')} → "
                                                                f"{detail.get('new', '')}"))
    return out


def line(h: HistoryLine, wall_clock: Callable[[datetime], str]) -> dict[str, ContextValue]:
    """A history line as the closing notice's template sees it, its instant written by `wall_clock`
    (the queue's time zone)."""
    return {"at": wall_clock(h.at), "who": h.who, "what": _excerpt(h.what)}


def _excerpt(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
