"""The IMAP fetcher: one thread per `[[imap]]` account, run by `maildesk serve`.

Each round: select → UIDs above the last settled one (all of them after a
UIDVALIDITY change) → skip what is already stored by Message-ID and size →
fetch a bounded batch with BODY.PEEK[] → commit each message to the inbound
table → enqueue → only then move or flag → record the last settled UID. A
crash anywhere in between means the next round fetches the same messages
again, and the content hash makes their storage a no-op: nothing is lost, and
nothing is stored twice.
"""

from __future__ import annotations

import logging
import os
import shlex
import socket
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from maildesk.arrival.imap import ImapSession, Login
from maildesk.arrival.intake import accept_raw
from maildesk.config import ImapAccount, Settings
from maildesk.domain import Envelope, FolderState
from maildesk.errors import MailboxAuthError, MaildeskError, MessageRejected, StoreError
from maildesk.mail.mailbox_sync import (
    OAuthToken,
    RoundPlan,
    advance_last_uid,
    backoff_seconds,
    known_uids,
    parse_token,
    plan_round,
    return_path,
    should_alert,
)
from maildesk.store import imap_state
from maildesk.store.db import Database, Session

log = logging.getLogger(__name__)

Enqueue = Callable[[int], None]
Clock = Callable[[], datetime]
#: Queue an alert for the desk's admin (subject, text, now); the new outbox row's id, or None.
AlertAdmin = Callable[[str, str, datetime], int | None]
LEASE_RETRY_SECONDS = 15.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


def login_for(account: ImapAccount, now: datetime) -> tuple[Login, OAuthToken | None]:
    """The credentials for one login, read fresh (a rotated password or token file needs no restart)."""
    if account.auth == "xoauth2":
        token = _oauth_token(account, now)
        if token.expires_at is not None and token.expires_at <= now:
            log.warning("imap %s: the OAuth2 token expired at %s; is the refresh helper running?",
                        account.name, token.expires_at.isoformat())
        return Login(account.username, access_token=token.access_token), token
    if account.password_file is not None:
        try:
            secret = account.password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise MailboxAuthError(f"cannot read password_file: {exc}") from exc
        return Login(account.username, password=secret), None
    return Login(account.username, password=account.password), None


