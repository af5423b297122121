"""The report's pure parts: durations in units a reader takes in, ratings, per-ticket compliance shares."""

from __future__ import annotations

from datetime import UTC, date, datetime

from maildesk.admin.report.model import BreachLine, Compliance, Ratings, Week
from maildesk.admin.report.text import duration, percent, ratings_line


def test_durations_pick_their_unit_and_never_print_zero_hours() -> None:
    # Four minutes is "4 min", not "0.0 h"; seconds, hours and days each where they read best.
    assert [duration(s) for s in (None, 12, 59.4, 240, 3599, 3600, 5 * 3600 + 1800, 47 * 3600, 3 * 86400)] == [
        "-", "12 s", "59 s", "4 min", "60 min", "1.0 h", "5.5 h", "47.0 h", "3.0 d"]


def test_ratings_count_good_and_bad_and_their_rate() -> None:
    # Scores 5, 4, 4, 3, 1: three good, one bad, 60% good, mean 3.4.
    ratings = Ratings((1, 0, 1, 2, 1))
    assert (ratings.count, ratings.good, ratings.bad, ratings.rate, ratings.mean) == (5, 3, 1, 60.0, 3.4)
    assert ratings_line(ratings) == "5 ratings, mean 3.4 of 5 (5: 1, 4: 2, 3: 1, 1: 1); good 3, bad 1, 60% good"
    assert ratings_line(Ratings((0, 0, 0, 0, 0))) == "no ratings" and Ratings((0,) * 5).rate is None


def test_compliance_is_a_share_of_tickets_and_breaches_name_their_targets() -> None:
    # 2 of 5 tickets met every target: 40%; a breach of both targets names both, its worst is the larger.
    assert Compliance("support", 2, 3).percent == 40.0 and percent(Compliance("x", 0, 0).percent) == "-"
    both = BreachLine(7, "Printer", 120.0, 7200.0)
    assert (both.targets, both.worst) == ("first response + resolution", 7200.0)
    assert BreachLine(8, "VPN", None, 60.0).targets == "resolution"
    assert Week(date(2026, 11, 23), 1, 1, None).label == "2026-W48"
    assert Week(datetime(2027, 1, 4, tzinfo=UTC).date(), 0, 0, None).label == "2027-W01"
