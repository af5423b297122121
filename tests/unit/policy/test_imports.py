"""What imported mail may set off, when it happened, the order a backlog is processed in, and how
`--status` files its tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maildesk.domain import Status
from maildesk.policy import imports

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_only_an_import_without_notify_is_silent() -> None:
    # Scenario: "import" mails nobody; "import+notify", SMTP, the pipe and IMAP mail as usual.
    assert imports.source(notify=False) == "import" and imports.silent("import")
    assert imports.source(notify=True) == "import+notify" and not imports.silent("import+notify")
    assert not any(imports.silent(s) for s in ("smtp", "lmtp", "pipe", "imap:support"))


@pytest.mark.parametrize(("source", "written", "expected"), [
    ("import", NOW - 400 * DAY, NOW - 400 * DAY),      # its own Date:
    ("import+notify", NOW - DAY, NOW - DAY),
    ("import", None, NOW),                             # no Date: at all
    ("import", NOW + DAY, NOW),                        # a sender's clock in the future
    ("smtp", NOW - 400 * DAY, NOW),                    # live mail happens when it arrives
])
def test_instant(source: str, written: datetime | None, expected: datetime) -> None:
    # Scenario: imported mail is dated by its Date: unless there is none or it lies ahead; live mail by now.
    assert imports.instant(source, written, NOW) == expected


def test_backlog_order_follows_the_dates() -> None:
    # Scenario: a reply stored before its original comes after it; an undated mail stays after its neighbour; ties keep the file order.
    dates = [NOW, NOW - DAY, None, NOW - 2 * DAY, NOW - DAY]
    assert imports.in_order(dates) == [3, 1, 2, 4, 0]


def test_undated_mail_before_any_date_comes_first() -> None:
    # Scenario: mail without a Date: at the top of the file is processed first, in file order.
    assert imports.in_order([None, None, NOW, NOW - DAY]) == [0, 1, 3, 2]


@pytest.mark.parametrize(("current", "wanted", "moves"), [
    (Status.NEW, Status.CLOSED, True), (Status.OPEN, Status.CANCELED, True), (Status.NEW, Status.OPEN, True),
    (Status.OPEN, Status.OPEN, False),      # already there
    (Status.CLOSED, Status.OPEN, False),    # its requester's "solved" stands
    (Status.CANCELED, Status.CLOSED, False),
])
def test_status_step(current: Status, wanted: Status, moves: bool) -> None:
    # Scenario: --status moves tickets not yet ended by their own mail; a final status records why.
    step = imports.status_step(current, wanted)
    assert (step is not None) == moves
    if step is not None:
        assert step.status == wanted
        assert step.close_reason == ("imported" if wanted in (Status.CLOSED, Status.CANCELED) else "")


def test_status_choices_leave_out_what_the_sweep_would_mail_about() -> None:
    # Scenario: pending and resolved tickets get reminders and closing notices from the sweep: not offered.
    assert Status.PENDING not in imports.STATUSES and Status.RESOLVED not in imports.STATUSES
