"""Person or machine: table-driven checks of maildesk.mail.machine over hand-written headers."""

from __future__ import annotations

import email
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maildesk.mail.machine import LOOP_HEADER, MailKind, OwnIdentity, Verdict, classify

OWN = OwnIdentity(
    instance="md-7f3a",
    addresses=frozenset({"support@example.org", "billing@example.org"}),
    message_id_domain="md.example.org",
)

HUMAN, AUTO, BOUNCE, LIST = MailKind.HUMAN, MailKind.AUTO_REPLY, MailKind.BOUNCE, MailKind.LIST
OWN_KIND, FEEDBACK, RECEIPT = MailKind.OWN, MailKind.FEEDBACK, MailKind.READ_RECEIPT


def mail(
    *extra: str,
    sender: str = "Alice Example <alice@customer.test>",
    subject: str = "Printer on floor 3 is broken",
    message_id: str = "<a1.2026@customer.test>",
    body: str = "Hello, the printer jams on every page.\n",
) -> Message:
    """A compat32-parsed message, exactly as mail-parser hands it over."""
    lines = [f"From: {sender}", "To: support@example.org", f"Subject: {subject}", f"Message-ID: {message_id}"]
    raw = "\r\n".join([*lines, *extra, "", body])
    return email.message_from_bytes(raw.encode("utf-8"))


def reparse(msg: Message) -> Message:
    """Serialize a built message and parse it back with the default compat32 policy."""
    return email.message_from_bytes(msg.as_bytes())


# --- header-only signals ---------------------------------------------------------------------------------

HEADER_CASES = [
    # RFC 3834: every value but "no" is automatic; case, comments, parameters and folding tolerated.
    ("as-replied", ["Auto-Submitted: auto-replied"], AUTO, "auto-submitted:auto-replied"),
    ("as-generated", ["Auto-Submitted: auto-generated"], AUTO, "auto-submitted:auto-generated"),
    ("as-notified", ["Auto-Submitted: auto-notified"], AUTO, "auto-submitted:auto-notified"),
    ("as-upper", ["Auto-Submitted: AUTO-GENERATED"], AUTO, "auto-submitted:auto-generated"),
    ("as-comment", ["Auto-Submitted: Auto-Replied (vacation)"], AUTO, "auto-submitted:auto-replied"),
    ("as-lead-comment", ["Auto-Submitted: (robot) auto-replied"], AUTO, "auto-submitted:auto-replied"),
    (
        "as-param",
        ['Auto-Submitted: auto-generated; owner-email="x@y"'],
        AUTO,
        "auto-submitted:auto-generated",
    ),
    (
        "as-param-comment",
        ["Auto-Submitted: auto-replied; x=1 (comment)"],
        AUTO,
        "auto-submitted:auto-replied",
    ),
    ("as-folded", ["Auto-Submitted:\r\n\tauto-replied"], AUTO, "auto-submitted:auto-replied"),
    ("as-custom", ["Auto-Submitted: x-custom"], AUTO, "auto-submitted:x-custom"),
    ("as-empty", ["Auto-Submitted: "], AUTO, "auto-submitted:empty"),
    ("as-name-case", ["auto-submitted: auto-replied"], AUTO, "auto-submitted:auto-replied"),
    ("as-dup", ["Auto-Submitted: no", "Auto-Submitted: auto-replied"], AUTO, "auto-submitted:auto-replied"),
    ("as-no", ["Auto-Submitted: no"], HUMAN, "auto-submitted:no"),
    ("as-no-comment", ["Auto-Submitted: No (comment)"], HUMAN, "auto-submitted:no"),
    ("as-no-upper-param", ["Auto-Submitted: NO; reason=x"], HUMAN, "auto-submitted:no"),
    # Vendor headers.
    ("xars-all", ["X-Auto-Response-Suppress: All"], AUTO, "x-auto-response-suppress:all"),
    ("xars-oof", ["X-Auto-Response-Suppress: DR, OOF"], AUTO, "x-auto-response-suppress:oof"),
    ("xars-autoreply", ["X-Auto-Response-Suppress: AutoReply"], AUTO, "x-auto-response-suppress:autoreply"),
    ("xars-receipts-only", ["X-Auto-Response-Suppress: RN, NRN"], HUMAN, None),
    ("x-autoreply", ["X-Autoreply: yes"], AUTO, "x-autoreply"),
    ("x-autoreply-case", ["x-AUTOREPLY: True"], AUTO, "x-autoreply"),
    ("x-autoreply-no", ["X-Autoreply: no"], HUMAN, None),
    ("x-autorespond", ["X-Autorespond: Thanks, we got it"], AUTO, "x-autorespond"),
    ("x-loop", ["X-Loop: helpdesk@other.test"], AUTO, "x-loop"),
    ("prec-auto-reply", ["Precedence: auto_reply"], AUTO, "precedence:auto_reply"),
    # Precedence and list headers.
    ("prec-bulk", ["Precedence: bulk"], LIST, "precedence:bulk"),
    ("prec-junk", ["Precedence: junk"], LIST, "precedence:junk"),
    ("prec-list", ["Precedence: list"], LIST, "precedence:list"),
    ("prec-upper-comment", ["Precedence: BULK (newsletter)"], LIST, "precedence:bulk"),
    ("prec-first-class", ["Precedence: first-class"], HUMAN, None),
    ("list-id", ["List-Id: Printers <printers.lists.customer.test>"], LIST, "list-id"),
    ("list-unsub", ["List-Unsubscribe: <mailto:leave@lists.customer.test>"], LIST, "list-unsubscribe"),
    ("list-post", ["List-Post: <mailto:printers@lists.customer.test>"], LIST, "list-post"),
    # Our own loop header: only our instance counts.
    ("own-loop", [f"{LOOP_HEADER}: md-7f3a"], OWN_KIND, "own:loop-header"),
    ("own-loop-case", ["x-maildesk-loop:  MD-7F3A "], OWN_KIND, "own:loop-header"),
    ("foreign-loop", [f"{LOOP_HEADER}: other-desk"], HUMAN, None),
    (
        "own-beats-auto",
        [f"{LOOP_HEADER}: md-7f3a", "Auto-Submitted: auto-replied"],
        OWN_KIND,
        "own:loop-header",
    ),
    # Precedence between kinds.
    ("auto-beats-list", ["Auto-Submitted: auto-generated", "Precedence: bulk"], AUTO, "precedence:bulk"),
]


