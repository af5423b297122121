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

import email.utils
import enum
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.header import decode_header
from email.message import Message
from email.parser import HeaderParser

LOOP_HEADER = "X-Maildesk-Loop"  # must match maildesk.mail.compose.LOOP_HEADER

_MAX_PARTS = 200  # a report has a handful; this bounds work on hostile nesting
_MAX_TEXT = 16_384  # bounce phrases and returned headers sit at the top of the text
_MAX_REASONS = 24
_MAX_RECIPIENTS = 50

_COMMENT = re.compile(r"\([^()]*\)")
_TOKEN_CHARS = re.compile(r"[^a-z0-9._-]+")
_MSGID = re.compile(r"<([^<>\s]+)>")
_BARE_MSGID = re.compile(r"^[^<>\s@]+@[^<>\s]+$")
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_TEXT_MSGID = re.compile(r"^[ \t>]*Message-ID:\s*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE)
# Postfix and qmail start each failed recipient's paragraph with "<addr>:".
_TEXT_RECIPIENT = re.compile(r"^\s*<([^<>\s@]+@[^<>\s]+)>:", re.MULTILINE)

_DAEMON_LOCAL = re.compile(r"^(?:mailer[-_]?daemon|mail[-_]daemon)$")
_NOREPLY_LOCAL = re.compile(r"^(?:no|do[-_.]?not|dont)[-_.]?reply(?:$|[-+_.0-9])")
_LIST_ROBOT_LOCAL = re.compile(r"^(?:owner-.+|.+-(?:request|owner|bounces?)|listserv|majordomo|mailman)$")
_DAEMON_DISPLAY = re.compile(r"mail delivery (?:sub)?system|mailer[-_ ]daemon|mail administrator", re.I)

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
_SUCCESS_ACTIONS = frozenset({"delivered", "relayed", "expanded"})


class MailKind(enum.Enum):
    """What produced a message; everything but HUMAN is a machine and is never answered."""

    HUMAN = "human"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    LIST = "list"
    OWN = "own"
    FEEDBACK = "feedback"
    READ_RECEIPT = "read_receipt"


@dataclass(frozen=True)
class OwnIdentity:
    """How our own outbound mail can be recognised when it comes back."""

    instance: str  # value we put in our X-Maildesk-Loop header
    addresses: frozenset[str]  # our own support addresses, lowercased
    message_id_domain: str  # domain of the Message-IDs we generate, e.g. "md.example.org"


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient of a delivery report; ``hard`` is None when the report does not say."""

    address: str
    action: str
    status: str
    hard: bool | None


@dataclass(frozen=True)
class Verdict:
    """The classification of one message, with the evidence for it."""

    kind: MailKind
    reasons: tuple[str, ...] = ()
    hard_bounce: bool | None = None  # True if any recipient failed permanently, False if all were soft
    bounced_recipients: tuple[str, ...] = ()  # lowercased, failed or delayed
    original_message_id: str | None = None  # bare Message-ID of the mail this one reports on / answers
    delivery: tuple[RecipientStatus, ...] = field(default=())  # per-recipient detail of a DSN

    @property
    def machine(self) -> bool:
        """True for everything that must never be acknowledged."""
        return self.kind is not MailKind.HUMAN


@dataclass(frozen=True)
class _Finding:
    """What one detector saw: reasons always, a kind only if it decides."""

    kind: MailKind | None = None
    reasons: tuple[str, ...] = ()
    hard: bool | None = None
    recipients: tuple[str, ...] = ()
    original: str | None = None
    delivery: tuple[RecipientStatus, ...] = ()


@dataclass(frozen=True)
class _Sender:
    """Who sent it, as far as the headers and the envelope tell."""

    from_addr: str
    from_display: str
    from_present: bool
    reverse_path: str | None  # None: unknown; "": the null reverse-path
    path_source: str  # "envelope" or "return-path": which one gave reverse_path


_NOTHING = _Finding()


# --- safe header access -------------------------------------------------------------------------------


def _text(value: object) -> str:
    """Any header value (str, Header, None) as one unfolded line of valid text; never raises."""
    if value is None:
        return ""
    try:
        raw = value if isinstance(value, str) else str(value)
    except Exception:  # a Header with a charset Python cannot handle: treat as absent
        return ""
    # Undeclared 8-bit bytes arrive as lone surrogates; they would break re and encode() later.
    clean = raw.encode("utf-8", "replace").decode("utf-8", "replace")
    return " ".join(clean.split())


def _raw_headers(msg: Message, name: str) -> list[object]:
    try:
        return list(msg.get_all(name) or [])
    except Exception:  # a malformed part can make even header lookup fail
        return []


def _headers(msg: Message, name: str) -> list[str]:
    return [_text(v) for v in _raw_headers(msg, name)]


def _header(msg: Message, name: str) -> str:
    values = _headers(msg, name)
    return values[0] if values else ""


def _decoded(value: object) -> str:
    """A header with its RFC 2047 encoded-words decoded; unknown charsets degrade, never raise."""
    text = _text(value)
    try:
        chunks = decode_header(text)
    except Exception:
        return text
    out = []
    for chunk, charset in chunks:
        out.append(_bytes_to_text(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return _text("".join(out))


def _bytes_to_text(data: bytes, charset: str | None) -> str:
    try:
        return data.decode(charset or "utf-8", "replace")
    except (LookupError, ValueError):  # unknown-8bit, unicode-1-1-utf-7, "utf-8content-transfer..."
        return data.decode("utf-8", "replace")


def _token(value: str) -> str:
    """First token of a structured value, lowercased, comments and ``;parameters`` dropped."""
    text = value
    for _ in range(5):  # nested comments peel from the inside out
        text = _COMMENT.sub(" ", text)
    text = text.split("(", 1)[0].split(";", 1)[0].split(",", 1)[0]
    return text.strip().strip('"').lower()


def _reason_token(token: str) -> str:
    return _TOKEN_CHARS.sub("", token)[:40] or "other"


def _address(value: str) -> tuple[str, str]:
    """(display name, lowercased addr-spec) of the first address in a header value."""
    try:
        display, addr = email.utils.parseaddr(value)
    except Exception:
        return "", ""
    return _text(display), addr.strip().strip("<>").lower()


def _local_part(addr: str) -> str:
    return addr.rpartition("@")[0] if "@" in addr else addr


def _message_ids(value: str) -> list[str]:
    found = _MSGID.findall(value)
    if not found and _BARE_MSGID.match(value.strip()):
        found = [value.strip()]  # some clients drop the angle brackets
    return found


def _first_id(value: str) -> str | None:
    ids = _message_ids(value)
    return ids[0] if ids else None


# --- MIME structure -------------------------------------------------------------------------------------


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


def _param(part: Message, name: str) -> str:
    try:
        value = part.get_param(name)
    except Exception:
        return ""
    if isinstance(value, tuple):
        value = email.utils.collapse_rfc2231_value(value)
    return _token(_text(value))


def _parts(msg: Message) -> Iterator[Message]:
    """Parts in document order, without descending into attached messages (they are someone else's mail)."""
    stack: list[Message] = [msg]
    seen = 0
    while stack and seen < _MAX_PARTS:
        part = stack.pop()
        seen += 1
        yield part
        if _content_type(part).startswith("message/"):
            continue
        payload = _payload(part)
        if isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))