def _oauth_token(account: ImapAccount, now: datetime) -> OAuthToken:
    if account.oauth2_token_file is not None:
        try:
            text = account.oauth2_token_file.read_text(encoding="utf-8")
            written = datetime.fromtimestamp(account.oauth2_token_file.stat().st_mtime, UTC)
        except OSError as exc:
            raise MailboxAuthError(f"cannot read oauth2_token_file: {exc}") from exc
        return parse_token(text, written)
    try:
        done = subprocess.run(shlex.split(account.oauth2_token_command), capture_output=True, text=True,
                              timeout=60, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise MailboxAuthError(f"oauth2_token_command failed: {exc}") from exc
    return parse_token(done.stdout, now)


def open_session(account: ImapAccount, now: datetime) -> tuple[ImapSession, OAuthToken | None]:
    """Log in to `account`; raise MailboxAuthError or MailboxUnavailable on failure."""
    login, token = login_for(account, now)
    return ImapSession.open(account, login), token


@dataclass(frozen=True)
class RoundResult:
    """What one round did: messages newly stored, and whether more wait beyond the batch."""

    stored: int
    more: bool


@dataclass
class _Batch:
    """UIDs of one batch now safe in the store, refused for good, and how many rows are new."""

    stored: set[int]
    refused: set[int] = field(default_factory=set)
    new: int = 0
    error: StoreError | None = None


class MailboxFetcher:
    """Reads one account's folder until `stop` is set; never raises out of `run()`."""

    def __init__(self, account: ImapAccount, settings: Settings, db: Database, enqueue_inbound: Enqueue,
                 enqueue_outbox: Enqueue, alert: AlertAdmin, stop: threading.Event,
                 clock: Clock = _utcnow) -> None:
        self.account, self.settings, self.db = account, settings, db
        self.enqueue_inbound, self.enqueue_outbox, self.alert = enqueue_inbound, enqueue_outbox, alert
        self.stop, self.clock = stop, clock
        self.failures = 0
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{id(self):x}"
        # Longer than one IDLE wait plus a round, so a healthy holder always renews in time.
        self.lease_seconds = account.poll_interval_seconds * 2 + 60

    def hold_lease(self) -> bool:
        """Take or renew this account's lease in the database: one fetching process per account,
        however many front ends run. A store failure counts as not holding it."""
        now = self.clock()
        until = now + timedelta(seconds=self.lease_seconds)
        try:
            with self.db.transaction() as s:
                if imap_state.take_lease(s, self.account.name, self.holder, now, until):
                    return True
                # A daemon restarted after a crash on this machine need not wait for its own old lease.
                previous = imap_state.lease_holder(s, self.account.name)
                if not _dead_here(previous):
                    return False
                log.warning("imap %s: taking over the lease of %s, which is no longer running",
                            self.account.name, previous)
                return imap_state.take_lease(s, self.account.name, self.holder, now, until,
                                             steal_from=previous)
        except MaildeskError as exc:
            log.warning("imap %s: cannot renew the fetch lease: %s", self.account.name, exc)
            return False

    def release_lease(self) -> None:
        """Let another front end take the account at once."""
        try:
            with self.db.transaction() as s:
                imap_state.release_lease(s, self.account.name, self.holder, self.clock())
        except MaildeskError:
            log.warning("imap %s: could not release the fetch lease; it expires by itself", self.account.name)

    def run(self) -> None:
        """Hold the lease, connect, fetch, wait for news; after an error, back off and reconnect."""
        try:
            self._run_leased()
        finally:
            self.release_lease()

    def _run_leased(self) -> None:
        log.info("imap %s: fetching %s from %s:%s (%s mode)", self.account.name, self.account.folder,
                 self.account.host, self.account.port, self.account.after)
        while not self.stop.is_set():
            if not self.hold_lease():
                log.debug("imap %s: another process holds the fetch lease", self.account.name)
                self.stop.wait(min(LEASE_RETRY_SECONDS, self.lease_seconds))
                continue
            try:
                self._connected_rounds()
            except (MaildeskError, OSError) as exc:
                self._failed(str(exc))
            except Exception as exc:  # A bug must not end the thread silently; log it and go on.
                log.exception("imap %s: unexpected error", self.account.name)
                self._failed(f"unexpected error: {exc!r}")
            if self.failures:
                self.stop.wait(backoff_seconds(self.failures))

    def _connected_rounds(self) -> None:
        session, token = open_session(self.account, self.clock())
        with session:
            if token is not None:
                self._write(lambda s: imap_state.record_token_expiry(
                    s, self.account.name, self.account.folder, token.expires_at))
            if self.account.after == "move":
                session.ensure_folder(self.account.move_to)
            while not self.stop.is_set():
                if not self.hold_lease():
                    log.warning("imap %s: fetch lease lost to another process", self.account.name)
                    return
                result = self.fetch_round(session)
                self.failures = 0
                if not result.more:
                    session.wait_for_news(self.account.poll_interval_seconds, self.stop)

    def fetch_round(self, session: ImapSession) -> RoundResult:
        """One bounded batch: store, then move or flag, then remember how far we got."""
        acc = self.account
        selected = session.select(acc.folder)
        state = self._read_state()
        plan = plan_round(state, selected.uidvalidity, session.uids_after(
            0 if state.uidvalidity != selected.uidvalidity else state.last_uid), acc.batch_size)
        if plan.reset:
            log.warning("imap %s: UIDVALIDITY of %s changed (%s → %s); re-checking every message, "
                        "stored ones are not stored again", acc.name, acc.folder, state.uidvalidity,
                        selected.uidvalidity)
        batch = self._store_batch(session, plan)
        if acc.after == "move":
            session.move(sorted(batch.stored), acc.move_to)
        else:
            session.flag_seen(sorted(batch.stored))
        last = advance_last_uid(0 if plan.reset else state.last_uid, plan.uids, batch.stored | batch.refused)
        self._write(lambda s: imap_state.record_progress(s, acc.name, acc.folder, selected.uidvalidity, last,
                                                         plan.backlog, batch.new, self.clock()))
        if plan.uids:
            log.info("imap %s: %d of %d messages stored (%d new), %d more waiting", acc.name,
                     len(batch.stored), len(plan.uids), batch.new, plan.backlog)
        if batch.error is not None:
            raise batch.error
        return RoundResult(stored=batch.new, more=plan.backlog > 0)

    def _store_batch(self, session: ImapSession, plan: RoundPlan) -> _Batch:
        """Commit every message of the batch that is not stored yet; stop at the first store failure."""
        facts = session.header_facts(plan.uids)
        with self.db.transaction() as s:
            known = imap_state.stored_pairs(s, {(f.message_id, f.size) for f in facts if f.message_id})
        batch = _Batch(stored=set(known_uids(facts, known)))
        raws = session.fetch_raw([uid for uid in plan.uids if uid not in batch.stored])
        for uid in sorted(raws):
            try:
                batch.new += self._store_one(raws[uid])
            except MessageRejected as exc:
                # Refused for good: left in place (never moved as if handled) and not fetched again.
                log.error("imap %s: UID %s refused and left in %s: %s", self.account.name, uid,
                          self.account.folder, exc)
                batch.refused.add(uid)
                continue
            except StoreError as exc:
                batch.error = exc  # The rest stays where it is; what is stored is still moved or flagged.
                break
            batch.stored.add(uid)
        return batch

    def _store_one(self, raw: bytes) -> int:
        envelope = Envelope(mail_from=return_path(raw), rcpt_to=(self.settings.desk.address,),
                            source=f"imap:{self.account.name}")
        accepted = accept_raw(self.db, raw, envelope, self.clock(), self.settings.smtp.max_message_size)
        if not accepted.new:
            return 0
        try:
            self.enqueue_inbound(accepted.inbound_id)
        except Exception:  # Stored is what counts; the sweep will enqueue it.
            log.exception("inbound=%s stored but not enqueued; the sweep will pick it up",
                          accepted.inbound_id)
        return 1

    def _read_state(self) -> FolderState:
        with self.db.transaction() as s:
            return imap_state.folder_state(s, self.account.name, self.account.folder)

    def _write(self, change: Callable[[Session], object]) -> None:
        with self.db.transaction() as s:
            change(s)

    def _failed(self, error: str) -> None:
        """Record the failure, log it clearly, and tell the admin once it has lasted too long."""
        self.failures += 1
        acc = self.account
        log.error("imap %s: %s (attempt %d, next in %.0fs)", acc.name, error, self.failures,
                  backoff_seconds(self.failures))
        try:
            now = self.clock()
            with self.db.transaction() as s:
                since, alerted = imap_state.record_failure(s, acc.name, acc.folder, error, now)
            if should_alert(since, alerted, now, timedelta(seconds=acc.alert_after_seconds)):
                self._alert(error, since, now)
        except MaildeskError:
            log.exception("imap %s: could not record the failure", acc.name)

    def _alert(self, error: str, since: datetime, now: datetime) -> None:
        acc = self.account
        minutes = int((now - since).total_seconds() // 60)
        log.critical("imap %s: MAILBOX FAILING for %d minutes, mail to %s is not being read: %s",
                     acc.name, minutes, acc.username, error)
        outbox_id = self.alert(
            f"mailbox {acc.name} failing for {minutes} minutes",
            f"maildesk cannot read the mailbox {acc.name} ({acc.username} at {acc.host}, folder {acc.folder})"
            f" since {since:%Y-%m-%d %H:%M} UTC.\n\nLast error: {error}\n\n"
            "Mail sent to this mailbox is not becoming tickets. Check `maildesk mailboxes status` "
            "and `maildesk doctor`.\n", now)
        with self.db.transaction() as s:
            imap_state.mark_alerted(s, acc.name, acc.folder)
        if outbox_id is not None:
            self.enqueue_outbox(outbox_id)


def _dead_here(holder: str) -> bool:
    """Whether lease holder "host:pid:…" is a process of this machine that no longer exists."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


class Fetchers:
    """The fetcher threads of one daemon."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def start(self, settings: Settings, db: Database, enqueue_inbound: Enqueue, enqueue_outbox: Enqueue,
              alert: AlertAdmin, stop: threading.Event) -> None:
        """Start one thread per configured account."""
        for account in settings.imap:
            fetcher = MailboxFetcher(account, settings, db, enqueue_inbound, enqueue_outbox, alert, stop)
            thread = threading.Thread(target=fetcher.run, name=f"imap-{account.name}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def join(self, timeout: float = 15.0) -> None:
        """Wait for the threads to notice the stop event (an IDLE ends within a second)."""
        for thread in self.threads:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("%s did not stop in %.0fs; leaving it (its work is recoverable)", thread.name,
                            timeout)
        self.threads.clear()


def check_login(account: ImapAccount, now: datetime) -> str:
    """Log in, select the folder and log out; return a one-line summary or raise MailboxUnavailable."""
    session, token = open_session(account, now)
    with session:
        selected = session.select(account.folder)
        session.noop()
    expiry = f", token expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token and token.expires_at else ""
    return f"{selected.exists} messages in {account.folder}{expiry}"