@pytest.mark.parametrize(
    ("headers", "expected", "reason"), [c[1:] for c in HEADER_CASES], ids=[c[0] for c in HEADER_CASES]
)
def test_header_signals(headers: list[str], expected: MailKind, reason: str | None) -> None:
    verdict = classify(mail(*headers), "alice@customer.test", OWN)
    assert verdict.kind is expected, verdict.reasons
    assert verdict.machine is (expected is not HUMAN)
    if reason is not None:
        assert reason in verdict.reasons
    if expected is HUMAN and reason is None:
        assert verdict.reasons == ()


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
    verdict = classify(mail(*headers), mail_from, OWN)
    assert verdict.kind is expected, verdict.reasons
    if reason:
        assert reason in verdict.reasons


OWN_CASES = [
    ("own-message-id", {"message_id": "<md.abc123@md.example.org>"}, "own:message-id-domain"),
    ("own-message-id-case", {"message_id": "<md.abc123@MD.Example.ORG>"}, "own:message-id-domain"),
    ("own-from", {"sender": "Example Support <support@example.org>"}, "own:from-address"),
    ("own-from-case", {"sender": "Billing@Example.ORG"}, "own:from-address"),
]


@pytest.mark.parametrize(("fields", "reason"), [c[1:] for c in OWN_CASES], ids=[c[0] for c in OWN_CASES])
def test_own_mail_returning(fields: dict[str, str], reason: str) -> None:
    verdict = classify(mail(**fields), None, OWN)
    assert verdict.kind is OWN_KIND
    assert reason in verdict.reasons


def test_own_ack_coming_back_is_own_not_auto_reply() -> None:
    # Our acknowledgements carry Auto-Submitted themselves; coming back they are a loop, not a robot.
    msg = mail("Auto-Submitted: auto-replied", message_id="<md.ack1@md.example.org>")
    verdict = classify(msg, None, OWN)
    assert verdict.kind is OWN_KIND
    assert verdict.original_message_id == "md.ack1@md.example.org"


def test_subdomain_of_own_message_id_domain_is_not_own() -> None:
    assert classify(mail(message_id="<x@evil.md.example.org.test>"), None, OWN).kind is HUMAN


def test_empty_identity_never_matches() -> None:
    nobody = OwnIdentity(instance="", addresses=frozenset(), message_id_domain="")
    assert classify(mail(f"{LOOP_HEADER}: ", message_id="<x@>"), None, nobody).kind is HUMAN


# --- delivery status notifications ---------------------------------------------------------------------


def our_ack() -> Message:
    ack = MIMEText("We received your request [#42].\n")
    ack["From"] = "support@example.org"
    ack["To"] = "bob@customer.test"
    ack["Subject"] = "[#42] We received your request"
    ack["Message-ID"] = "<md.ack42@md.example.org>"
    ack["Auto-Submitted"] = "auto-replied"
    ack[LOOP_HEADER] = "md-7f3a"
    return ack


