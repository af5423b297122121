"""Limits on one inbound message: every ceiling at and over its bound, control headers, attachment names."""

from __future__ import annotations

import email
from email.message import Message

import pytest

from maildesk.mail.limits import (
    MailLimits,
    header_section,
    hop_count,
    is_control_header,
    raw_problem,
    safe_filename,
    shape_problem,
    without_control_headers,
)


def raw_mail(*headers: str, body: str = "hello\r\n") -> bytes:
    """A raw message with `headers` and `body`, CRLF line ends."""
    return ("\r\n".join(["From: a@customer.test", *headers, "", body])).encode()


def nested(depth: int) -> Message:
    """A message whose multipart nesting is `depth` levels deep, built without the (recursive) parser."""
    msg = Message()
    msg.set_payload("leaf")
    for _ in range(depth - 1):
        outer = Message()
        outer["Content-Type"] = 'multipart/mixed; boundary="b"'
        outer.set_payload([msg])
        msg = outer
    return msg


def multipart(parts: int, boundary: str = "b") -> Message:
    """A flat multipart/mixed message with `parts` text parts (so `parts` + 1 parts in all)."""
    body = "".join(f"--{boundary}\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n" for i in range(parts))
    return email.message_from_string(f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
                                     f"{body}--{boundary}--\r\n")


@pytest.mark.parametrize(
    ("raw", "limit", "section"),
    [
        pytest.param(b"From: a\r\nTo: b\r\n\r\nbody", 100, b"From: a\r\nTo: b", id="crlf"),
        pytest.param(b"From: a\nTo: b\n\nbody", 100, b"From: a\nTo: b", id="bare-lf"),
        pytest.param(b"From: a\r\nTo: b", 100, b"From: a\r\nTo: b", id="no-body"),
        pytest.param(b"X: " + b"y" * 50 + b"\r\n\r\nbody", 10, b"X: " + b"y" * 8, id="cut-at-limit-plus-one"),
    ],
)
def test_header_section(raw: bytes, limit: int, section: bytes) -> None:
    # Scenario: the header section ends at the first empty line and is never read past limit + 1 bytes.
    assert header_section(raw, limit) == section


def test_hop_count_reads_headers_only() -> None:
    # Scenario: Received: fields in any case count; the word at a body line's start does not.
    raw = raw_mail("Received: from a", "RECEIVED: from b", "received: from c", body="Received: quoted\r\n")
    assert hop_count(raw) == 3


SMALL = MailLimits(header_bytes=200, max_hops=3, mime_parts=2)


def header_of(size: int) -> bytes:
    """A raw message whose header section is exactly `size` bytes."""
    return raw_mail("X: " + "y" * (size - len(b"From: a@customer.test\r\nX: ")))


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        pytest.param(header_of(200), None, id="header-at-limit"),
        pytest.param(header_of(201), "header section over 200 bytes", id="header-over-limit"),
        pytest.param(raw_mail(*["Received: x"] * 3), None, id="hops-at-limit"),
        pytest.param(raw_mail(*["Received: x"] * 4),
                     "too many hops: 4 Received: fields (limit 3), probably a mail loop", id="hops-over-limit"),
        pytest.param(raw_mail("Content-Type: multipart/mixed", body="Content-Type: text/plain\r\n"), None,
                     id="parts-at-limit"),
        pytest.param(raw_mail("Content-Type: multipart/mixed", body="Content-Type: a\r\nContent-Type: b\r\n"),
                     "3 MIME parts declared (limit 2)", id="parts-over-limit"),
    ],
)
def test_raw_problem(raw: bytes, problem: str | None) -> None:
    # Scenario: each byte-level ceiling lets a message at its bound through and names the one over it.
    assert raw_problem(raw, SMALL) == problem


def test_header_of_builds_what_it_says() -> None:
    # Scenario: the helper's header section really is the size the boundary cases above rely on.
    assert len(header_section(header_of(200), 1000)) == 200


