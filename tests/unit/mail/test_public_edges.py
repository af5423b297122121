"""Pure parts of a desk on a public address: alignment, fingerprints, bidi controls, the BOM, line
lengths of what we write, requester tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

from maildesk.domain import Address
from maildesk.mail import alignment
from maildesk.mail.alignment import aligned, organisational_domain
from maildesk.mail.compose import OutgoingAttachment, OutgoingMail, compose
from maildesk.mail.fingerprint import fingerprint
from maildesk.mail.limits import safe_filename
from maildesk.mail.parse import parse_message
from maildesk.mail.tokens import parse_reply_address, reply_address, verify

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_alignment_is_by_organisational_domain() -> None:
    # A bounce subdomain aligns with its parent; two registrants under a public suffix do not.
    assert aligned("bounce.client.example", "client.example")
    assert not aligned("a.co.uk", "b.co.uk") and not aligned("client.example", "")
    assert organisational_domain("mx.mail.example.com") == "example.com"


def test_one_domain_aligns_without_reading_the_suffix_list() -> None:
    # From: and envelope in the same domain (most mail) align at once: `maildesk ingest` without a daemon
    # does not pay for reading the Public Suffix List, which only tells different domains apart.
    alignment._list.cache_clear()
    assert aligned("Client.Example.", "client.example") and aligned("co.uk", "co.uk")
    assert alignment._list.cache_info().currsize == 0
    assert not aligned("a.co.uk", "b.co.uk") and alignment._list.cache_info().currsize == 1


def test_fingerprint_ignores_numbers_tags_and_quotes() -> None:
    # A robot's answers differ only in numbers, tags and what they quote: one fingerprint; another
    # client, or other words, another; empty mail has none.
    first = fingerprint("Re: [#12] Thanks, noted (5)", "Case 123 received on 2026-11-20.\n\n> our text", "10.0.0.1")
    again = fingerprint("RE: Re: [#13] Thanks, noted (6)", "Case 999 received on 2026-11-21.", "10.0.0.1")
    assert first == again != ""
    assert fingerprint("Thanks, noted", "Case received on.", "10.0.0.2") != first
    assert fingerprint("Printer broken", "Case received on.", "10.0.0.1") != first
    assert fingerprint("", "", "10.0.0.1") == ""


def test_bidi_controls_leave_file_names() -> None:
    # invoice<RLO>gpj.exe would show as invoiceexe.jpg: the override goes.
    assert safe_filename("invoice\u202egpj.exe") == "invoicegpj.exe"
    assert safe_filename("a\u2066b\u2069\u200f.pdf") == "ab.pdf"


def test_a_leading_byte_order_mark_is_dropped() -> None:
    # A message saved by a Windows tool starts with EF BB BF: its header is still read.
    parsed = parse_message(b"\xef\xbb\xbfFrom: a@client.example\r\nSubject: Hi\r\n\r\nbody\r\n")
    assert parsed.subject == "Hi" and parsed.sender == Address("a@client.example")


def _lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n")


def test_every_line_we_write_is_at_most_998_octets() -> None:
    # A 20,000-character subject without spaces, a name as long, and a 255-character Cyrillic file
    # name with a bidi override: encoded and folded, read back unchanged (less the override).
    mail = OutgoingMail(sender=Address("support@example.org", "Support"), to=(Address("a@client.example",
                                                                                      "N" * 20000),),
                        subject="S" * 20000 + " \u202eend", text="hi", message_id="m1@example.org", date=NOW,
                        loop_token="support@example.org",
                        attachments=(OutgoingAttachment("\u202e" + "Ж" * 251 + ".exe", "application/pdf", b"1"),))
    raw = compose(mail)
    assert max(len(line) for line in _lines(raw)) <= 998
    back = message_from_bytes(raw, policy=policy.default)
    assert str(back["Subject"]) == "S" * 20000 + " end"
    assert next(back.iter_attachments()).get_filename() == "Ж" * 251 + ".exe"


def test_requester_tokens_are_their_own_kind() -> None:
    # support+t4.r9.<mac>: ticket 4, requester 9; verified with the secret, refused without it.
    address = reply_address("support@example.org", "s3cret", 4, 9, kind="r")
    claim = parse_reply_address(address, "support@example.org")
    assert claim is not None and (claim.ticket_id, claim.kind, claim.who) == (4, "r", 9)
    assert verify(claim, "s3cret") and not verify(claim, "other")
