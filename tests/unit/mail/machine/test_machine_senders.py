"""Robot senders: daemon, no-reply, root/abuse and list-robot addresses in From: and the reverse-path."""

from __future__ import annotations

import pytest
from machine_samples import AUTO, HUMAN, LIST, OWN, mail

from maildesk.mail.machine import MailKind, classify

SENDER_CASES = [
    ("mailer-daemon", "MAILER-DAEMON@mx.customer.test", AUTO, "from:mailer-daemon"),
    (
        "mailer-daemon-display",
        "Mail Delivery System <Mailer-Daemon@mx.customer.test>",
        AUTO,
        "from:mailer-daemon",
    ),
    ("postmaster", "postmaster@customer.test", AUTO, "from:postmaster"),
    ("noreply", "Shop <noreply@shop.test>", AUTO, "from:no-reply"),
    ("no-reply", "no-reply@shop.test", AUTO, "from:no-reply"),
    ("no-reply-tag", "no-reply+x@shop.test", AUTO, "from:no-reply"),
    ("noreply-upper", "NoReply@Shop.test", AUTO, "from:no-reply"),
    ("do-not-reply", "do-not-reply@shop.test", AUTO, "from:no-reply"),
    ("donotreply", "donotreply@shop.test", AUTO, "from:no-reply"),
    ("root", "root@server.customer.test", AUTO, "from:root"),
    ("abuse", "abuse@isp.test", AUTO, "from:abuse"),
    ("owner", "owner-printers@lists.customer.test", LIST, "from:list-robot"),
    ("request", "printers-request@lists.customer.test", LIST, "from:list-robot"),
    ("listserv", "LISTSERV@lists.customer.test", LIST, "from:list-robot"),
    ("person-named-like-no", "Nora Reply <nora.reply@customer.test>", HUMAN, None),
    ("noreplyish-word", "noreplies@customer.test", HUMAN, None),
]


@pytest.mark.parametrize(
    ("sender", "expected", "reason"), [c[1:] for c in SENDER_CASES], ids=[c[0] for c in SENDER_CASES]
)
def test_robot_senders(sender: str, expected: MailKind, reason: str | None) -> None:
    # Scenario: robot From: addresses give their role; people with similar names do not.
    verdict = classify(mail(sender=sender), None, OWN)
    assert verdict.kind is expected, verdict.reasons
    if reason:
        assert reason in verdict.reasons


ENVELOPE_CASES = [
    ("null-envelope", [], "", AUTO, "null-reverse-path"),
    ("null-envelope-brackets", [], "<>", AUTO, "null-reverse-path"),
    ("null-return-path-imap", ["Return-Path: <>"], None, AUTO, "return-path:null"),
    ("daemon-envelope", [], "MAILER-DAEMON@mx.customer.test", AUTO, "envelope:mailer-daemon"),
    ("noreply-envelope", [], "noreply@service.test", AUTO, "envelope:no-reply"),
    ("list-bounces-envelope", [], "printers-bounces@lists.customer.test", LIST, "envelope:list-robot"),
    ("postfix-daemon-return-path", ["Return-Path: <MAILER-DAEMON>"], None, AUTO, "return-path:mailer-daemon"),
    # The SMTP envelope is the truth when we have it; a Return-Path header then is somebody else's record.
    ("envelope-beats-header", ["Return-Path: <>"], "alice@customer.test", HUMAN, None),
    # A local .forward re-sends as root: that says nothing about the author.
    ("root-envelope", ["Return-Path: <root@server.customer.test>"], None, HUMAN, None),
    ("ordinary-return-path", ["Return-Path: <alice@customer.test>"], None, HUMAN, None),
]


@pytest.mark.parametrize(
    ("headers", "mail_from", "expected", "reason"),
    [c[1:] for c in ENVELOPE_CASES],
    ids=[c[0] for c in ENVELOPE_CASES],
)
def test_reverse_path(
    headers: list[str], mail_from: str | None, expected: MailKind, reason: str | None
) -> None:
    # Scenario: the envelope (else Return-Path) names robots too; root@ in the envelope does not count.
    verdict = classify(mail(*headers), mail_from, OWN)
    assert verdict.kind is expected, verdict.reasons
    if reason:
        assert reason in verdict.reasons

