"""`maildesk status`: is anything stuck? Backlogs, ages, quarantine, last sweep, mailboxes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from maildesk.config import Settings
from maildesk.metrics import Reading
from maildesk.store import imap_state, inbound, kv, outbox
from maildesk.store.db import Database
from maildesk.store.sql import Backlog


@dataclass(frozen=True)
class Mailbox:
    """One IMAP account's fetch state and who holds its lease."""

    account: str
    folder: str
    last_success_at: datetime | None
    failing_since: datetime | None
    backlog: int
    leased_by: str
    lease_until: datetime | None


@dataclass(frozen=True)
class DeskStatus:
    """Everything `maildesk status` prints; `queue_depth` is None for the in-process queue, or when
    the broker could not be reached (`broker_error` says why)."""

    now: datetime
    queue_depth: int | None
    inbound: Backlog
    outbox: Backlog
    quarantined: int
    outbox_failed: int
    last_sweep: datetime | None
    mailboxes: tuple[Mailbox, ...]
    broker_error: str = ""

    @property
    def stuck(self) -> bool:
        """Rows overdue, a mailbox failing or the broker unreachable: what an admin or a monitor
        must look at."""
        return bool(self.inbound.stuck or self.outbox.stuck or self.broker_error
                    or any(m.failing_since is not None for m in self.mailboxes))

    def as_json(self) -> dict[str, Any]:
        """Plain values for --json."""
        def age(when: datetime | None) -> float | None:
            return None if when is None else round((self.now - when).total_seconds(), 1)
        return {
            "queue_depth": self.queue_depth,
            "broker_error": self.broker_error or None,
            "inbound": {"waiting": self.inbound.waiting, "oldest_age_seconds": age(self.inbound.oldest),
                        "stuck": self.inbound.stuck},
            "outbox": {"waiting": self.outbox.waiting, "oldest_age_seconds": age(self.outbox.oldest),
                       "stuck": self.outbox.stuck, "failed": self.outbox_failed},
            "quarantined": self.quarantined,
            "last_sweep": self.last_sweep.isoformat() if self.last_sweep else None,
            "last_sweep_age_seconds": age(self.last_sweep),
            "mailboxes": [{"account": m.account, "backlog": m.backlog, "leased_by": m.leased_by,
                           "last_success_at": m.last_success_at.isoformat() if m.last_success_at else None,
                           "failing_since": m.failing_since.isoformat() if m.failing_since else None,
                           "lease_until": m.lease_until.isoformat() if m.lease_until else None}
                          for m in self.mailboxes],
            "stuck": self.stuck,
        }

    def lines(self) -> list[str]:
        """Human-readable report."""
        def age(when: datetime | None) -> str:
            return "-" if when is None else f"{(self.now - when).total_seconds():.0f}s ago"
        depth = "in process (embedded)" if self.queue_depth is None else str(self.queue_depth)
        out = [f"queue depth:   {f'broker unreachable: {self.broker_error}' if self.broker_error else depth}",
               f"inbound:       {self.inbound.waiting} waiting, oldest {age(self.inbound.oldest)}, "
               f"{self.inbound.stuck} stuck",
               f"outbox:        {self.outbox.waiting} waiting, oldest {age(self.outbox.oldest)}, "
               f"{self.outbox.stuck} stuck, {self.outbox_failed} failed",
               f"quarantine:    {self.quarantined}",
               f"last sweep:    {age(self.last_sweep)}"]
        for m in self.mailboxes:
            state = f"FAILING since {m.failing_since:%Y-%m-%d %H:%M}" if m.failing_since else "ok"
            out.append(f"imap {m.account}: {state}, last fetch {age(m.last_success_at)}, "
                       f"backlog {m.backlog}, lease {m.leased_by or '-'}")
        out.append("STUCK: see above" if self.stuck else "nothing stuck")
        return out

    def readings(self) -> list[Reading]:
        """The gauges an admin alerts on, for the metrics endpoint (ages in seconds, 0 when nothing
        waits; no sweep figure before the first sweep)."""
        def age(when: datetime | None) -> float:
            return 0.0 if when is None else max(0.0, (self.now - when).total_seconds())
        out = [Reading("inbound_waiting", "Inbound messages not processed yet.", self.inbound.waiting),
               Reading("inbound_oldest_age_seconds", "Age of the oldest inbound message waiting.",
                       age(self.inbound.oldest)),
               Reading("inbound_stuck", "Inbound messages waiting longer than [sweep] stuck_after_seconds.",
                       self.inbound.stuck),
               Reading("outbox_waiting", "Outbox messages not delivered yet.", self.outbox.waiting),
               Reading("outbox_oldest_age_seconds", "Age of the oldest outbox message waiting.",
                       age(self.outbox.oldest)),
               Reading("outbox_failed", "Outbox messages that failed for good.", self.outbox_failed),
               Reading("quarantine_size", "Inbound messages in quarantine.", self.quarantined)]
        if self.last_sweep is not None:
            out.append(Reading("last_sweep_age_seconds", "Seconds since any process last swept.",
                               age(self.last_sweep)))
        for m in self.mailboxes:
            labels = (("mailbox", m.account), ("folder", m.folder))
            if m.last_success_at is not None:
                out.append(Reading("imap_last_success_timestamp_seconds", "When the mailbox was last fetched "
                                   "without error (Unix time).", m.last_success_at.timestamp(), labels))
            out += [Reading("imap_failing", "1 while the mailbox's fetches fail.",
                            float(m.failing_since is not None), labels),
                    Reading("imap_backlog", "Messages in the mailbox not fetched yet.", m.backlog, labels)]
        return out


def desk_status(db: Database, settings: Settings, now: datetime, queue_depth: int | None,
                broker_error: str = "") -> DeskStatus:
    """Read the status from the database; `queue_depth` (or why it is unknown) comes from the broker."""
    stuck_before = now - timedelta(seconds=settings.sweep.stuck_after_seconds)
    with db.reading() as session:
        leases = imap_state.leases(session)
        mailboxes = tuple(
            Mailbox(m.account, m.folder, m.last_success_at, m.failing_since, m.backlog,
                    *leases.get(m.account, ("", None)))
            for m in imap_state.mailbox_statuses(session))
        return DeskStatus(now=now, queue_depth=queue_depth,
                          inbound=inbound.backlog(session, stuck_before),
                          outbox=outbox.backlog(session, stuck_before),
                          quarantined=inbound.count(session, "quarantined"),
                          outbox_failed=outbox.count(session, "failed"),
                          last_sweep=kv.last_sweep(session), mailboxes=mailboxes, broker_error=broker_error)
