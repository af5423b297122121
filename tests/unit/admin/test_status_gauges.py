"""The gauges an admin alerts on, read from one `maildesk status` snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from maildesk.admin.status import DeskStatus, Mailbox
from maildesk.store.sql import Backlog

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _status(**changes: object) -> DeskStatus:
    fields: dict[str, object] = {
        "now": NOW, "queue_depth": None, "inbound": Backlog(0, None, 0), "outbox": Backlog(0, None, 0),
        "quarantined": 0, "outbox_failed": 0, "last_sweep": None, "mailboxes": ()}
    return DeskStatus(**(fields | changes))  # type: ignore[arg-type]


def test_backlogs_and_their_ages_are_gauges() -> None:
    # Scenario: two inbound rows wait, the oldest 90 s; one outbox row 30 s; quarantine and failures counted.
    status = _status(inbound=Backlog(2, NOW - timedelta(seconds=90), 1), outbox=Backlog(1, NOW - timedelta(seconds=30), 0),
                     quarantined=4, outbox_failed=5, last_sweep=NOW - timedelta(seconds=12))
    got = {r.name: r.value for r in status.readings()}
    assert got == {"inbound_waiting": 2, "inbound_oldest_age_seconds": 90.0, "inbound_stuck": 1,
                   "outbox_waiting": 1, "outbox_oldest_age_seconds": 30.0, "outbox_failed": 5,
                   "quarantine_size": 4, "last_sweep_age_seconds": 12.0}


def test_nothing_waiting_is_age_zero_and_no_sweep_yet_is_no_figure() -> None:
    # Scenario: an idle desk that never swept: ages 0, no last-sweep sample (an alert on absent() sees it).
    got = {r.name: r.value for r in _status().readings()}
    assert got["inbound_oldest_age_seconds"] == got["outbox_oldest_age_seconds"] == 0
    assert "last_sweep_age_seconds" not in got


def test_each_mailbox_has_its_last_success_failing_and_backlog() -> None:
    # Scenario: one healthy mailbox and one failing that never succeeded: labelled samples per mailbox.
    fetched = NOW - timedelta(minutes=5)
    status = _status(mailboxes=(Mailbox("sales", "INBOX", fetched, None, 2, "", None),
                                Mailbox("help", "Support", None, NOW - timedelta(hours=1), 7, "", None)))
    got = {(r.name, r.labels): r.value for r in status.readings() if r.name.startswith("imap_")}
    sales, help_ = (("mailbox", "sales"), ("folder", "INBOX")), (("mailbox", "help"), ("folder", "Support"))
    assert got == {("imap_last_success_timestamp_seconds", sales): fetched.timestamp(),
                   ("imap_failing", sales): 0.0, ("imap_backlog", sales): 2,
                   ("imap_failing", help_): 1.0, ("imap_backlog", help_): 7}