def _payload(part: Message) -> object:
    try:
        return part.get_payload()
    except Exception:
        return None


def _field_blocks(part: Message) -> list[Message]:
    """The header-style blocks of a message/delivery-status, /feedback-report or /disposition part."""
    payload = _payload(part)
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    if isinstance(payload, str):  # compat32 leaves some report parts as text: parse the blocks ourselves
        blocks = re.split(r"\r?\n[ \t]*\r?\n", payload.strip())
        return [HeaderParser().parsestr(block) for block in blocks[:_MAX_RECIPIENTS] if block.strip()]
    return []


def _text_of(part: Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        return ""
    if not isinstance(data, bytes):
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return _bytes_to_text(data[:_MAX_TEXT], charset)


def _body_text(msg: Message) -> str:
    """The first human-readable text part (a report's explanation), truncated."""
    for part in _parts(msg):
        if _content_type(part) in ("text/plain", "text/html"):
            return _text_of(part)
    return ""


# --- the envelope and the sender ----------------------------------------------------------------------


def _sender(msg: Message, mail_from: str | None) -> _Sender:
    from_values = _headers(msg, "From")
    display, addr = _address(from_values[0]) if from_values else ("", "")
    path: str | None
    if mail_from is not None:
        path, source = mail_from.strip().strip("<>").lower(), "envelope"
    else:
        # IMAP and pipes have no envelope; the topmost Return-Path is the delivering MTA's record of it.
        return_path = _header(msg, "Return-Path")
        path = _address(return_path)[1] if return_path else None
        if return_path and path == "" and "<" not in return_path:
            path = None  # a garbled Return-Path is not evidence of a null path
        source = "return-path"
    return _Sender(addr, display, bool(from_values), path, source)


def _robot_role(addr: str) -> str | None:
    local = _local_part(addr)
    if _DAEMON_LOCAL.match(local):
        return "mailer-daemon"
    if local in ("postmaster", "root", "abuse"):
        return local
    if _NOREPLY_LOCAL.match(local):
        return "no-reply"
    if _LIST_ROBOT_LOCAL.match(local):
        return "list-robot"
    return None


def _sender_roles(sender: _Sender) -> list[tuple[str, str]]:
    """(where, role) for each robot-looking sender address."""
    roles = []
    for where, addr in (("from", sender.from_addr), (sender.path_source, sender.reverse_path or "")):
        role = _robot_role(addr) if addr else None
        # root@ in the envelope is a local .forward or cron re-sending someone's mail: only From: counts.
        if role and not (where != "from" and role in ("root", "abuse")):
            roles.append((where, role))
    return roles


def _null_path_reason(sender: _Sender) -> str | None:
    if sender.reverse_path != "":
        return None
    return "null-reverse-path" if sender.path_source == "envelope" else "return-path:null"


def _daemon_like(sender: _Sender) -> bool:
    """Looks like an MTA speaking: what a plain-text bounce needs before its text is believed."""
    if sender.reverse_path == "" or (sender.from_present and not sender.from_addr):
        return True
    if _DAEMON_DISPLAY.search(sender.from_display):
        return True
    return any(role in ("mailer-daemon", "postmaster") for _, role in _sender_roles(sender))


# --- detectors, in precedence order ---------------------------------------------------------------------


def _own_loop(msg: Message, own: OwnIdentity) -> _Finding:
    instance = own.instance.strip().casefold()
    if instance and any(v.strip().casefold() == instance for v in _headers(msg, LOOP_HEADER)):
        return _Finding(MailKind.OWN, ("own:loop-header",), original=_first_id(_header(msg, "Message-ID")))
    return _NOTHING


def _report(msg: Message) -> _Finding:
    """Structural reports: RFC 3464 DSN, RFC 5965 feedback, RFC 8098 MDN."""
    report_type = _param(msg, "report-type") if _content_type(msg) == "multipart/report" else ""
    kinds = {_content_type(p) for p in _parts(msg)}
    if report_type == "delivery-status" or "message/delivery-status" in kinds:
        return _dsn(msg)
    if report_type == "feedback-report" or "message/feedback-report" in kinds:
        return _feedback(msg)
    if report_type == "disposition-notification" or "message/disposition-notification" in kinds:
        return _mdn(msg)
    if report_type:  # some other report (TLS-RPT, a vendor's): still a machine speaking
        return _Finding(MailKind.AUTO_REPLY, (f"report:{_reason_token(report_type)}",))
    return _NOTHING


def _dsn(msg: Message) -> _Finding:
    statuses = [
        s
        for p in _parts(msg)
        if _content_type(p) == "message/delivery-status"
        for s in _recipient_statuses(p)
    ][:_MAX_RECIPIENTS]
    reasons = ["report:delivery-status", *_dsn_reasons(statuses)]
    unsuccessful = [s for s in statuses if s.action not in _SUCCESS_ACTIONS]
    failed = tuple(dict.fromkeys(s.address for s in unsuccessful if s.address))
    hard = _overall_hard(s.hard for s in unsuccessful)
    if not statuses:  # a report with no readable recipient block: fall back to its text
        hard, text_reasons = _text_hardness(msg)
        reasons.extend(text_reasons)
        failed = _heuristic_recipients(",".join(_headers(msg, "X-Failed-Recipients")), _body_text(msg))
    return _Finding(MailKind.BOUNCE, tuple(reasons), hard, failed, _returned_message_id(msg), tuple(statuses))


def _recipient_statuses(part: Message) -> Iterator[RecipientStatus]:
    for block in _field_blocks(part):
        recipient = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
        if not recipient:
            continue  # the per-message block (Reporting-MTA, Arrival-Date)
        address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
        action = _token(_header(block, "Action"))
        code = _STATUS.search(_header(block, "Status") or _header(block, "Diagnostic-Code"))
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


def _feedback(msg: Message) -> _Finding:
    reasons = ["report:feedback-report"]
    for part in _parts(msg):
        if _content_type(part) == "message/feedback-report":
            for block in _field_blocks(part)[:1]:
                feedback_type = _token(_header(block, "Feedback-Type"))
                if feedback_type:
                    reasons.append(f"feedback-type:{_reason_token(feedback_type)}")
    return _Finding(MailKind.FEEDBACK, tuple(reasons), original=_returned_message_id(msg))


def _mdn(msg: Message) -> _Finding:
    reasons, original = ["report:disposition-notification"], None
    for part in _parts(msg):
        if _content_type(part) == "message/disposition-notification":
            for block in _field_blocks(part)[:1]:
                disposition = _header(block, "Disposition").rpartition(";")[2]
                if _token(disposition):
                    reasons.append(f"mdn:{_reason_token(_token(disposition))}")
                original = original or _first_id(_header(block, "Original-Message-ID"))
    return _Finding(MailKind.READ_RECEIPT, tuple(reasons), original=original or _returned_message_id(msg))


def _returned_message_id(msg: Message) -> str | None:
    """Message-ID of the mail a report is about: from the returned message or headers, else the text."""
    for part in _parts(msg):
        ctype = _content_type(part)
        if ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            found = _first_id(_header(_returned_headers(part), "Message-ID"))
            if found:
                return found
    inline = _TEXT_MSGID.search(_body_texts(msg))
    if inline:
        return inline.group(1)
    return _first_id(_header(msg, "In-Reply-To"))


def _returned_headers(part: Message) -> Message:
    payload = _payload(part)
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    text = payload if isinstance(payload, str) else _text_of(part)
    try:
        return HeaderParser().parsestr(text[:_MAX_TEXT])
    except Exception:
        return Message()


def _body_texts(msg: Message) -> str:
    """All plain text of the report itself (not attached messages), for returned headers pasted inline."""
    texts = [_text_of(p) for p in _parts(msg) if _content_type(p) in ("text/plain", "text/rfc822-headers")]
    return "\n".join(texts)[: _MAX_TEXT * 2]


def _bounce_heuristic(msg: Message, sender: _Sender) -> _Finding:
    """A bounce without RFC 3464 structure, recognised by sender and wording."""
    failed_header = ",".join(_headers(msg, "X-Failed-Recipients"))
    subject_hit = bool(_BOUNCE_SUBJECT.search(_decoded(_first_raw(msg, "Subject"))))
    body = _body_text(msg) if (_daemon_like(sender) or failed_header) else ""
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
    believable = _daemon_like(sender) or (failed_header and (subject_hit or body_hit))
    if not evidence or not believable:
        return _NOTHING
    hard, hard_reasons = _text_hardness(msg, body)
    recipients = _heuristic_recipients(failed_header, body)
    return _Finding(
        MailKind.BOUNCE,
        ("bounce:heuristic", *evidence, *hard_reasons),
        hard,
        recipients,
        _returned_message_id(msg),
    )


def _first_raw(msg: Message, name: str) -> object:
    values = _raw_headers(msg, name)
    return values[0] if values else ""


def _text_hardness(msg: Message, body: str | None = None) -> tuple[bool | None, list[str]]:
    """Hard/soft from status codes in the text of a bounce, or from delay wording."""
    text = _body_text(msg) if body is None else body
    codes = list(dict.fromkeys(m.group(0) for m in _STATUS.finditer(text)))[:5]
    if codes:
        return any(c.startswith("5") for c in codes), [f"bounce-text:{c}" for c in codes]
    subject = _decoded(_first_raw(msg, "Subject"))
    if _DELAY_TEXT.search(subject) or _DELAY_TEXT.search(text[:2000]):
        return False, ["bounce:delayed"]
    return None, []


def _heuristic_recipients(failed_header: str, body: str) -> tuple[str, ...]:
    found = [_address(a)[1] for a in failed_header.split(",")]
    found += [m.group(1).lower() for m in _TEXT_RECIPIENT.finditer(body)]
    return tuple(dict.fromkeys(a for a in found if a))[:_MAX_RECIPIENTS]


def _own_identity(msg: Message, sender: _Sender, own: OwnIdentity) -> _Finding:
    reasons = []
    domain = own.message_id_domain.strip().lower()
    message_id = _first_id(_header(msg, "Message-ID"))
    if domain and message_id and message_id.rpartition("@")[2].lower() == domain:
        reasons.append("own:message-id-domain")
    if sender.from_addr and sender.from_addr in own.addresses:
        reasons.append("own:from-address")
    return _Finding(MailKind.OWN, tuple(reasons), original=message_id) if reasons else _NOTHING


def _auto_reply(msg: Message, sender: _Sender) -> _Finding:
    reasons = _auto_submitted(msg) + _vendor_auto(msg)
    null_path = _null_path_reason(sender)
    if null_path:
        reasons.append(null_path)
    reasons += [f"{where}:{role}" for where, role in _sender_roles(sender) if role != "list-robot"]
    deciding = [r for r in reasons if r != "auto-submitted:no"]
    kind = MailKind.AUTO_REPLY if deciding else None
    return _Finding(kind, tuple(reasons), original=_first_id(_header(msg, "In-Reply-To")))


def _auto_submitted(msg: Message) -> list[str]:
    reasons = []
    for value in _headers(msg, "Auto-Submitted"):  # RFC 3834 allows one; any non-"no" copy wins
        token = _token(value)
        reasons.append(f"auto-submitted:{_reason_token(token) if token else 'empty'}")
    return reasons


def _vendor_auto(msg: Message) -> list[str]:
    reasons = []
    suppress = {_token(v) for value in _headers(msg, "X-Auto-Response-Suppress") for v in value.split(",")}
    reasons += [f"x-auto-response-suppress:{v}" for v in sorted(suppress & _SUPPRESS_VALUES)]
    for name in ("X-Autoreply", "X-Autorespond"):
        if any(_token(v) not in _NOT_SUPPRESSING for v in _headers(msg, name)):
            reasons.append(name.lower())
    if any(_token(v).replace("-", "_") == "auto_reply" for v in _headers(msg, "Precedence")):
        reasons.append("precedence:auto_reply")
    if _headers(msg, "X-Loop"):  # procmail/Zammad-style loop marker: some robot already handled this mail
        reasons.append("x-loop")
    return reasons


def _list(msg: Message, sender: _Sender) -> _Finding:
    reasons = [
        f"precedence:{t}"
        for t in dict.fromkeys(_token(v) for v in _headers(msg, "Precedence"))
        if t in _LIST_PRECEDENCE
    ]
    reasons += [name.lower() for name in _LIST_HEADERS if _raw_headers(msg, name)]
    reasons += [f"{where}:{role}" for where, role in _sender_roles(sender) if role == "list-robot"]
    return _Finding(MailKind.LIST, tuple(reasons)) if reasons else _NOTHING


def _weak_subject(msg: Message) -> _Finding:
    subject = _decoded(_first_raw(msg, "Subject"))
    if not subject or _REPLY_PREFIX.match(subject):
        return _NOTHING
    langs = [lang for lang, pattern in _OOO_SUBJECT if pattern.search(subject)]
    if not langs:
        return _NOTHING
    reasons = [f"subject:out-of-office:{lang}" for lang in langs]
    if _AUTO_PREFIX.match(subject):
        reasons.append("subject:auto-prefix")
    elif _header(msg, "In-Reply-To") or _header(msg, "References"):
        reasons.append("subject:unprefixed-reply")
    kind = MailKind.AUTO_REPLY if len(reasons) > len(langs) else None
    return _Finding(kind, tuple(reasons), original=_first_id(_header(msg, "In-Reply-To")))


# --- the verdict ----------------------------------------------------------------------------------------


def classify(msg: Message, mail_from: str | None, own: OwnIdentity) -> Verdict:
    """Decide whether `msg` comes from a person or a machine; `mail_from` "" is the null reverse-path."""
    try:
        return _classify(msg, mail_from, own)
    except Exception as exc:  # never crash ingestion; record the mail but do not answer it
        return Verdict(MailKind.AUTO_REPLY, (f"error:{type(exc).__name__}",))


def _classify(msg: Message, mail_from: str | None, own: OwnIdentity) -> Verdict:
    sender = _sender(msg, mail_from)
    report = _report(msg)
    findings = [
        _own_loop(msg, own),
        report,
        _NOTHING if report.kind else _bounce_heuristic(msg, sender),
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


def _merge_reasons(findings: Iterable[_Finding]) -> tuple[str, ...]:
    merged = dict.fromkeys(r for f in findings for r in f.reasons)
    return tuple(merged)[:_MAX_REASONS]
