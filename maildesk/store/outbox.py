"""The `outbox` table (composed mail waiting to go out) and `outbox_recipients` (what brakes count).

Rows are added only by maildesk.outbound.gate (`add`), after the brakes; delivery claims, sends and
records them here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, insert, select, update

from maildesk.domain import OutboxState, SentCounts
from maildesk.store import sql
from maildesk.store.db import Session
from maildesk.store.sql import Backlog

_o, _r = sql.outbox, sql.outbox_recipients
_CLAIM = (
    update(_o)
    .where(_o.c.id.in_(bindparam("outbox_ids", expanding=True)), _o.c.state == OutboxState.PENDING,
           _o.c.next_attempt_at <= bindparam("now"))
    .values(next_attempt_at=bindparam("lease_until"), attempts=_o.c.attempts + 1)
    .returning(_o.c.id, _o.c.ticket_id, _o.c.message_id, _o.c.mail_from, _o.c.rcpt_to, _o.c.raw,
               _o.c.attempts,
               _o.c.kind))
_SENT = update(_o).where(_o.c.id == bindparam("outbox_id")).values(
    state=OutboxState.SENT, sent_at=bindparam("sent_at"), last_error="")


@dataclass(frozen=True)
class NewOutbox:
    """A composed mail to store for delivery; `counted` are the recipients the brakes count it for."""

    ticket_id: int | None
    kind: str
    message_id: str
    mail_from: str
    rcpt_to: tuple[str, ...]
    raw: bytes
    counted: tuple[str, ...] = ()
    # For an answer to inbound mail: the client address and the fingerprint of the mail answered.
    client_ip: str = ""
    fingerprint: str = ""
    answer: bool = False


def add(session: Session, rows: Sequence[NewOutbox], now: datetime) -> list[int]:
    """Store `rows` (one executemany each for the mail and its counted recipients); their ids in order."""
    if not rows:
        return []
    conn = session.connection()
    ids = [int(r[0]) for r in conn.execute(insert(_o).returning(_o.c.id, sort_by_parameter_order=True), [
        {"ticket_id": r.ticket_id, "kind": r.kind, "message_id": r.message_id, "mail_from": r.mail_from,
         "rcpt_to": list(r.rcpt_to), "recipient": r.rcpt_to[0].lower() if r.rcpt_to else "", "raw": r.raw,
         "state": OutboxState.PENDING, "attempts": 0, "created_at": now, "next_attempt_at": now,
         "last_error": ""} for r in rows])]
    counted = [{"outbox_id": i, "address": a, "kind": r.kind, "created_at": now,
                "domain": a.rpartition("@")[2] if r.answer else "", "client_ip": r.client_ip,
                "fingerprint": r.fingerprint}
               for i, r in zip(ids, rows, strict=True) for a in r.counted]
    if counted:
        conn.execute(insert(_r), counted)
    return ids


def _counts(where: Any) -> Any:
    """Both brake counts of the recipients `where` selects, in one pass over their rows: of one kind
    since one instant, and of every counted kind since another."""
    same = case(((_r.c.kind == bindparam("kind")) & (_r.c.created_at >= bindparam("kind_since")), 1), else_=0)
    day = case((_r.c.created_at >= bindparam("all_since"), 1), else_=0)
    return (select(_r.c.address, func.coalesce(func.sum(same), 0), func.coalesce(func.sum(day), 0))
            .where(where, _r.c.created_at >= bindparam("earliest")).group_by(_r.c.address))


# Built once (they run for every automatic mail): one recipient by equality (an IN list is
# re-rendered into the SQL at every execution), several with an expanding IN.
_COUNTS_ONE = _counts(_r.c.address == bindparam("address"))
_COUNTS_MANY = _counts(_r.c.address.in_(bindparam("addresses", expanding=True)))


def sent_counts(session: Session, recipients: Collection[str], kind: str, kind_since: datetime | None,
                all_since: datetime) -> dict[str, SentCounts]:
    """For each of `recipients` (lowercased): rows of `kind` since `kind_since` (0 without it) and rows of
    every counted kind since `all_since`, in one query. Failed rows count too: a robot we keep writing
    to is a loop whether or not our mail arrives."""
    earliest = min(all_since, kind_since) if kind_since is not None else all_since
    values: dict[str, Any] = {"kind": kind, "kind_since": kind_since or earliest, "all_since": all_since,
                              "earliest": earliest}
    wanted = list(recipients)
    if len(wanted) == 1:
        rows = session.connection().execute(_COUNTS_ONE, values | {"address": wanted[0]})
    else:
        rows = session.connection().execute(_COUNTS_MANY, values | {"addresses": wanted})
    found = {a: SentCounts(int(k) if kind_since is not None else 0, int(d)) for a, k, d in rows}
    return {a: found.get(a, SentCounts(0, 0)) for a in wanted}


def _answers(column: Any, value: str, since: str) -> Any:
    return (select(func.count()).select_from(_r)
            .where(_r.c.kind.in_(bindparam("kinds", expanding=True)), column == bindparam(value),
                   _r.c.created_at >= bindparam(since)).scalar_subquery())


# No answer is counted with an empty domain, client or fingerprint: an unknown one matches nothing.
_NOTHING = "(none)"  # no domain, address or hex fingerprint looks like this
_ANSWERS = select(_answers(_r.c.domain, "domain", "domain_since"),
                  _answers(_r.c.client_ip, "client_ip", "client_since"))
_FINGERPRINTED = (select(_r.c.address).distinct()
                  .where(_r.c.kind.in_(bindparam("kinds", expanding=True)),
                         _r.c.fingerprint == bindparam("fingerprint"), _r.c.created_at >= bindparam("since"))
                  .limit(bindparam("most")))


def answer_counts(session: Session, kinds: Collection[str], domain: str, client_ip: str,
                  since: tuple[datetime, datetime]) -> tuple[int, int]:
    """Answers of `kinds` already counted to recipients at `domain` since `since[0]` and to mail from
    `client_ip` since `since[1]`, in one query (0 for an empty domain or client)."""
    row = session.connection().execute(_ANSWERS, {
        "kinds": list(kinds), "domain": domain or _NOTHING, "client_ip": client_ip or _NOTHING,
        "domain_since": since[0], "client_since": since[1]}).one()
    return int(row[0]), int(row[1])


def fingerprinted(session: Session, kinds: Collection[str], fingerprint: str, since: datetime,
                  most: int) -> set[str]:
    """The addresses (at most `most`) that answers of `kinds` to mail with `fingerprint` went to since
    `since` (none for an empty fingerprint)."""
    if not fingerprint:
        return set()
    rows = session.connection().execute(_FINGERPRINTED, {"kinds": list(kinds), "fingerprint": fingerprint,
                                                         "since": since, "most": most})
    return {str(r[0]) for r in rows}


@dataclass(frozen=True)
class ClaimedOutbox:
    """An outbox row this worker holds until its lease ends."""

    id: int
    ticket_id: int | None
    message_id: str
    mail_from: str
    rcpt_to: list[str]
    raw: bytes
    attempts: int
    kind: str = ""


def claim(session: Session, outbox_ids: Sequence[int], now: datetime,
          lease_until: datetime) -> list[ClaimedOutbox]:
    """Take the rows of `outbox_ids` that are pending and due, in one conditional UPDATE (two workers
    never both win a row); the rows taken, in the order asked for."""
    rows = session.connection().execute(
        _CLAIM, {"outbox_ids": list(outbox_ids), "now": now, "lease_until": lease_until}).all()
    taken = {r[0]: ClaimedOutbox(r[0], r[1], r[2], r[3], list(r[4]), r[5], r[6], r[7]) for r in rows}
    return [taken[i] for i in outbox_ids if i in taken]


def mark_sent(session: Session, outbox_ids: Sequence[int], now: datetime) -> None:
    """Record successful deliveries (one executemany)."""
    session.connection().execute(_SENT, [{"outbox_id": i, "sent_at": now} for i in outbox_ids])


def mark_failed(session: Session, outbox_id: int, error: str, final: bool, retry_at: datetime) -> None:
    """Record a failed attempt (or a bounce): give up when `final`, else try again at `retry_at`."""
    values: dict[str, Any] = {"last_error": error[:4000], "next_attempt_at": retry_at}
    if final:
        values["state"] = OutboxState.FAILED
    session.connection().execute(update(_o).where(_o.c.id == outbox_id).values(**values))


def mark_bounced(session: Session, outbox_id: int, reason: str) -> None:
    """A delivered-then-bounced row ends failed with the report's reason."""
    session.connection().execute(update(_o).where(_o.c.id == outbox_id).values(
        state=OutboxState.FAILED, last_error=reason[:4000]))


