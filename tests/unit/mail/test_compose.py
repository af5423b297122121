"""Composing outbound mail: threading headers, loop headers, no header injection."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from maildesk.domain import Address
from maildesk.mail.compose import OutgoingAttachment, OutgoingMail, compose, new_message_id

WHEN = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _mail(**changes: object) -> OutgoingMail:
    base: dict[str, object] = dict(
        sender=Address("support@example.org", "Example Support"), to=(Address("bob@client.example", "Bob"),),
        subject="[#1] Printer", text="Привіт", message_id="md.1@maildesk.example.org", date=WHEN,
        loop_token="support@example.org", in_reply_to="b1@client.example",
        references=("a0@client.example", "b1@client.example"))
    return OutgoingMail(**(base | changes))  # type: ignore[arg-type]


def test_threading_and_loop_headers() -> None:
    # An acknowledgement threads on the requester's mail and tells robots not to answer.
    msg = message_from_bytes(compose(_mail()), policy=policy.default)
    assert msg["Message-ID"] == "<md.1@maildesk.example.org>"
    assert msg["In-Reply-To"] == "<b1@client.example>"
    assert msg["References"] == "<a0@client.example> <b1@client.example>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Maildesk-Loop"] == "support@example.org"
    assert msg.get_content().strip() == "Привіт"


def test_lines_end_in_crlf() -> None:
    # SMTP wants CRLF; the composer writes it so relays never rewrap.
    raw = compose(_mail())
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


@pytest.mark.parametrize("field", ["subject", "name"])
def test_header_injection_is_refused(field: str) -> None:
    # A CR/LF smuggled into a subject or a display name cannot add a header.
    if field == "subject":
        mail = _mail(subject="hi\r\nBcc: victim@example.net")
    else:
        mail = _mail(to=(Address("bob@client.example", "Bob\r\nBcc: victim@example.net"),))
    try:
        raw = compose(mail)
    except ValueError:
        return
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None


def test_attachment_is_carried() -> None:
    # A file travels as a MIME part with its name.
    raw = compose(_mail(attachments=(OutgoingAttachment("log.txt", "text/plain", b"line\n"),)))
    msg = message_from_bytes(raw, policy=policy.default)
    names = [p.get_filename() for p in msg.iter_attachments()]  # type: ignore[attr-defined]
    assert names == ["log.txt"]


def test_message_ids_are_unique_and_ours() -> None:
    # Each outbound message gets a fresh id in our own domain.
    a, b = new_message_id("maildesk.example.org"), new_message_id("maildesk.example.org")
    assert a != b and a.endswith("@maildesk.example.org")


def test_odd_ids_of_others_are_left_out_not_fatal() -> None:
    # A requester's 8-bit or spaced Message-ID is dropped from our references (an atheris find).
    msg = message_from_bytes(compose(_mail(in_reply_to="ünï@x", references=("good@x", "bad id@x", "ü@x"))),
                             policy=policy.default)
    assert msg["In-Reply-To"] is None and msg["References"] == "<good@x>"
