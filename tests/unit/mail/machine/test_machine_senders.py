"""Robot senders: daemon, no-reply, root/abuse and list-robot addresses in From: and the reverse-path."""

from __future__ import annotations

import pytest
from machine_samples import AUTO, HUMAN, LIST, OWN, mail

from maildesk.mail.machine import MailKind, classify
from maildesk.mail.machine.senders import daemon_like, sender_of

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



@pytest.mark.parametrize(
    ("headers", "mail_from", "path", "source"),
    [
        pytest.param([], "<Bob@Customer.test>", "bob@customer.test", "envelope", id="envelope-lowercased"),
        pytest.param([], "<>", "", "envelope", id="null-envelope"),
        pytest.param(["Return-Path: <>"], None, "", "return-path", id="null-return-path"),
        pytest.param(["Return-Path: (unknown)"], None, None, "return-path", id="garbled-return-path-is-unknown"),
        pytest.param([], None, None, "return-path", id="no-envelope-no-return-path"),
    ],
)
def test_reverse_path_read(headers: list[str], mail_from: str | None, path: str | None, source: str) -> None:
    # Scenario: the reverse-path comes from the envelope, else Return-Path; garbage is unknown, not null.
    sender = sender_of(mail(*headers), mail_from)
    assert (sender.reverse_path, sender.path_source) == (path, source)


@pytest.mark.parametrize(
    ("sender", "mail_from", "daemon"),
    [
        pytest.param("Mail Delivery Subsystem <bounce@mx.test>", "bounce@mx.test", True, id="daemon-display-name"),
        pytest.param("postmaster@mx.test", "postmaster@mx.test", True, id="postmaster"),
        pytest.param("alice@customer.test", "", True, id="null-reverse-path"),
        pytest.param("", "bounce@mx.test", True, id="empty-from"),
        pytest.param("noreply@shop.test", "noreply@shop.test", False, id="no-reply-is-not-an-mta"),
        pytest.param("alice@customer.test", "alice@customer.test", False, id="person"),
    ],
)
def test_daemon_like(sender: str, mail_from: str, daemon: bool) -> None:
    # Scenario: only an MTA-looking sender makes the text of a plain bounce believable.
    assert daemon_like(sender_of(mail(sender=sender), mail_from)) is daemon