def due_ids(session: Session, now: datetime, limit: int, fresh_before: datetime | None = None) -> list[int]:
    """Pending rows whose next attempt is due, oldest first, skipping rows another sweep holds.

    With `fresh_before`, a row never attempted counts only once it was due before that instant: it
    was queued when it was written, and queueing it again on every sweep would flood a busy broker.
    """
    due = (_o.c.next_attempt_at <= now) if fresh_before is None else (
        (_o.c.next_attempt_at <= now) & ((_o.c.attempts > 0) | (_o.c.next_attempt_at <= fresh_before)))
    return sql.claim_rows(session, select(_o.c.id).where(_o.c.state == OutboxState.PENDING, due)
                          .order_by(_o.c.id).limit(limit))


@dataclass(frozen=True)
class SentMail:
    """An outbox row found by its Message-ID (the mail a bounce reports on)."""

    id: int
    ticket_id: int | None
    kind: str
    rcpt_to: tuple[str, ...]


def by_message_id(session: Session, message_id: str) -> SentMail | None:
    """Our outbox row with Message-ID `message_id`, if we sent one."""
    row = session.connection().execute(select(_o.c.id, _o.c.ticket_id, _o.c.kind, _o.c.rcpt_to)
                                       .where(_o.c.message_id == message_id)).first()
    return None if row is None else SentMail(row[0], row[1], row[2], tuple(row[3]))