@pytest.mark.parametrize(
    ("msg", "limits", "problem"),
    [
        pytest.param(nested(5), MailLimits(mime_depth=5), None, id="depth-at-limit"),
        pytest.param(nested(6), MailLimits(mime_depth=5), "MIME nesting deeper than 5", id="depth-over-limit"),
        pytest.param(multipart(3), MailLimits(mime_parts=4), None, id="parts-at-limit"),
        pytest.param(multipart(4), MailLimits(mime_parts=4), "more than 4 MIME parts", id="parts-over-limit"),
        pytest.param(multipart(1, "x" * 20), MailLimits(boundary_length=20), None, id="boundary-at-limit"),
        pytest.param(multipart(1, "x" * 21), MailLimits(boundary_length=20),
                     "MIME boundary longer than 20 characters", id="boundary-over-limit"),
        pytest.param(email.message_from_string("Subject: plain\r\n\r\ntext"), MailLimits(mime_depth=1), None,
                     id="single-part"),
    ],
)
def test_shape_problem(msg: Message, limits: MailLimits, problem: str | None) -> None:
    # Scenario: MIME depth, part count and boundary length, each at and over its bound.
    assert shape_problem(msg, limits) == problem


def test_shape_problem_refuses_a_hostile_nesting_by_its_depth() -> None:
    # Scenario: a 5000-level nesting (deeper than Python's recursion limit) is refused for its depth.
    assert shape_problem(nested(5000), MailLimits()) == "MIME nesting deeper than 100"


@pytest.mark.parametrize(
    ("name", "control"),
    [
        pytest.param("X-Maildesk-Loop", True, id="ours"),
        pytest.param(" x-maildesk-ticket ", True, id="ours-any-case-padded"),
        pytest.param("RT-Ticket", True, id="rt-style"),
        pytest.param("X-RT-Loop", False, id="x-rt-is-not-rt"),
        pytest.param("X-Maildesk", False, id="prefix-needs-its-dash"),
        pytest.param("Received", False, id="ordinary"),
    ],
)
def test_is_control_header(name: str, control: bool) -> None:
    # Scenario: only our own and RT-style control headers are control headers.
    assert is_control_header(name) is control


def test_without_control_headers_keeps_the_rest_in_order() -> None:
    # Scenario: forged control headers from outside are dropped before rules and threading see them.
    headers = [("Subject", "hi"), ("X-Maildesk-Loop", "md"), ("To", "x"), ("rt-ticket", "1")]
    assert without_control_headers(headers) == (("Subject", "hi"), ("To", "x"))


@pytest.mark.parametrize(
    ("name", "limit", "safe"),
    [
        pytest.param("report.pdf", 255, "report.pdf", id="ordinary"),
        pytest.param("../../etc/passwd", 255, "passwd", id="unix-path"),
        pytest.param("C:\\Users\\bob\\invoice.doc", 255, "invoice.doc", id="windows-path"),
        pytest.param('a<b>c:d*e?f"g|h', 255, "a_b_c_d_e_f_g_h", id="reserved-characters"),
        pytest.param("tab\there\x00.txt", 255, "tab_here_.txt", id="control-characters"),
        pytest.param(". .hidden", 255, "hidden", id="leading-dots-and-spaces"),
        pytest.param("report.pdf. ", 255, "report.pdf", id="trailing-dot-and-space"),
        pytest.param("CON", 255, "_CON", id="device-name"),
        pytest.param("con.txt", 255, "_con.txt", id="device-name-with-extension"),
        pytest.param("lpt9.log", 255, "_lpt9.log", id="numbered-device"),
        pytest.param("com10.txt", 255, "com10.txt", id="not-a-device"),
        pytest.param("e\u0301t\u00e9.txt", 255, "\u00e9t\u00e9.txt", id="nfc-normalised"),
        pytest.param("a" * 16 + ".pdf", 20, "a" * 16 + ".pdf", id="at-limit"),
        pytest.param("a" * 30 + ".pdf", 20, "a" * 16 + ".pdf", id="over-limit-keeps-extension"),
        pytest.param("x." + "y" * 40, 20, "x.y." + "y" * 16, id="long-extension-cut-to-16"),
        pytest.param("", 255, "attachment", id="empty"),
        pytest.param("...", 255, "attachment", id="only-dots"),
        pytest.param("dir/", 255, "attachment", id="path-without-name"),
    ],
)
def test_safe_filename(name: str, limit: int, safe: str) -> None:
    # Scenario: a mail-supplied name becomes display metadata: no path, no control or reserved characters.
    assert safe_filename(name, limit) == safe


@pytest.mark.parametrize("name", ["a" * 300, "a" * 300 + ".tar.gz", "b." + "c" * 300, "d" * 5000])
def test_safe_filename_never_exceeds_the_limit(name: str) -> None:
    # Scenario: however long the name, the result fits the limit.
    assert 0 < len(safe_filename(name, 255)) <= 255
