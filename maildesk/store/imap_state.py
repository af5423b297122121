"""Reads and writes of IMAP fetch progress and account health (table imap_state)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError

from maildesk.domain import FolderState
from maildesk.store.db import Session
from maildesk.store.models import ImapFolderState, ImapLease, Inbound


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


def _row(session: Session, account: str, folder: str) -> ImapFolderState:
    row = session.scalars(select(ImapFolderState).where(
        ImapFolderState.account == account, ImapFolderState.folder == folder)).one_or_none()
    if row is None:
        row = ImapFolderState(account=account, folder=folder, uidvalidity=None, last_uid=0, backlog=0,
                              fetched=0, last_error="", alerted=False)
        session.add(row)
        session.flush()
    return row


def folder_state(session: Session, account: str, folder: str) -> FolderState:
    """The remembered UIDVALIDITY and last settled UID (nothing yet: None and 0)."""
    row = _row(session, account, folder)
    return FolderState(uidvalidity=row.uidvalidity, last_uid=row.last_uid)


def record_progress(session: Session, account: str, folder: str, uidvalidity: int, last_uid: int,
                    backlog: int, fetched: int, now: datetime) -> None:
    """A round went through: remember how far, and clear any failure."""
    row = _row(session, account, folder)
    row.uidvalidity, row.last_uid, row.backlog = uidvalidity, last_uid, backlog
    row.fetched += fetched
    row.last_success_at, row.failing_since, row.alerted = now, None, False


def record_failure(session: Session, account: str, folder: str, error: str,
                   now: datetime) -> tuple[datetime, bool]:
    """A round failed: keep the error; return since when the account fails and whether the admin knows."""
    row = _row(session, account, folder)
    row.last_error, row.last_error_at = error[:4000], now
    if row.failing_since is None:
        row.failing_since = now
    return row.failing_since, row.alerted


def mark_alerted(session: Session, account: str, folder: str) -> None:
    """The admin was told about the current failure; do not tell again until it recovers."""
    _row(session, account, folder).alerted = True


def record_token_expiry(session: Session, account: str, folder: str, expires_at: datetime | None) -> None:
    """Remember when the OAuth2 token used for the last login expires."""
    _row(session, account, folder).token_expires_at = expires_at


def stored_pairs(session: Session, pairs: Collection[tuple[str, int]]) -> frozenset[tuple[str, int]]:
    """Which (Message-ID, size) pairs an inbound row already holds."""
    if not pairs:
        return frozenset()
    found = session.execute(select(Inbound.message_id, Inbound.size).where(
        tuple_(Inbound.message_id, Inbound.size).in_(list(pairs)))).all()
    return frozenset((mid, size) for mid, size in found)


def mailbox_statuses(session: Session) -> list[MailboxStatus]:
    """Every account and folder the fetcher has seen, by account name."""
    rows = session.scalars(select(ImapFolderState).order_by(ImapFolderState.account,
                                                            ImapFolderState.folder)).all()
    return [MailboxStatus(r.account, r.folder, r.uidvalidity, r.last_uid, r.backlog, r.fetched,
                          r.last_success_at, r.last_error, r.last_error_at, r.failing_since,
                          r.token_expires_at) for r in rows]


def take_lease(session: Session, account: str, holder: str, now: datetime, until: datetime,
               steal_from: str = "") -> bool:
    """Hold (or renew) the right to fetch `account` until `until`; False while another's lease is fresh.

    The row is locked while deciding, so two processes asking at once cannot both win. `steal_from`
    names a holder known to be dead, whose fresh lease may be taken at once.
    """
    lease = session.get(ImapLease, account, with_for_update=True)
    if lease is None:
        try:
            with session.begin_nested():
                session.add(ImapLease(account=account, leased_by=holder, lease_until=until))
            return True
        except IntegrityError:  # Another process created the row first: ask again under its lock.
            lease = session.get(ImapLease, account, with_for_update=True, populate_existing=True)
            assert lease is not None
    if lease.leased_by not in (holder, steal_from) and lease.lease_until > now:
        return False
    lease.leased_by, lease.lease_until = holder, until
    return True


def lease_holder(session: Session, account: str) -> str:
    """Who holds (or last held) the account's lease; empty when nobody ever did."""
    lease = session.get(ImapLease, account)
    return "" if lease is None else lease.leased_by


def release_lease(session: Session, account: str, holder: str, now: datetime) -> None:
    """Give the account up at once (on shutdown) so another process need not wait for expiry."""
    lease = session.get(ImapLease, account, with_for_update=True)
    if lease is not None and lease.leased_by == holder:
        lease.lease_until = now


def leases(session: Session) -> dict[str, tuple[str, datetime]]:
    """Every account's lease: who holds it and until when."""
    rows = session.execute(select(ImapLease.account, ImapLease.leased_by, ImapLease.lease_until)).all()
    return {account: (holder, until) for account, holder, until in rows}