def fields(**values: str) -> Message:
    block = Message()
    for name, value in values.items():
        block[name.replace("_", "-")] = value
    return block


def dsn(
    *recipients: Message, returned: str = "message", message_id: str = "<x1@mx.customer.test>"
) -> Message:
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.customer.test>"
    report["To"] = "support@example.org"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = message_id
    report["Auto-Submitted"] = "auto-replied"
    report.attach(MIMEText("I'm sorry to have to inform you that your message could not be delivered.\n"))
    status = MIMEBase("message", "delivery-status")
    status.set_payload([fields(Reporting_MTA="dns; mx.customer.test"), *recipients])
    report.attach(status)
    if returned == "message":
        report.attach(MIMEMessage(our_ack()))
    elif returned == "headers":
        headers = "".join(f"{k}: {v}\n" for k, v in our_ack().items())
        report.attach(MIMEText(headers, "rfc822-headers"))
    return reparse(report)


def rcpt(address: str, action: str, status: str) -> Message:
    return fields(Final_Recipient=f"rfc822; {address}", Action=action, Status=status)


def test_hard_dsn_for_our_ack() -> None:
    verdict = classify(dsn(rcpt("bob@customer.test", "failed", "5.1.1")), "", OWN)
    assert verdict.kind is BOUNCE
    assert verdict.hard_bounce is True
    assert verdict.bounced_recipients == ("bob@customer.test",)
    # The returned copy carries our loop header and Message-ID: the report is still a BOUNCE, linked back.
    assert verdict.original_message_id == "md.ack42@md.example.org"
    assert verdict.reasons[:2] == ("report:delivery-status", "dsn:5.1.1")
    assert "null-reverse-path" in verdict.reasons


def test_soft_dsn() -> None:
    verdict = classify(dsn(rcpt("bob@customer.test", "failed", "4.2.2")), "", OWN)
    assert (verdict.kind, verdict.hard_bounce) == (BOUNCE, False)
    assert "dsn:4.2.2" in verdict.reasons


def test_delayed_dsn_is_soft_even_with_5xx_status() -> None:
    verdict = classify(dsn(rcpt("bob@customer.test", "Delayed", "4.4.7")), None, OWN)
    assert (verdict.kind, verdict.hard_bounce) == (BOUNCE, False)
    assert {"dsn:4.4.7", "dsn:delayed"} <= set(verdict.reasons)


def test_mixed_dsn_reports_each_recipient() -> None:
    msg = dsn(
        rcpt("bob@customer.test", "failed", "5.1.1"),
        rcpt("carol@customer.test", "delayed", "4.2.2"),
        rcpt("dave@customer.test", "delivered", "2.0.0"),
    )
    verdict = classify(msg, "", OWN)
    assert verdict.hard_bounce is True
    assert verdict.bounced_recipients == ("bob@customer.test", "carol@customer.test")
    assert [(d.address, d.hard) for d in verdict.delivery] == [
        ("bob@customer.test", True),
        ("carol@customer.test", False),
        ("dave@customer.test", None),
    ]


def test_dsn_with_returned_headers_only() -> None:
    verdict = classify(dsn(rcpt("bob@customer.test", "failed", "5.2.2"), returned="headers"), "", OWN)
    assert verdict.original_message_id == "md.ack42@md.example.org"


def test_dsn_written_by_our_own_mta_is_still_a_bounce() -> None:
    # Our MTA may stamp the bounce with our Message-ID domain; the report must win over OWN.
    msg = dsn(rcpt("bob@customer.test", "failed", "5.1.1"), message_id="<b1@md.example.org>")
    assert classify(msg, "", OWN).kind is BOUNCE


def test_dsn_carrying_our_loop_header_on_top_is_own() -> None:
    msg = dsn(rcpt("bob@customer.test", "failed", "5.1.1"))
    msg[LOOP_HEADER] = "md-7f3a"
    assert classify(msg, "", OWN).kind is OWN_KIND


def test_forwarded_dsn_inside_a_human_mail_is_human() -> None:
    outer = MIMEMultipart()
    for name, value in (("From", "alice@customer.test"), ("Subject", "Fwd: why did this bounce?")):
        outer[name] = value
    outer.attach(MIMEText("Can you check this bounce?\n"))
    outer.attach(MIMEMessage(dsn(rcpt("bob@customer.test", "failed", "5.1.1"))))
    assert classify(reparse(outer), "alice@customer.test", OWN).kind is HUMAN


