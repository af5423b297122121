"""Odd header values and hostile structure: the classifier's header layer degrades, never raises."""

from __future__ import annotations

import email

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from machine_samples import AUTO, HUMAN, OWN

from maildesk.mail.machine import LOOP_HEADER, MailKind, classify
from maildesk.mail.machine.headers import decoded, first_id, first_token, reason_token

# --- the accessors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "token"),
    [
        pytest.param("Auto-Replied", "auto-replied", id="lowercased"),
        pytest.param("(robot (nested)) auto-replied", "auto-replied", id="nested-comment-first"),
        pytest.param('auto-generated; owner="x"', "auto-generated", id="parameter-dropped"),
        pytest.param("DR, OOF", "dr", id="first-of-a-list"),
        pytest.param('"bulk"', "bulk", id="quotes-dropped"),
        pytest.param("no (", "no", id="unclosed-comment"),
        pytest.param("", "", id="empty"),
    ],
)
def test_first_token(value: str, token: str) -> None:
    # Scenario: the first token of a structured header, whatever comments and parameters surround it.
    assert first_token(value) == token


@pytest.mark.parametrize(
    ("value", "found"),
    [
        pytest.param("<a1@customer.test>", "a1@customer.test", id="bracketed"),
        pytest.param("<a1@x> <b2@y>", "a1@x", id="first-of-references"),
        pytest.param(" a1@customer.test ", "a1@customer.test", id="bare-id-some-clients-write"),
        pytest.param("a1 at customer.test", None, id="not-an-id"),
        pytest.param("<>", None, id="empty-brackets"),
        pytest.param("", None, id="absent"),
    ],
)
def test_first_id(value: str, found: str | None) -> None:
    # Scenario: Message-IDs come out bare, with or without angle brackets in the header.
    assert first_id(value) == found


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param("=?utf-8?b?0JDQstGC0L7QvtGC0LLQtdGC?=", "Автоответ", id="utf-8-base64"),
        pytest.param("=?x-unknown?q?Caf=E9?=", "Caf\ufffd", id="unknown-charset-degrades"),
        pytest.param("Out of\r\n\toffice", "Out of office", id="unfolded"),
        pytest.param("=?utf-8?q?broken", "=?utf-8?q?broken", id="unfinished-word-kept"),
    ],
)
def test_decoded(value: str, text: str) -> None:
    # Scenario: RFC 2047 words are decoded; unknown charsets and broken words degrade instead of raising.
    assert decoded(value) == text


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        pytest.param("auto-replied", "auto-replied", id="kept"),
        pytest.param("x custom/värde!", "xcustomvrde", id="odd-characters-dropped"),
        pytest.param("a" * 60, "a" * 40, id="cut-to-40"),
        pytest.param("!!!", "other", id="nothing-left"),
    ],
)
def test_reason_token(token: str, reason: str) -> None:
    # Scenario: a header value becomes a short reason of safe characters, never an empty one.
    assert reason_token(token) == reason


# --- odd header values ----------------------------------------------------------------------------------


def test_undecodable_8bit_headers_do_not_break_anything() -> None:
    # Scenario: raw 8-bit bytes in headers degrade to text; signals still count.
    raw = (
        b"From: \xe9ric <eric@customer.test>\r\nSubject: Caf\xe9 \xff\xfe\r\n"
        b"Auto-Submitted: auto-replied \xff\r\nMessage-ID: <\xff@x>\r\n\r\nbody\r\n"
    )
    msg = email.message_from_bytes(raw)
    assert not isinstance(msg["Subject"], str)  # compat32 hands over an email.header.Header here
    verdict = classify(msg, None, OWN)
    assert verdict.kind is AUTO
    assert "auto-submitted:auto-replied" in verdict.reasons


def test_missing_from_and_subject() -> None:
    # Scenario: a mail without From: or Subject: is simply HUMAN.
    msg = email.message_from_bytes(b"To: support@example.org\r\n\r\nhello\r\n")
    assert classify(msg, None, OWN).kind is HUMAN



# --- never raise ----------------------------------------------------------------------------------------

HEADER_NAMES = [
    "From",
    "Sender",
    "Return-Path",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "Precedence",
    "List-Id",
    "List-Unsubscribe",
    "X-Auto-Response-Suppress",
    "X-Autoreply",
    "X-Autorespond",
    "X-Failed-Recipients",
    "X-Loop",
    LOOP_HEADER,
    "Content-Type",
    "Content-Transfer-Encoding",
    "MIME-Version",
]
CONTENT_TYPES = [
    "multipart/report; report-type=delivery-status; boundary=b",
    "multipart/report; report-type=feedback-report; boundary=b",
    "multipart/report; report-type*=utf-8''disposition-notification; boundary=b",
    "multipart/report; report-type=; boundary=",
    "message/delivery-status",
    "message/rfc822",
    "text/rfc822-headers",
    'multipart/mixed; boundary="b"',
    "text/plain; charset=unicode-1-1-utf-7",
    "text/plain; charset=utf-8content-transfer-encoding",
]
header_value = st.one_of(
    st.binary(max_size=80),
    st.text(max_size=80).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"=?utf-8?b?0JDQstGC0L4=?=",
            b"=?x-unknown?q?=FF?=",
            b"<>",
            b"(((",
            b"no (",
            b'auto-replied;;;"',
            b"<@>",
            b"rfc822;",
            b"\r\n\t",
            b"MAILER-DAEMON",
            b"=?utf-8?q?broken",
        ]
    ),
)
BODIES = [
    b"--b\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: ;\r\nStatus: 9.9\r\n\r\n--b--\r\n",
    b"--b\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <\xff>\r\n"
    b"--b\r\nContent-Type: text/rfc822-headers\r\n",
    b"--b\r\nContent-Type: message/feedback-report\r\n\r\n\r\n--b--",
    b"<x@y>: 550 5.1.1\r\nMessage-ID: <a@b>\r\n",
    b"\x00\xff\xfe",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.lists(
        st.tuples(
            st.one_of(st.sampled_from(HEADER_NAMES), st.from_regex(r"\A[!-9;-~]{1,20}\Z")), header_value
        ),
        max_size=12,
    ),
    content_type=st.one_of(st.none(), st.sampled_from(CONTENT_TYPES)),
    body=st.one_of(st.sampled_from(BODIES), st.binary(max_size=200)),
    mail_from=st.one_of(st.none(), st.just(""), st.text(max_size=30)),
)
def test_header_soup_never_raises(
    headers: list[tuple[str, bytes]], content_type: str | None, body: bytes, mail_from: str | None
) -> None:
    # Scenario: any mix of odd header values, report types and bodies gives a verdict, never an error.
    lines = [name.encode("ascii") + b": " + value for name, value in headers]
    if content_type:
        lines.append(b"Content-Type: " + content_type.encode("ascii"))
    msg = email.message_from_bytes(b"\r\n".join([*lines, b"", body]))
    verdict = classify(msg, mail_from, OWN)
    assert isinstance(verdict.kind, MailKind)
    assert not any(r.startswith("error:") for r in verdict.reasons), verdict.reasons
    assert all(isinstance(r, str) and r for r in verdict.reasons)
