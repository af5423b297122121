"""Parsing raw bytes into ParsedMail: decoding, ids, HTML, attachments, broken input."""

from __future__ import annotations

import pytest

from maildesk.errors import MailParseError
from maildesk.mail.html_text import html_to_text
from maildesk.mail.parse import parse_message


def test_decodes_encoded_words_and_addresses() -> None:
    # RFC 2047 subjects and names come out as text.
    raw = (b"From: =?utf-8?b?0J7Qu9C10LrRgdCw0L3QtNGA?= <o@client.example>\r\n"
           b"To: support@example.org, Eve <eve@client.example>\r\nCc: c@client.example\r\n"
           b"Subject: =?utf-8?b?0J3QtSDQv9GA0LDRhtGO0ZQg0L/RgNC40L3RgtC10YA=?=\r\n"
           b"Message-ID: <m1@client.example>\r\nIn-Reply-To: <p1@x>\r\n"
           b"References: <p0@x>\r\n <p1@x>\r\n\r\nhello\r\n")
    p = parse_message(raw)
    assert p.subject == "Не працює принтер"
    assert p.sender is not None and (p.sender.name, p.sender.email) == ("Олександр", "o@client.example")
    assert [a.email for a in p.to] == ["support@example.org", "eve@client.example"]
    assert [a.email for a in p.cc] == ["c@client.example"]
    assert p.message_id == "m1@client.example"
    assert p.thread_ids == ("p1@x", "p0@x")
    assert p.text == "hello"


def test_html_only_mail_becomes_text() -> None:
    # An HTML-only body is turned into readable text without scripts.
    raw = (b"From: a@x.org\r\nSubject: h\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           b"<html><head><style>p{}</style><script>alert(1)</script></head>"
           b"<body><p>Hello <b>there</b></p><ul><li>one</li><li>two</li></ul></body></html>")
    assert parse_message(raw).text == "Hello there\n- one\n- two"


def test_html_blockquote_is_marked_as_quote() -> None:
    # Quoted HTML keeps a '>' prefix so the reply splitter recognises it.
    assert html_to_text("<p>Yes</p><blockquote><p>Old</p></blockquote>") == "Yes\n> Old"


def test_attachment_bytes_and_name() -> None:
    # A base64 attachment is decoded; its name is kept as metadata, reduced to its last component.
    raw = (b"From: a@x.org\r\nSubject: att\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee file\r\n"
           b"--B\r\nContent-Type: application/octet-stream; name=\"../../etc/passwd\"\r\n"
           b"Content-Disposition: attachment; filename=\"../../etc/passwd\"\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--B--\r\n")
    p = parse_message(raw)
    assert [(a.filename, a.data) for a in p.attachments] == [("passwd", b"\x00\x01\x02")]
    assert p.text == "see file"


def test_missing_headers_are_empty_not_errors() -> None:
    # A message with no Subject, Message-ID or From still parses.
    p = parse_message(b"X-Nothing: 1\r\n\r\nbody\r\n")
    assert (p.subject, p.message_id, p.sender) == ("", "", None)


def test_empty_input_is_a_parse_error() -> None:
    # Nothing to parse is reported, never guessed.
    with pytest.raises(MailParseError):
        parse_message(b"  \r\n")


def test_undecodable_8bit_header_does_not_raise() -> None:
    # Raw 8-bit bytes in a header are replaced, not fatal.
    p = parse_message(b"From: a@x.org\r\nSubject: caf\xe9 \xff\r\n\r\nx\r\n")
    assert p.subject.startswith("caf")


def test_control_characters_leave_subject_and_names() -> None:
    # NUL and other control characters in a subject (found by atheris) are not carried into replies.
    p = parse_message(b"From: =?utf-8?q?Bo=01b?= <b@x.org>\r\nSubject: =?utf-8?q?a=00=01b?=\r\n\r\nx\r\n")
    assert p.subject == "a b" and p.sender is not None and p.sender.name == "Bo b"


def test_broken_encoded_word_is_kept_as_written() -> None:
    # An encoded word with bad base64 and an unknown charset (an atheris find) is shown raw, not fatal.
    p = parse_message(b"Subject: =?NONE?B?VE)VTVA=?=\r\n\r\nTEST\r\n")
    assert p.subject == "=?NONE?B?VE)VTVA=?="