POSTFIX_TEXT = """This is the mail system at host mx.customer.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<bob@customer.test>: host mx2.customer.test said: 550 5.1.1 <bob@customer.test>:
    Recipient address rejected: User unknown in local recipient table

------ This is a copy of the message, including all the headers. ------

From: support@example.org
Message-ID: <md.ack42@md.example.org>
Subject: [#42] We received your request
"""

QMAIL_TEXT = """Hi. This is the qmail-send program at mx.customer.test.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<carol@customer.test>:
Sorry, no mailbox here by that name. (#5.1.1)
"""

EXIM_TEXT = """This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a temporary error. The following address(es) deferred:

  dave@customer.test
    SMTP error from remote mail server after RCPT TO:<dave@customer.test>:
    452 4.2.2 Mailbox full
"""


@pytest.mark.parametrize(
    ("sender", "subject", "extra", "body", "hard", "recipient"),
    [
        (
            "MAILER-DAEMON@mx.customer.test (Mail Delivery System)",
            "Undelivered Mail Returned to Sender",
            [],
            POSTFIX_TEXT,
            True,
            "bob@customer.test",
        ),
        ("MAILER-DAEMON@mx.customer.test", "failure notice", [], QMAIL_TEXT, True, "carol@customer.test"),
        (
            "Mail Delivery System <Mailer-Daemon@mx.customer.test>",
            "Mail delivery failed",
            ["X-Failed-Recipients: dave@customer.test"],
            EXIM_TEXT,
            False,
            "dave@customer.test",
        ),
    ],
    ids=["postfix", "qmail", "exim"],
)
def test_plain_text_bounces(
    sender: str, subject: str, extra: list[str], body: str, hard: bool, recipient: str
) -> None:
    verdict = classify(mail(*extra, sender=sender, subject=subject, body=body), "", OWN)
    assert verdict.kind is BOUNCE
    assert "bounce:heuristic" in verdict.reasons
    assert verdict.hard_bounce is hard
    assert recipient in verdict.bounced_recipients


def test_plain_text_bounce_links_our_message() -> None:
    msg = mail(sender="MAILER-DAEMON@mx.customer.test", subject="Undelivered Mail", body=POSTFIX_TEXT)
    assert classify(msg, "", OWN).original_message_id == "md.ack42@md.example.org"


def test_bounce_wording_from_a_person_is_not_a_bounce() -> None:
    msg = mail(subject="Delivery failure of our order", body="The courier says it could not be delivered.\n")
    assert classify(msg, "alice@customer.test", OWN).kind is HUMAN


def test_bounce_beats_auto_submitted() -> None:
    msg = dsn(rcpt("bob@customer.test", "failed", "5.1.1"))
    verdict = classify(msg, "", OWN)
    assert verdict.kind is BOUNCE
    assert "auto-submitted:auto-replied" in verdict.reasons


# --- feedback reports and read receipts -----------------------------------------------------------------


def test_feedback_report() -> None:
    report = MIMEMultipart("report", report_type="feedback-report")
    report["From"] = "abuse-reports@isp.test"
    report["Subject"] = "Complaint about message from 192.0.2.1"
    report.attach(MIMEText("This is an email abuse report.\n"))
    arf = MIMEBase("message", "feedback-report")
    arf.set_payload("Feedback-Type: abuse\nUser-Agent: ISP-FBL/1.0\nVersion: 1\n")
    report.attach(arf)
    report.attach(MIMEMessage(our_ack()))
    verdict = classify(reparse(report), "", OWN)
    assert verdict.kind is FEEDBACK
    assert {"report:feedback-report", "feedback-type:abuse"} <= set(verdict.reasons)
    assert verdict.original_message_id == "md.ack42@md.example.org"
    assert verdict.hard_bounce is None and verdict.bounced_recipients == ()


def test_read_receipt() -> None:
    report = MIMEMultipart("report", report_type="disposition-notification")
    report["From"] = "Bob <bob@customer.test>"
    report["Subject"] = "Read: [#42] We received your request"
    report.attach(MIMEText("Your message was displayed.\n"))
    mdn = MIMEBase("message", "disposition-notification")
    mdn.set_payload(
        "Final-Recipient: rfc822; bob@customer.test\n"
        "Original-Message-ID: <md.ack42@md.example.org>\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\n"
    )
    report.attach(mdn)
    verdict = classify(reparse(report), "", OWN)
    assert verdict.kind is RECEIPT
    assert "mdn:displayed" in verdict.reasons
    assert verdict.original_message_id == "md.ack42@md.example.org"


# --- the weak subject signal ----------------------------------------------------------------------------

