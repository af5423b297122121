"""Requester commands in a reply, status-request filters and the status address."""

from __future__ import annotations

from datetime import date

import pytest

from maildesk.domain import Status
from maildesk.policy.requester import (
    RequesterCommand,
    StatusFilter,
    parse_status_filter,
    requester_command,
    status_address,
)

SOLVED, CANCEL = RequesterCommand.SOLVED, RequesterCommand.CANCEL


@pytest.mark.parametrize(("text", "expected"), [
    ("solved", SOLVED), ("Solved!", SOLVED), ("SOLVED, thanks", SOLVED), ("Solved, thanks!\n\nBob", SOLVED),
    ("It is solved!\nBest regards\nBob Smith", SOLVED), ("Problem solved.", SOLVED),
    ("вирішено", SOLVED), ("Вирішено, дякую!\nОлена", SOLVED), ("Решено.", SOLVED), ("решено, спасибо", SOLVED),
    ("#cancel", CANCEL), ("скасувати", CANCEL), ("Отменить", CANCEL), ("#cancel\n\nThanks", CANCEL),
])
def test_whole_text_commands(text: str, expected: RequesterCommand) -> None:
    # The command alone, with courtesy words, punctuation or a signed name, is recognised.
    assert requester_command(text) is expected


@pytest.mark.parametrize("text", [
    "not solved", "не вирішено", "не решено", "solved, but the scanner is broken too",
    "solved\nbut now the scanner does not work either", "Is it solved?? still no paper", "",
    "I will cancel the meeting", "solved cancel", "The printer problem was solved yesterday by Tom\nand then broke",
])
def test_anything_more_is_an_ordinary_reply(text: str) -> None:
    # Negations and extra content never close a ticket.
    assert requester_command(text) is None


def test_status_filters() -> None:
    # open / closed / a date in the subject, in three languages; anything else lists all.
    assert parse_status_filter("open") == StatusFilter("open")
    assert parse_status_filter("Re: відкриті") == StatusFilter("open")
    assert parse_status_filter("закрытые") == StatusFilter("closed")
    assert parse_status_filter("closed since 2026-11-01") == StatusFilter("closed", date(2026, 11, 1))
    assert parse_status_filter("з 01.11.2026") == StatusFilter("", date(2026, 11, 1))
    assert parse_status_filter("status please") == StatusFilter()
    assert parse_status_filter("2026-02-31") == StatusFilter()
    assert Status.CANCELED in StatusFilter("closed").statuses() and Status.PENDING in StatusFilter("open").statuses()
    assert StatusFilter("open", date(2026, 11, 1)).label() == "open since 2026-11-01"


def test_status_address_default_and_configured() -> None:
    # <local>+status@<domain> unless configured.
    assert status_address("", "Support@Example.org") == "support+status@example.org"
    assert status_address("Status@Example.org", "support@example.org") == "status@example.org"
