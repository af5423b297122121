"""Reports about our mail: RFC 3464 delivery status, plain-text bounces, RFC 5965 feedback, RFC 8098 receipts."""

from __future__ import annotations

from email.message import Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from machine_samples import BOUNCE, FEEDBACK, HUMAN, OWN, OWN_KIND, RECEIPT, mail, reparse

from maildesk.mail.machine import LOOP_HEADER, classify

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
    # Scenario: a 5.1.1 DSN for our acknowledgement is a hard bounce, linked to the ack's Message-ID.
    verdict = classify(dsn(rcpt("bob@customer.test", "failed", "5.1.1")), "", OWN)
    assert verdict.kind is BOUNCE
    assert verdict.hard_bounce is True
    assert verdict.bounced_recipients == ("bob@customer.test",)
    # The returned copy carries our loop header and Message-ID: the report is still a BOUNCE, linked back.
    assert verdict.original_message_id == "md.ack42@md.example.org"
    assert verdict.reasons[:2] == ("report:delivery-status", "dsn:5.1.1")
    assert "null-reverse-path" in verdict.reasons


def test_soft_dsn() -> None:
    # Scenario: a failed recipient with a 4.x.x status is a soft bounce.
    verdict = classify(dsn(rcpt("bob@customer.test", "failed", "4.2.2")), "", OWN)
    assert (verdict.kind, verdict.hard_bounce) == (BOUNCE, False)
    assert "dsn:4.2.2" in verdict.reasons


def test_delayed_dsn_is_soft_even_with_5xx_status() -> None:
    # Scenario: a 'delayed' action is soft: the MTA is still trying.
    verdict = classify(dsn(rcpt("bob@customer.test", "Delayed", "4.4.7")), None, OWN)
    assert (verdict.kind, verdict.hard_bounce) == (BOUNCE, False)
    assert {"dsn:4.4.7", "dsn:delayed"} <= set(verdict.reasons)


def test_mixed_dsn_reports_each_recipient() -> None:
    # Scenario: failed, delayed and delivered recipients are reported one by one; delivered ones do not bounce.
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
    # Scenario: a DSN returning only our headers (text/rfc822-headers) still links our Message-ID.
    verdict = classify(dsn(rcpt("bob@customer.test", "failed", "5.2.2"), returned="headers"), "", OWN)
    assert verdict.original_message_id == "md.ack42@md.example.org"


def test_dsn_written_by_our_own_mta_is_still_a_bounce() -> None:
    # Our MTA may stamp the bounce with our Message-ID domain; the report must win over OWN.
    msg = dsn(rcpt("bob@customer.test", "failed", "5.1.1"), message_id="<b1@md.example.org>")
    assert classify(msg, "", OWN).kind is BOUNCE


def test_dsn_carrying_our_loop_header_on_top_is_own() -> None:
    # Scenario: our loop header on the report itself beats the report: it is our own mail.
    msg = dsn(rcpt("bob@customer.test", "failed", "5.1.1"))
    msg[LOOP_HEADER] = "md-7f3a"
    assert classify(msg, "", OWN).kind is OWN_KIND


def test_forwarded_dsn_inside_a_human_mail_is_human() -> None:
    # Scenario: a person forwarding a bounce as an attachment is still a person.
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
    # Scenario: Postfix, qmail and Exim bounces without RFC 3464 structure, recognised by sender and wording.
    verdict = classify(mail(*extra, sender=sender, subject=subject, body=body), "", OWN)
    assert verdict.kind is BOUNCE
    assert "bounce:heuristic" in verdict.reasons
    assert verdict.hard_bounce is hard
    assert recipient in verdict.bounced_recipients


def test_plain_text_bounce_links_our_message() -> None:
    # Scenario: a plain-text bounce quoting our headers links back to our Message-ID.
    msg = mail(sender="MAILER-DAEMON@mx.customer.test", subject="Undelivered Mail", body=POSTFIX_TEXT)
    assert classify(msg, "", OWN).original_message_id == "md.ack42@md.example.org"


def test_bounce_wording_from_a_person_is_not_a_bounce() -> None:
    # Scenario: bounce-like words from an ordinary sender are not evidence enough.
    msg = mail(subject="Delivery failure of our order", body="The courier says it could not be delivered.\n")
    assert classify(msg, "alice@customer.test", OWN).kind is HUMAN


def test_bounce_beats_auto_submitted() -> None:
    # Scenario: a DSN that also says Auto-Submitted is a BOUNCE, with both reasons kept.
    msg = dsn(rcpt("bob@customer.test", "failed", "5.1.1"))
    verdict = classify(msg, "", OWN)
    assert verdict.kind is BOUNCE
    assert "auto-submitted:auto-replied" in verdict.reasons


# --- feedback reports and read receipts -----------------------------------------------------------------


def test_feedback_report() -> None:
    # Scenario: an ARF abuse report is FEEDBACK, with its type and the reported Message-ID.
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
    # Scenario: an MDN is a READ_RECEIPT, with its disposition and Original-Message-ID.
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

