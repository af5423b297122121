"""Reads and writes of IMAP fetch progress and account health (table imap_state)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, tuple_, update

from maildesk.domain import FolderState
from maildesk.store import sql
from maildesk.store.db import Session
from maildesk.store.models import ImapFolderState, ImapLease

_f = cast(Table, ImapFolderState.__table__)
_l = cast(Table, ImapLease.__table__)


@dataclass(frozen=True)
class MailboxStatus:
    """What `maildesk mailboxes status` shows for one account and folder."""

    account: str
    folder: str
    uidvalidity: int | None
    last_uid: int
    backlog: int
    fetched: int
    last_success_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    failing_since: datetime | None
    token_expires_at: datetime | None


def _key(account: str, folder: str) -> Any:
    return (_f.c.account == account) & (_f.c.folder == folder)


def _ensure(session: Session, account: str, folder: str) -> None:
    """The folder's row exists (another process may create it at the same moment: no error then)."""
    sql.insert_ignoring_duplicates(session, _f, {
        "account": account, "folder": folder, "uidvalidity": None, "last_uid": 0, "backlog": 0, "fetched": 0,
        "last_error": "", "alerted": False}, ["account", "folder"])


def _set(session: Session, account: str, folder: str, **values: Any) -> None:
    _ensure(session, account, folder)
    session.connection().execute(update(_f).where(_key(account, folder)).values(**values))


def folder_state(session: Session, account: str, folder: str) -> FolderState:
    """The remembered UIDVALIDITY and last settled UID (nothing yet: None and 0)."""
    _ensure(session, account, folder)
    row = session.connection().execute(select(_f.c.uidvalidity, _f.c.last_uid).where(_key(account,
                                                                                          folder))).one()
    return FolderState(uidvalidity=row.uidvalidity, last_uid=row.last_uid)


def record_progress(session: Session, account: str, folder: str, uidvalidity: int, last_uid: int,
                    backlog: int, fetched: int, now: datetime) -> None:
    """A round went through: remember how far, and clear any failure."""
    _set(session, account, folder, uidvalidity=uidvalidity, last_uid=last_uid, backlog=backlog,
         fetched=_f.c.fetched + fetched, last_success_at=now, failing_since=None, alerted=False)


def record_failure(session: Session, account: str, folder: str, error: str,
                   now: datetime) -> tuple[datetime, bool]:
    """A round failed: keep the error; return since when the account fails and whether the admin knows."""
    _set(session, account, folder, last_error=error[:4000], last_error_at=now,
         failing_since=func.coalesce(_f.c.failing_since, now))
    row = session.connection().execute(select(_f.c.failing_since, _f.c.alerted).where(_key(account,
                                                                                           folder))).one()
    return row.failing_since, bool(row.alerted)


def mark_alerted(session: Session, account: str, folder: str) -> None:
    """The admin was told about the current failure; do not tell again until it recovers."""
    _set(session, account, folder, alerted=True)


def record_token_expiry(session: Session, account: str, folder: str, expires_at: datetime | None) -> None:
    """Remember when the OAuth2 token used for the last login expires."""
    _set(session, account, folder, token_expires_at=expires_at)


def stored_pairs(session: Session, pairs: Collection[tuple[str, int]]) -> frozenset[tuple[str, int]]:
    """Which (Message-ID, size) pairs an inbound row already holds."""
    if not pairs:
        return frozenset()
    found = session.connection().execute(select(sql.inbound.c.message_id, sql.inbound.c.size).where(
        tuple_(sql.inbound.c.message_id, sql.inbound.c.size).in_(list(pairs)))).all()
    return frozenset((mid, size) for mid, size in found)


def mailbox_statuses(session: Session) -> list[MailboxStatus]:
    """Every account and folder the fetcher has seen, by account name."""
    rows = session.connection().execute(select(_f).order_by(_f.c.account, _f.c.folder)).all()
    return [MailboxStatus(r.account, r.folder, r.uidvalidity, r.last_uid, r.backlog, r.fetched,
                          r.last_success_at, r.last_error, r.last_error_at, r.failing_since,
                          r.token_expires_at) for r in rows]


def take_lease(session: Session, account: str, holder: str, now: datetime, until: datetime,
               steal_from: str = "") -> bool:
    """Hold (or renew) the right to fetch `account` until `until`; False while another's lease is fresh.

    The row is locked while deciding, so two processes asking at once cannot both win. `steal_from`
    names a holder known to be dead, whose fresh lease may be taken at once.
    """
    conn = session.connection()
    added = sql.insert_ignoring_duplicates(session, _l, {"account": account, "leased_by": holder,
                                                         "lease_until": until}, ["account"])
    if added:
        return True
    # The row exists (perhaps created a moment ago by another process): decide under its lock.
    lease = conn.execute(select(_l.c.leased_by, _l.c.lease_until).where(_l.c.account == account)
                         .with_for_update()).one()
    if lease.leased_by not in (holder, steal_from) and lease.lease_until > now:
        return False
    conn.execute(update(_l).where(_l.c.account == account).values(leased_by=holder, lease_until=until))
    return True


def lease_holder(session: Session, account: str) -> str:
    """Who holds (or last held) the account's lease; empty when nobody ever did."""
    found = session.connection().execute(select(_l.c.leased_by).where(_l.c.account == account)).scalar()
    return found or ""


def release_lease(session: Session, account: str, holder: str, now: datetime) -> None:
    """Give the account up at once (on shutdown) so another process need not wait for expiry."""
    session.connection().execute(update(_l).where(_l.c.account == account, _l.c.leased_by == holder)
                                 .values(lease_until=now))


def leases(session: Session) -> dict[str, tuple[str, datetime]]:
    """Every account's lease: who holds it and until when."""
    rows = session.connection().execute(select(_l.c.account, _l.c.leased_by, _l.c.lease_until)).all()
    return {account: (holder, until) for account, holder, until in rows}
