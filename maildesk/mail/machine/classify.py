"""Is this mail from a person or from a machine? One pure verdict per inbound message.

``classify(msg, mail_from, own)`` looks at a stdlib ``compat32`` message (as mail-parser hands it over)
and the SMTP reverse-path, and returns a :class:`Verdict`: a :class:`MailKind`, short machine-readable
``reasons`` (``"auto-submitted:auto-replied"``, ``"null-reverse-path"``, ``"dsn:5.1.1"``, ``"list-id"``,
``"subject:out-of-office:de"`` ...), and for reports the facts the pipeline needs (hard/soft bounce,
failed recipients, the Message-ID of our mail that the report is about). It never raises and does no I/O.

Precedence, when several signals apply (first match wins; ``reasons`` still lists every signal seen,
the winner's first):

1. OWN by our ``X-Maildesk-Loop`` header carrying ``own.instance`` -- the one signal only we produce, so
   it beats everything: our own mail, whatever it looks like, must never become a ticket (L5).
2. BOUNCE -- ``multipart/report; report-type=delivery-status`` / a ``message/delivery-status`` part
   (RFC 3464), else a heuristic for plain-text bounces (Postfix, Exim, qmail, Exchange, Domino): a
   daemon-like sender (MAILER-DAEMON, postmaster, empty From, null reverse-path) plus bounce evidence
   (X-Failed-Recipients, a bounce subject, a bounce phrase in the text). A bounce of OUR mail is a
   BOUNCE, not OWN: the MTA that wrote it may even use our Message-ID domain, and the caller must link
   it to the outbox row (``original_message_id``) and mark the recipient failing (L2d).
3. FEEDBACK -- ``report-type=feedback-report`` (RFC 5965).
4. READ_RECEIPT -- ``report-type=disposition-notification`` (RFC 8098).
   (2-4 are decided by the report's structure first, so an ARF or MDN from a null reverse-path is not
   mistaken for a heuristic bounce.)
5. OWN by Message-ID domain ``own.message_id_domain`` or From: one of ``own.addresses`` -- above
   AUTO_REPLY because our acknowledgements carry ``Auto-Submitted: auto-replied`` themselves.
6. AUTO_REPLY -- RFC 3834 ``Auto-Submitted`` with any value but ``no`` (case-insensitive, comments and
   parameters ignored; an empty or broken value counts as automatic, as RFC 3834 §2 only exempts
   ``no``), ``X-Auto-Response-Suppress: All|OOF|AutoReply``, ``X-Autoreply``, ``X-Autorespond``,
   ``Precedence: auto_reply``, ``X-Loop``, a null reverse-path, senders MAILER-DAEMON / postmaster /
   no-reply (From: or reverse-path) and root / abuse (From: only: an envelope from root@ is a local
   ``.forward`` re-sending someone's mail) -- RELIABILITY.md C, "No-reply address pattern".
7. LIST -- ``Precedence: bulk|junk|list``, ``List-Id`` and the RFC 2369 ``List-*`` fields, list robots
   (``owner-*``, ``*-request``, ``*-bounces``, LISTSERV, majordomo).
8. Weak subject signal -- see below.

Weak-signal policy (out-of-office subjects in en/uk/ru/de): a subject alone never makes mail
AUTO_REPLY; it needs one more weak hint: an ``Auto:`` subject prefix, or the message being a reply
(``In-Reply-To``/``References`` present) while its subject carries no ``Re:``-style prefix -- which is
how RFC 3834 §3.1.5-3.1.6 responders answer. A subject that starts with ``Re:``/``AW:``/``Fwd:`` is a
person talking about an absence and is ignored. Why so strict: in RELIABILITY.md the cost of a miss is
one acknowledgement, already bounded by the per-sender caps (C: 1 per sender and ticket, <= 10 per
3 h) and by the responder's own once-per-days rule (RFC 3834 §2, RFC 5230 §4.1); the cost of a false
AUTO_REPLY is a person silently denied an answer -- and under L8 an agent's real reply would not be
relayed to the customer. RFC 3834 §3.1.5 itself says ``Auto:`` alone SHOULD NOT be taken as proof.
Modern responders (Exchange, Gmail, Sieve) set ``Auto-Submitted`` anyway; the subject rule is for the
old ones such as Lotus Domino's ``AUTO: X is out of the office``. A subject hint that does not decide
still appears in ``reasons`` of a HUMAN verdict, for the audit trail. Bodies are never read for this.

Message-IDs in the verdict are bare (no angle brackets), like everywhere else in maildesk. If the
classifier itself fails on some unforeseen input, the verdict is AUTO_REPLY with ``error:<Exception>``:
when in doubt we record the mail and do not answer it (RELIABILITY.md rule 5).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.message import Message

from maildesk.mail.machine.bounces import bounce_heuristic, read_report
from maildesk.mail.machine.headers import (
    decoded,
    first_id,
    first_raw,
    first_token,
    header_value,
    header_values,
    raw_headers,
    reason_token,
)
from maildesk.mail.machine.senders import Sender, null_path_reason, sender_of, sender_roles
from maildesk.mail.machine.verdict import NOTHING, Finding, MailKind, OwnIdentity, Verdict

LOOP_HEADER = "X-Maildesk-Loop"  # must match maildesk.mail.compose.LOOP_HEADER

_MAX_REASONS = 24

# A person answering or forwarding (en, de, nordic, uk, ru): they talk about an absence, they are not one.
_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|aw|fw|fwd|wg|sv|vs|antw|ответ|отв|відп|пересл)\s*(?:\[\d+\]|\(\d+\))?\s*:", re.IGNORECASE
)
_AUTO_PREFIX = re.compile(r"^\s*\[?\s*auto\s*:", re.IGNORECASE)
_OOO_SUBJECT: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "en",
        re.compile(
            r"out of (?:the )?office|automatic reply|auto[- ]?reply|auto(?:matic)?[- ]response"
            r"|vacation (?:reply|response|message|notice)|away from (?:the |my )?office|on vacation",
            re.IGNORECASE,
        ),
    ),
    (
        "de",
        re.compile(
            r"abwesenheit|automatische antwort|au(?:ß|ss)er haus|nicht im büro|au(?:ß|ss)er dienst"
            r"|im urlaub",
            re.IGNORECASE,
        ),
    ),
    (
        "uk",
        re.compile(
            r"автовідповідь|автоматична відповідь|поза офісом|не в офісі|відсутн|у відпустці", re.IGNORECASE
        ),
    ),
    (
        "ru",
        re.compile(
            r"автоответ|автоматический ответ|вне офиса|нет на месте|отсутств|в отпуске", re.IGNORECASE
        ),
    ),
)

_NOT_SUPPRESSING = frozenset({"no", "false", "0", "none", "off"})
_SUPPRESS_VALUES = frozenset({"all", "oof", "autoreply"})
_LIST_PRECEDENCE = frozenset({"bulk", "junk", "list"})
_LIST_HEADERS = (
    "List-Id",
    "List-Unsubscribe",
    "List-Post",
    "List-Help",
    "List-Subscribe",
    "List-Owner",
    "List-Archive",
)


# --- detectors, in precedence order (reports and bounces: maildesk.mail.machine.bounces) ----------------


def _own_loop(msg: Message, own: OwnIdentity) -> Finding:
    instance = own.instance.strip().casefold()
    if instance and any(v.strip().casefold() == instance for v in header_values(msg, LOOP_HEADER)):
        return Finding(MailKind.OWN, ("own:loop-header",), original=first_id(header_value(msg, "Message-ID")))
    return NOTHING


def _own_identity(msg: Message, sender: Sender, own: OwnIdentity) -> Finding:
    reasons = []
    domain = own.message_id_domain.strip().lower()
    message_id = first_id(header_value(msg, "Message-ID"))
    if domain and message_id and message_id.rpartition("@")[2].lower() == domain:
        reasons.append("own:message-id-domain")
    if sender.from_addr and sender.from_addr in own.addresses:
        reasons.append("own:from-address")
    return Finding(MailKind.OWN, tuple(reasons), original=message_id) if reasons else NOTHING


def _auto_reply(msg: Message, sender: Sender) -> Finding:
    reasons = _auto_submitted(msg) + _vendor_auto(msg)
    null_path = null_path_reason(sender)
    if null_path:
        reasons.append(null_path)
    reasons += [f"{where}:{role}" for where, role in sender_roles(sender) if role != "list-robot"]
    deciding = [r for r in reasons if r != "auto-submitted:no"]
    kind = MailKind.AUTO_REPLY if deciding else None
    return Finding(kind, tuple(reasons), original=first_id(header_value(msg, "In-Reply-To")))


def _auto_submitted(msg: Message) -> list[str]:
    reasons = []
    for value in header_values(msg, "Auto-Submitted"):  # RFC 3834 allows one; any non-"no" copy wins
        token = first_token(value)
        reasons.append(f"auto-submitted:{reason_token(token) if token else 'empty'}")
    return reasons


def _vendor_auto(msg: Message) -> list[str]:
    reasons = []
    suppress = {
        first_token(v) for value in header_values(msg, "X-Auto-Response-Suppress") for v in value.split(",")
    }
    reasons += [f"x-auto-response-suppress:{v}" for v in sorted(suppress & _SUPPRESS_VALUES)]
    for name in ("X-Autoreply", "X-Autorespond"):
        if any(first_token(v) not in _NOT_SUPPRESSING for v in header_values(msg, name)):
            reasons.append(name.lower())
    if any(first_token(v).replace("-", "_") == "auto_reply" for v in header_values(msg, "Precedence")):
        reasons.append("precedence:auto_reply")
    # X-Loop is the procmail/Zammad-style loop marker: some robot already handled this mail.
    if header_values(msg, "X-Loop"):
        reasons.append("x-loop")
    return reasons


def _list(msg: Message, sender: Sender) -> Finding:
    reasons = [
        f"precedence:{t}"
        for t in dict.fromkeys(first_token(v) for v in header_values(msg, "Precedence"))
        if t in _LIST_PRECEDENCE
    ]
    reasons += [name.lower() for name in _LIST_HEADERS if raw_headers(msg, name)]
    reasons += [f"{where}:{role}" for where, role in sender_roles(sender) if role == "list-robot"]
    return Finding(MailKind.LIST, tuple(reasons)) if reasons else NOTHING


def _weak_subject(msg: Message) -> Finding:
    subject = decoded(first_raw(msg, "Subject"))
    if not subject or _REPLY_PREFIX.match(subject):
        return NOTHING
    langs = [lang for lang, pattern in _OOO_SUBJECT if pattern.search(subject)]
    if not langs:
        return NOTHING
    reasons = [f"subject:out-of-office:{lang}" for lang in langs]
    if _AUTO_PREFIX.match(subject):
        reasons.append("subject:auto-prefix")
    elif header_value(msg, "In-Reply-To") or header_value(msg, "References"):
        reasons.append("subject:unprefixed-reply")
    kind = MailKind.AUTO_REPLY if len(reasons) > len(langs) else None
    return Finding(kind, tuple(reasons), original=first_id(header_value(msg, "In-Reply-To")))


# --- the verdict ----------------------------------------------------------------------------------------


def classify(msg: Message, mail_from: str | None, own: OwnIdentity) -> Verdict:
    """Decide whether `msg` comes from a person or a machine; `mail_from` "" is the null reverse-path."""
    try:
        return _classify(msg, mail_from, own)
    except Exception as exc:  # never crash ingestion; record the mail but do not answer it
        return Verdict(MailKind.AUTO_REPLY, (f"error:{type(exc).__name__}",))


def _classify(msg: Message, mail_from: str | None, own: OwnIdentity) -> Verdict:
    sender = sender_of(msg, mail_from)
    report = read_report(msg)
    findings = [
        _own_loop(msg, own),
        report,
        NOTHING if report.kind else bounce_heuristic(msg, sender),
        _own_identity(msg, sender, own),
        _auto_reply(msg, sender),
        _list(msg, sender),
        _weak_subject(msg),
    ]
    winner = next((f for f in findings if f.kind is not None), None)
    reasons = _merge_reasons([winner, *findings] if winner else findings)
    if winner is None or winner.kind is None:
        return Verdict(MailKind.HUMAN, reasons)
    if winner.kind is not MailKind.BOUNCE:
        return Verdict(winner.kind, reasons, original_message_id=winner.original)
    return Verdict(MailKind.BOUNCE, reasons, winner.hard, winner.recipients, winner.original, winner.delivery)


def _merge_reasons(findings: Iterable[Finding]) -> tuple[str, ...]:
    merged = dict.fromkeys(r for f in findings for r in f.reasons)
    return tuple(merged)[:_MAX_REASONS]
