"""The pure IMAP fetch decisions: batches, UIDVALIDITY, last UID, backoff, alerts, OAuth2 tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maildesk.errors import MailboxAuthError
from maildesk.mail.mailbox_sync import (
    FolderState,
    HeaderFacts,
    advance_last_uid,
    backoff_seconds,
    header_message_id,
    known_uids,
    parse_token,
    plan_round,
    return_path,
    should_alert,
)

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_first_round_takes_oldest_batch() -> None:
    # Scenario: nothing remembered yet: the oldest UIDs first, the rest counted as backlog.
    plan = plan_round(FolderState(None, 0), 7, [5, 3, 9, 1], batch_size=3)
    assert (plan.reset, plan.uids, plan.backlog) == (False, (1, 3, 5), 1)


def test_highest_uid_returned_by_search_is_not_fetched_again() -> None:
    # Scenario: `UID N:*` returns the highest message even when it is below N; it is filtered out.
    plan = plan_round(FolderState(7, 9), 7, [9], batch_size=50)
    assert plan.uids == () and plan.backlog == 0


def test_uidvalidity_change_reconsiders_every_message() -> None:
    # Scenario: the mailbox was recreated: remembered UIDs mean nothing, every message is a candidate.
    plan = plan_round(FolderState(7, 900), 8, [1, 2, 3], batch_size=50)
    assert plan.reset and plan.uids == (1, 2, 3)


def test_known_uids_match_message_id_and_size() -> None:
    # Scenario: stored (Message-ID, size) pairs are skipped; no Message-ID or another size is downloaded.
    facts = [HeaderFacts(1, "a@x", 100), HeaderFacts(2, "a@x", 101), HeaderFacts(3, "", 100)]
    assert known_uids(facts, {("a@x", 100), ("", 100)}) == {1}


def test_last_uid_stops_at_first_unsettled() -> None:
    # Scenario: UID 4 failed to store: last_uid stays at 3 so it is fetched again.
    assert advance_last_uid(0, [1, 3, 4, 6], {1, 3, 6}) == 3
    assert advance_last_uid(10, [], set()) == 10


def test_backoff_doubles_and_caps() -> None:
    # Scenario: reconnect waits 1, 2, 4 … seconds, never more than five minutes.
    assert [backoff_seconds(n) for n in (0, 1, 2, 3)] == [0.0, 1.0, 2.0, 4.0]
    assert backoff_seconds(100) == 300.0


def test_alert_once_after_threshold() -> None:
    # Scenario: an account failing for longer than the threshold alerts once, not while healthy or alerted.
    after = timedelta(minutes=30)
    assert should_alert(NOW - timedelta(minutes=31), False, NOW, after)
    assert not should_alert(NOW - timedelta(minutes=29), False, NOW, after)
    assert not should_alert(NOW - timedelta(hours=2), True, NOW, after)
    assert not should_alert(None, False, NOW, after)


def test_token_bare_and_json_forms() -> None:
    # Scenario: a helper may print a bare token or JSON with an absolute or relative expiry.
    assert parse_token("abc\n", NOW).access_token == "abc"
    assert parse_token('{"access_token": "t", "expires_in": 3600}', NOW).expires_at == NOW + timedelta(hours=1)
    assert parse_token('{"access_token": "t", "expires_at": "2026-11-20T12:00:00Z"}', NOW).expires_at == \
        NOW + timedelta(hours=2)
    assert parse_token('{"access_token": "t", "expires_at": 0}', NOW).expires_at == datetime(1970, 1, 1,
                                                                                             tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "{}", '{"access_token": ""}', "{not json"])
def test_token_unusable_output_is_an_auth_error(text: str) -> None:
    # Scenario: an empty or malformed token is reported as a login problem, not a crash.
    with pytest.raises(MailboxAuthError):
        parse_token(text, NOW)


def test_return_path_and_message_id_from_headers() -> None:
    # Scenario: the envelope sender comes from Return-Path ("" for a bounce); Message-ID from a header block.
    assert return_path(b"Return-Path: <bob@x.example>\r\nSubject: a\r\n\r\nbody") == "bob@x.example"
    assert return_path(b"Return-Path: <>\r\n\r\nbody") == ""
    assert return_path(b"Subject: a\r\n\r\nbody") is None
    assert header_message_id(b"Message-ID:\r\n <m1@x.example>\r\n\r\n") == "m1@x.example"
    assert header_message_id(b"\r\n") == ""