def sent_on_ticket(session: Session, message_ids: Sequence[str], ticket_id: int) -> list[tuple[str, ...]]:
    """The recipients of each mail we sent on `ticket_id` whose Message-ID is among `message_ids`."""
    if not message_ids:
        return []
    rows = session.connection().execute(select(_o.c.rcpt_to).where(
        _o.c.message_id.in_(list(message_ids)), _o.c.ticket_id == ticket_id))
    return [tuple(str(a) for a in r[0]) for r in rows]


def forward_cited(session: Session, cited: Sequence[str]) -> tuple[int, str] | None:
    """(ticket, third party) when the mail answers one of our forwards to a third party: a reply sent
    to the support address instead of the signed Reply-To still belongs to that ticket, internal."""
    if not cited:
        return None
    row = session.connection().execute(select(_o.c.ticket_id, _o.c.rcpt_to).where(
        _o.c.message_id.in_(list(cited)), _o.c.kind == "third_party_forward")).first()
    if row is None or row[0] is None or not row[1]:
        return None
    return int(row[0]), str(row[1][0]).lower()


def backlog(session: Session, stuck_before: datetime) -> Backlog:
    """Rows not sent yet; stuck = due since before `stuck_before` and still not taken."""
    return sql.backlog(session, _o, OutboxState.PENDING, "created_at", "next_attempt_at", stuck_before)


def count(session: Session, state: str) -> int:
    """Rows in `state` (e.g. failed)."""
    return sql.count_in(session, _o, state)
