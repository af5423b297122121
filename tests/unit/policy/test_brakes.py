"""Brakes on automatic mail: per-kind windows, the daily ceiling per recipient, unbraked kinds, reasons."""

from __future__ import annotations

from datetime import timedelta

import pytest

from maildesk.policy.brakes import (
    DAY,
    BrakeDecision,
    BrakeLimits,
    SentCounts,
    Window,
    decide,
    is_braked_kind,
    over_cap_reason,
    windows,
    within_cap,
)

BOB = "bob@customer.test"
DEFAULTS = BrakeLimits()


@pytest.mark.parametrize(
    ("kind", "braked"),
    [
        pytest.param("ack", True, id="acknowledgement"),
        pytest.param("agent_error", True, id="agent-error"),
        pytest.param("status_reply", True, id="status-prefix"),
        pytest.param("reminder", True, id="auto-close-reminder"),
        pytest.param("autoclosed", True, id="auto-close-notice"),
        pytest.param("status", False, id="prefix-needs-its-underscore"),
        pytest.param("survey", True, id="satisfaction-survey"),
        pytest.param("merged", True, id="merged-notice"),
        pytest.param("split", True, id="split-notice"),
        pytest.param("reply", False, id="agent-reply-relayed"),
        pytest.param("notify", False, id="notice-to-staff"),
        pytest.param("Ack", False, id="kinds-are-exact"),
    ],
)
def test_which_kinds_are_braked(kind: str, braked: bool) -> None:
    # Scenario: only mail the desk writes on its own to outsiders counts against the brakes.
    assert is_braked_kind(kind) is braked


@pytest.mark.parametrize(
    ("kind", "same_kind", "automatic_day", "send", "reason"),
    [
        pytest.param("ack", 9, 39, True, "within limits", id="ack-below-both"),
        pytest.param("ack", 10, 10, False, f"brake: 10 ack mails to {BOB} in the last 3 h (limit 10)",
                     id="ack-window-at-limit"),
        pytest.param("ack", 25, 25, False, f"brake: 25 ack mails to {BOB} in the last 3 h (limit 10)",
                     id="ack-window-over-limit"),
        pytest.param("agent_error", 0, 0, True, "within limits", id="first-agent-error"),
        pytest.param("agent_error", 1, 1, False, f"brake: 1 agent_error mails to {BOB} in the last 24 h (limit 1)",
                     id="second-agent-error-in-a-day"),
        pytest.param("ack", 3, 40, False, f"brake: 40 automatic mails to {BOB} in the last 24 h (limit 40)",
                     id="daily-ceiling-holds-an-ack"),
        pytest.param("status_reply", 0, 39, True, "within limits", id="status-below-daily"),
        pytest.param("status_reply", 500, 40, False,
                     f"brake: 40 automatic mails to {BOB} in the last 24 h (limit 40)",
                     id="status-has-only-the-daily-ceiling"),
        pytest.param("ack", 10, 40, False, f"brake: 10 ack mails to {BOB} in the last 3 h (limit 10)",
                     id="per-kind-reason-first-when-both-hit"),
        pytest.param("reply", 1000, 1000, True, "reply is not automatic mail to an outsider",
                     id="human-reply-never-braked"),
        pytest.param("notify", 1000, 1000, True, "notify is not automatic mail to an outsider",
                     id="staff-notice-never-braked"),
    ],
)
def test_decide_with_default_limits(kind: str, same_kind: int, automatic_day: int, send: bool, reason: str) -> None:
    # Scenario: one more mail of `kind` to Bob, given what already went to him, under the default ceilings.
    decision = decide(kind, BOB, SentCounts(same_kind=same_kind, automatic_day=automatic_day), DEFAULTS)
    assert decision == BrakeDecision(send, reason)


def test_decide_reads_the_limits_it_is_given() -> None:
    # Scenario: configured ceilings replace the defaults, and a window of 90 minutes reads "1.5 h".
    limits = BrakeLimits(ack=Window(2, timedelta(minutes=90)), any_automatic=Window(3, timedelta(hours=12)))
    assert decide("ack", BOB, SentCounts(1, 1), limits).send
    assert decide("ack", BOB, SentCounts(2, 2), limits).reason == (
        f"brake: 2 ack mails to {BOB} in the last 1.5 h (limit 2)")
    assert decide("status_reply", BOB, SentCounts(0, 3), limits).reason == (
        f"brake: 3 automatic mails to {BOB} in the last 12 h (limit 3)")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        pytest.param("ack", {"automatic_day": DAY, "same_kind": timedelta(hours=3)}, id="ack-counts-two-windows"),
        pytest.param("agent_error", {"automatic_day": DAY, "same_kind": DAY}, id="agent-error-day-twice"),
        pytest.param("status_reply", {"automatic_day": DAY}, id="status-counts-the-day-only"),
    ],
)
def test_windows_to_count(kind: str, expected: dict[str, timedelta]) -> None:
    # Scenario: the caller counts exactly the windows decide() will read for this kind.
    assert dict(windows(kind, DEFAULTS)) == expected


@pytest.mark.parametrize(
    ("count", "kept", "held"),
    [
        pytest.param(1, 1, 0, id="one-recipient"),
        pytest.param(20, 20, 0, id="at-the-cap"),
        pytest.param(21, 20, 1, id="one-over"),
        pytest.param(8001, 20, 7981, id="a-flood"),
    ],
)
def test_a_mail_goes_to_at_most_the_cap_to_first(count: int, kept: int, held: int) -> None:
    # Scenario: any mail keeps its first recipients (To before Cc) up to the cap; the rest are held back.
    people = [f"p{i}@x.test" for i in range(count)]
    allowed, over = within_cap(people, DEFAULTS)
    assert (allowed, over) == (tuple(people[:kept]), tuple(people[kept:]))
    assert len(over) == held


def test_the_cap_reason_names_the_count_and_the_limit() -> None:
    # Scenario: the brake event says how many were held and what the limit is.
    assert over_cap_reason(["a", "b", "c"], BrakeLimits(recipients_per_mail=5)) == (
        "brake: 3 more recipients than the limit of 5 per mail; held back")