REPLYING = ["In-Reply-To: <md.ack42@md.example.org>", "References: <md.ack42@md.example.org>"]

SUBJECT_CASES = [
    ("en-ooo", "Out of Office: Printer on floor 3", "en"),
    ("en-automatic", "Automatic reply: [#42] We received your request", "en"),
    ("de-abwesend", "Abwesenheitsnotiz: [#42] Ihre Anfrage", "de"),
    ("de-automatisch", "Automatische Antwort: [#42] Ihre Anfrage", "de"),
    ("uk", "=?utf-8?b?0JDQstGC0L7QstGW0LTQv9C+0LLRltC00Yw6IFsjNDJd?=", "uk"),  # "Автовідповідь: [#42]"
    ("ru", "=?utf-8?b?0JDQstGC0L7QvtGC0LLQtdGCOiBbIzQyXQ==?=", "ru"),  # "Автоответ: [#42]"
]


@pytest.mark.parametrize(
    ("subject", "lang"), [c[1:] for c in SUBJECT_CASES], ids=[c[0] for c in SUBJECT_CASES]
)
def test_ooo_subject_alone_is_only_noted(subject: str, lang: str) -> None:
    verdict = classify(mail(subject=subject), "alice@customer.test", OWN)
    assert verdict.kind is HUMAN
    assert verdict.reasons == (f"subject:out-of-office:{lang}",)


@pytest.mark.parametrize(
    ("subject", "lang"), [c[1:] for c in SUBJECT_CASES], ids=[c[0] for c in SUBJECT_CASES]
)
def test_ooo_subject_on_an_unprefixed_reply_is_auto_reply(subject: str, lang: str) -> None:
    verdict = classify(mail(*REPLYING, subject=subject), "alice@customer.test", OWN)
    assert verdict.kind is AUTO
    assert verdict.reasons == (f"subject:out-of-office:{lang}", "subject:unprefixed-reply")
    assert verdict.original_message_id == "md.ack42@md.example.org"


def test_domino_auto_prefix_plus_ooo_is_auto_reply() -> None:
    msg = mail(subject="AUTO: Smith, John is out of the office (returning 05/01/2026)")
    assert classify(msg, "john@customer.test", OWN).kind is AUTO


def test_auto_prefix_alone_is_not_enough() -> None:
    # RFC 3834 §3.1.5: "Auto:" SHOULD NOT be taken to mean the message is automated.
    assert classify(mail(subject="Auto: lease renewal for car #12"), None, OWN).kind is HUMAN


def test_person_replying_about_an_absence_is_human() -> None:
    msg = mail(*REPLYING, subject="Re: Out of office: Printer on floor 3")
    verdict = classify(msg, "alice@customer.test", OWN)
    assert (verdict.kind, verdict.reasons) == (HUMAN, ())


# --- people ---------------------------------------------------------------------------------------------


def test_plain_new_request_is_human() -> None:
    verdict = classify(mail(), "alice@customer.test", OWN)
    assert verdict == Verdict(HUMAN)
    assert not verdict.machine


def test_reply_with_re_is_human() -> None:
    msg = mail(*REPLYING, subject="Re: [#42] We received your request", body="Thanks, it works now.\n")
    verdict = classify(msg, "alice@customer.test", OWN)
    assert (verdict.kind, verdict.reasons) == (HUMAN, ())


def test_body_mentioning_out_of_office_is_human() -> None:
    body = "I was out of office last week; automatic reply was on. Is my ticket still open?\n"
    verdict = classify(mail(subject="Ticket status?", body=body), "alice@customer.test", OWN)
    assert (verdict.kind, verdict.reasons) == (HUMAN, ())


# --- odd header values ----------------------------------------------------------------------------------


def test_undecodable_8bit_headers_do_not_break_anything() -> None:
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
    msg = email.message_from_bytes(b"To: support@example.org\r\n\r\nhello\r\n")
    assert classify(msg, None, OWN).kind is HUMAN


def test_loop_header_name_matches_compose() -> None:
    compose = pytest.importorskip("maildesk.mail.compose")
    assert compose.LOOP_HEADER == LOOP_HEADER


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
    lines = [name.encode("ascii") + b": " + value for name, value in headers]
    if content_type:
        lines.append(b"Content-Type: " + content_type.encode("ascii"))
    msg = email.message_from_bytes(b"\r\n".join([*lines, b"", body]))
    verdict = classify(msg, mail_from, OWN)
    assert isinstance(verdict.kind, MailKind)
    assert not any(r.startswith("error:") for r in verdict.reasons), verdict.reasons
    assert all(isinstance(r, str) and r for r in verdict.reasons)
