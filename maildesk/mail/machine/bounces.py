"""Reports about our mail: RFC 3464 delivery status, RFC 5965 feedback, RFC 8098 read receipts, and
the plain-text bounces of MTAs that send no structured report (Postfix, Exim, qmail, Exchange, Domino).

Each detector returns a :class:`Finding` with the facts the pipeline needs: hard or soft, the failed
recipients, and the bare Message-ID of our mail that the report is about. Pure; never raises on odd
input (see :mod:`maildesk.mail.machine.headers`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from email.message import Message
from email.parser import HeaderParser

from maildesk.mail.machine.headers import (
    MAX_RECIPIENTS,
    MAX_TEXT,
    body_text,
    content_type,
    decoded,
    field_blocks,
    first_address,
    first_id,
    first_raw,
    first_token,
    header_value,
    header_values,
    param,
    parts,
    payload_of,
    reason_token,
    text_of,
)
from maildesk.mail.machine.senders import Sender, daemon_like
from maildesk.mail.machine.verdict import NOTHING, Finding, MailKind, RecipientStatus

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_TEXT_MSGID = re.compile(r"^[ \t>]*Message-ID:\s*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE)
# Postfix and qmail start each failed recipient's paragraph with "<addr>:".
_TEXT_RECIPIENT = re.compile(r"^\s*<([^<>\s@]+@[^<>\s]+)>:", re.MULTILINE)

_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|returned to sender|delivery (?:status|failure|failed|problem|has failed|report)"
    r"|mail delivery failed|failure notice|non[- ]?delivery|could not send message|delayed mail"
    r"|message status|unzustellbar|nicht zustellbar|zustellung fehlgeschlagen|недоставлен|не доставлен"
    r"|не вдалося доставити",
    re.IGNORECASE,
)
_BOUNCE_TEXT = re.compile(
    r"this is the mail system at host|created automatically by mail delivery software"
    r"|this is the qmail-send program|delivery to the following recipient|did not reach the following"
    r"|could not be delivered|couldn'?t be delivered|was not delivered|wasn'?t able to deliver"
    r"|unable to deliver|undeliverable|permanent (?:fatal )?errors?|user unknown|unknown user"
    r"|no such user|mailbox (?:unavailable|is full|full)|over quota|recipient address rejected"
    r"|not listed in (?:the )?domino directory|delivery has failed|not a valid (?:user|recipient|mailbox)",
    re.IGNORECASE,
)
_DELAY_TEXT = re.compile(
    r"delay|still being retried|will (?:continue to )?retry|could not send message for past"
    r"|not yet been delivered",
    re.IGNORECASE,
)
_SUCCESS_ACTIONS = frozenset({"delivered", "relayed", "expanded"})


def read_report(msg: Message) -> Finding:
    """Structural reports: RFC 3464 DSN, RFC 5965 feedback, RFC 8098 MDN."""
    report_type = param(msg, "report-type") if content_type(msg) == "multipart/report" else ""
    kinds = {content_type(p) for p in parts(msg)}
    if report_type == "delivery-status" or "message/delivery-status" in kinds:
        return _dsn(msg)
    if report_type == "feedback-report" or "message/feedback-report" in kinds:
        return _feedback(msg)
    if report_type == "disposition-notification" or "message/disposition-notification" in kinds:
        return _mdn(msg)
    if report_type:  # some other report (TLS-RPT, a vendor's): still a machine speaking
        return Finding(MailKind.AUTO_REPLY, (f"report:{reason_token(report_type)}",))
    return NOTHING


def _dsn(msg: Message) -> Finding:
    statuses = [
        s
        for p in parts(msg)
        if content_type(p) == "message/delivery-status"
        for s in _recipient_statuses(p)
    ][:MAX_RECIPIENTS]
    reasons = ["report:delivery-status", *_dsn_reasons(statuses)]
    unsuccessful = [s for s in statuses if s.action not in _SUCCESS_ACTIONS]
    failed = tuple(dict.fromkeys(s.address for s in unsuccessful if s.address))
    hard = _overall_hard(s.hard for s in unsuccessful)
    if not statuses:  # a report with no readable recipient block: fall back to its text
        hard, text_reasons = _text_hardness(msg)
        reasons.extend(text_reasons)
        failed = _heuristic_recipients(",".join(header_values(msg, "X-Failed-Recipients")), body_text(msg))
    return Finding(MailKind.BOUNCE, tuple(reasons), hard, failed, _returned_message_id(msg), tuple(statuses))


def _recipient_statuses(part: Message) -> Iterator[RecipientStatus]:
    for block in field_blocks(part):
        recipient = header_value(block, "Final-Recipient") or header_value(block, "Original-Recipient")
        if not recipient:
            continue  # the per-message block (Reporting-MTA, Arrival-Date)
        address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
        action = first_token(header_value(block, "Action"))
        code = _STATUS.search(header_value(block, "Status") or header_value(block, "Diagnostic-Code"))
        status = code.group(0) if code else ""
        yield RecipientStatus(address, action, status, _hardness(action, status))


def _hardness(action: str, status: str) -> bool | None:
    if action == "delayed":
        return False  # the MTA is still trying: never block an address for that
    if status.startswith("5"):
        return True
    if status.startswith("4"):
        return False
    return True if action == "failed" else None


def _overall_hard(flags: Iterable[bool | None]) -> bool | None:
    known = [f for f in flags if f is not None]
    if not known:
        return None
    return any(known)


def _dsn_reasons(statuses: Iterable[RecipientStatus]) -> list[str]:
    reasons = []
    for s in statuses:
        if s.status:
            reasons.append(f"dsn:{s.status}")
        if s.action in ("delayed", "failed") and (s.action == "delayed" or not s.status):
            reasons.append(f"dsn:{s.action}")
    return reasons


def _feedback(msg: Message) -> Finding:
    reasons = ["report:feedback-report"]
    for part in parts(msg):
        if content_type(part) == "message/feedback-report":
            for block in field_blocks(part)[:1]:
                feedback_type = first_token(header_value(block, "Feedback-Type"))
                if feedback_type:
                    reasons.append(f"feedback-type:{reason_token(feedback_type)}")
    return Finding(MailKind.FEEDBACK, tuple(reasons), original=_returned_message_id(msg))


def _mdn(msg: Message) -> Finding:
    reasons, original = ["report:disposition-notification"], None
    for part in parts(msg):
        if content_type(part) == "message/disposition-notification":
            for block in field_blocks(part)[:1]:
                disposition = header_value(block, "Disposition").rpartition(";")[2]
                if first_token(disposition):
                    reasons.append(f"mdn:{reason_token(first_token(disposition))}")
                original = original or first_id(header_value(block, "Original-Message-ID"))
    return Finding(MailKind.READ_RECEIPT, tuple(reasons), original=original or _returned_message_id(msg))


def _returned_message_id(msg: Message) -> str | None:
    """Message-ID of the mail a report is about: from the returned message or headers, else the text."""
    for part in parts(msg):
        ctype = content_type(part)
        if ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            found = first_id(header_value(_returned_headers(part), "Message-ID"))
            if found:
                return found
    inline = _TEXT_MSGID.search(_body_texts(msg))
    if inline:
        return inline.group(1)
    return first_id(header_value(msg, "In-Reply-To"))


def _returned_headers(part: Message) -> Message:
    payload = payload_of(part)
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    text = payload if isinstance(payload, str) else text_of(part)
    try:
        return HeaderParser().parsestr(text[:MAX_TEXT])
    except Exception:
        return Message()


def _body_texts(msg: Message) -> str:
    """All plain text of the report itself (not attached messages), for returned headers pasted inline."""
    texts = [text_of(p) for p in parts(msg) if content_type(p) in ("text/plain", "text/rfc822-headers")]
    return "\n".join(texts)[: MAX_TEXT * 2]


def bounce_heuristic(msg: Message, sender: Sender) -> Finding:
    """A bounce without RFC 3464 structure, recognised by sender and wording."""
    failed_header = ",".join(header_values(msg, "X-Failed-Recipients"))
    subject_hit = bool(_BOUNCE_SUBJECT.search(decoded(first_raw(msg, "Subject"))))
    body = body_text(msg) if (daemon_like(sender) or failed_header) else ""
    body_hit = bool(_BOUNCE_TEXT.search(body))
    evidence = [
        r
        for r, hit in (
            ("x-failed-recipients", failed_header),
            ("bounce:subject", subject_hit),
            ("bounce:text", body_hit),
        )
        if hit
    ]
    believable = daemon_like(sender) or (failed_header and (subject_hit or body_hit))
    if not evidence or not believable:
        return NOTHING
    hard, hard_reasons = _text_hardness(msg, body)
    recipients = _heuristic_recipients(failed_header, body)
    return Finding(
        MailKind.BOUNCE,
        ("bounce:heuristic", *evidence, *hard_reasons),
        hard,
        recipients,
        _returned_message_id(msg),
    )


def _text_hardness(msg: Message, body: str | None = None) -> tuple[bool | None, list[str]]:
    """Hard/soft from status codes in the text of a bounce, or from delay wording."""
    text = body_text(msg) if body is None else body
    codes = list(dict.fromkeys(m.group(0) for m in _STATUS.finditer(text)))[:5]
    if codes:
        return any(c.startswith("5") for c in codes), [f"bounce-text:{c}" for c in codes]
    subject = decoded(first_raw(msg, "Subject"))
    if _DELAY_TEXT.search(subject) or _DELAY_TEXT.search(text[:2000]):
        return False, ["bounce:delayed"]
    return None, []


def _heuristic_recipients(failed_header: str, body: str) -> tuple[str, ...]:
    found = [first_address(a)[1] for a in failed_header.split(",")]
    found += [m.group(1).lower() for m in _TEXT_RECIPIENT.finditer(body)]
    return tuple(dict.fromkeys(a for a in found if a))[:MAX_RECIPIENTS]
