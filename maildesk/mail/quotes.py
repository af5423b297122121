"""Split the plain-text body of a reply into new text, quoted history and signature.

The help desk stores the full body; the *new text* is what gets relayed and shown in
notifications, so it must not carry the quoted history of the thread.

The splitter looks, line by line, for the first marker that starts quoted history:

* a line starting with ``>`` (plain-text quoting, and what HTML converters emit for
  ``<blockquote>``);
* an attribution line such as Gmail's ``On <date>, <name> <addr> wrote:`` (possibly wrapped
  over two lines), Apple Mail's ``On <date>, at <time>, <name> wrote:``, Thunderbird's
  ``<name> wrote:`` and their German/Ukrainian/Russian/French/Italian/Spanish forms;
* an ``-----Original Message-----`` style separator (several languages) or a forward banner;
* an Outlook header block (``From:`` / ``Sent:`` / ``To:`` / ``Subject:`` and their
  translations), optionally preceded by Outlook's line of underscores.

Text before the marker is the new text, minus a trailing ``-- `` signature. Precision matters
more than recall here: a false cut hides part of a customer's message, so weak evidence (a lone
``From:`` line, a ``wrote:`` without a date) only counts when corroborated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ReplyParts", "split_reply"]


@dataclass(frozen=True)
class ReplyParts:
    """The pieces of a reply body.

    ``reason`` names the marker that decided the split: ``"none"``, ``"signature-dashes"``,
    ``"quote-prefix"``, ``"gmail-attribution"``, ``"apple-mail-attribution"``,
    ``"thunderbird-attribution"``, ``"original-message"``, ``"forwarded-message"``,
    ``"outlook-header-<lang>"`` (lang in en, de, uk, ru, fr, it, es). When the mail has no new
    text before the marker (a forward, or a bottom-posted reply) the reason is prefixed with
    ``"all-quoted:"``.
    """

    new_text: str
    quoted: str
    signature: str
    reason: str


@dataclass(frozen=True)
class _Cut:
    """Where quoted history starts: line index, the reason, and whether it is '>'-style quoting."""

    index: int
    reason: str
    prefix_style: bool


# --- Regular expressions -------------------------------------------------------------------

_QUOTE_PREFIX = re.compile(r"^[ \t]*>")
# Sendmail-style bounces log the SMTP dialogue as ">>> DATA"; that is a transcript, not a quote.
_SMTP_TRANSCRIPT = re.compile(r"^>>> (?:HELO|EHLO|MAIL FROM|RCPT TO|DATA|QUIT|RSET)\b", re.IGNORECASE)

# "-- " is the RFC 3676 signature delimiter; many clients drop the trailing space.
_SIG_DELIMITER = re.compile(r"^--[ \t]?$")

_ORIGINAL_MESSAGE = re.compile(
    r"^[ \t]*-{2,}[ \t]*(?:Original Message|Original email message|Ursprüngliche Nachricht"
    r"|Original[- ]Nachricht|Исходное сообщение|Оригінальне повідомлення|Message d'origine"
    r"|Messaggio originale|Mensaje original)[ \t]*-{2,}[ \t]*$",
    re.IGNORECASE,
)
_FORWARDED_MESSAGE = re.compile(
    r"^[ \t]*(?:-{2,}[ \t]*(?:Forwarded message|Weitergeleitete Nachricht|Пересланное сообщение"
    r"|Переслане повідомлення|Message transféré|Messaggio inoltrato|Mensaje reenviado)[ \t]*-{2,}"
    r"|(?:Begin forwarded message|Anfang der weitergeleiteten Nachricht|Inizio messaggio inoltrato"
    r"|Début du message réexpédié)[ \t]*:)[ \t]*$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^[ \t]*_{8,}[ \t]*$")

# Verbs that end (en) or precede the name in (de "schrieb <name>:") an attribution line.
_VERB = (
    r"(?:wrote|writes|schrieb|пише|пишет|написал(?:а|\(а\))?|написав|написала|a écrit"
    r"|ha scritto|escribió|escreveu|skrev|schreef)"
)
# The verb, then optionally a name (no colon in it), then the final colon.
_ATTRIBUTION = re.compile(rf"(?:^|[\s,]){_VERB}(?:\s[^:]{{0,160}})?\s?:[ \t]*$", re.IGNORECASE)
# Russian Gmail writes no verb: "<date>, <name> <addr>:". Only trusted before a '>' block.
_ADDRESS_COLON = re.compile(r"@[^\s]+>?[ \t]*:[ \t]*$")
# How attribution lines open: "On", "Am", "Le"... a date, or a weekday abbreviation + comma.
_OPENER = re.compile(r"^[ \t>-]*(?:On|Am|Le|El|Il|Op|Em|Den|\d|\w{2,4}\.?,)", re.IGNORECASE)
_APPLE_COMMA = re.compile(r",\s+at\s+\d")
_ANGLE_ADDRESS = re.compile(r"<\s*[^<>\s]+@[^<>\s]+>")
_DIGIT = re.compile(r"\d")
_MAX_ATTRIBUTION = 300

# Header field keyword -> (kind, languages). Kinds: from, sent (sent/date), to, cc, subject.
_HEADER_FIELDS: dict[str, tuple[str, frozenset[str]]] = {
    "from": ("from", frozenset({"en"})),
    "von": ("from", frozenset({"de"})),
    "от": ("from", frozenset({"ru"})),
    "від": ("from", frozenset({"uk"})),
    "de": ("from", frozenset({"fr", "es"})),
    "da": ("from", frozenset({"it"})),
    "sent": ("sent", frozenset({"en"})),
    "date": ("sent", frozenset({"en", "fr"})),
    "gesendet": ("sent", frozenset({"de"})),
    "datum": ("sent", frozenset({"de"})),
    "отправлено": ("sent", frozenset({"ru"})),
    "надіслано": ("sent", frozenset({"uk"})),
    "дата": ("sent", frozenset({"ru", "uk"})),
    "envoyé": ("sent", frozenset({"fr"})),
    "inviato": ("sent", frozenset({"it"})),
    "data": ("sent", frozenset({"it"})),
    "enviado": ("sent", frozenset({"es"})),
    "fecha": ("sent", frozenset({"es"})),
    "to": ("to", frozenset({"en"})),
    "an": ("to", frozenset({"de"})),
    "кому": ("to", frozenset({"ru", "uk"})),
    "à": ("to", frozenset({"fr"})),
    "a": ("to", frozenset({"it"})),
    "para": ("to", frozenset({"es"})),
    "cc": ("cc", frozenset({"en", "de", "fr", "it", "es"})),
    "копия": ("cc", frozenset({"ru"})),
    "копія": ("cc", frozenset({"uk"})),
    "subject": ("subject", frozenset({"en"})),
    "betreff": ("subject", frozenset({"de"})),
    "тема": ("subject", frozenset({"ru", "uk"})),
    "objet": ("subject", frozenset({"fr"})),
    "oggetto": ("subject", frozenset({"it"})),
    "asunto": ("subject", frozenset({"es"})),
}
_LANG_ORDER = ("en", "de", "uk", "ru", "fr", "it", "es")
# "*From:* x" is how bold labels survive HTML conversion; French puts a space before the colon.
_HEADER_LINE = re.compile(
    r"^[ \t]*\*{0,2}(" + "|".join(sorted(_HEADER_FIELDS, key=len, reverse=True)) + r")\*{0,2}[ \t]?:",
    re.IGNORECASE,
)
# Outlook on the web, once converted, can put the whole block on one line.
_INLINE_BLOCK = re.compile(
    r"^[ \t]*\*{0,2}(from|von|от|від|de|da)\*{0,2}[ \t]?:.{1,200}?\s\*{0,2}"
    r"(sent|gesendet|отправлено|надіслано|envoyé|inviato|enviado)\*{0,2}[ \t]?:",
    re.IGNORECASE,
)
_BLOCK_WINDOW = 5  # non-blank lines after the first header line that may complete the block


# --- Outlook header blocks -----------------------------------------------------------------

def _header_field(line: str) -> tuple[str, frozenset[str]] | None:
    """Return (kind, languages) when *line* starts with a known header label."""
    match = _HEADER_LINE.match(line)
    if match is None:
        return None
    return _HEADER_FIELDS[match.group(1).lower()]


def _next_nonblank(lines: list[str], start: int, count: int) -> list[int]:
    """Return the indices of up to *count* non-blank lines from *start* on."""
    found: list[int] = []
    for index in range(start, len(lines)):
        if len(found) == count:
            break
        if lines[index].strip():
            found.append(index)
    return found


def _pick_language(candidates: list[frozenset[str]]) -> str:
    """Return the language every label agrees on (first in _LANG_ORDER), else the first label's."""
    common = frozenset(_LANG_ORDER).intersection(*candidates)
    pool = common or candidates[0]
    return next(lang for lang in _LANG_ORDER if lang in pool)


def _header_block_lang(lines: list[str], index: int) -> str | None:
    """Return the block's language if an Outlook-style header block starts at *index*, else None.

    A From line alone is common in prose ("From: the team"), so the block needs From plus Sent
    (or Date), or From plus both To and Subject, within a few lines.
    """
    inline = _INLINE_BLOCK.match(lines[index])
    if inline is not None:
        return _pick_language([_HEADER_FIELDS[inline.group(i).lower()][1] for i in (1, 2)])
    first = _header_field(lines[index])
    if first is None or first[0] not in ("from", "sent"):
        return None
    fields = [first]
    for later in _next_nonblank(lines, index + 1, _BLOCK_WINDOW):
        field = _header_field(lines[later])
        if field is not None:
            fields.append(field)
    kinds = {kind for kind, _langs in fields}
    if "from" not in kinds or not ("sent" in kinds or {"to", "subject"} <= kinds):
        return None
    return _pick_language([langs for _kind, langs in fields])


def _header_cut(lines: list[str], index: int) -> _Cut | None:
    """Return a cut for an Outlook separator line or header block starting at *index*."""
    start = index
    if _UNDERSCORES.match(lines[index]):
        # Outlook's underscore rule only counts when a header block follows; alone it is
        # usually decoration around a signature or disclaimer.
        following = _next_nonblank(lines, index + 1, 1)
        if not following:
            return None
        index = following[0]
    lang = _header_block_lang(lines, index)
    if lang is None:
        return None
    return _Cut(start, f"outlook-header-{lang}", prefix_style=False)


# --- Attribution lines ---------------------------------------------------------------------

def _attribution_style(text: str) -> str:
    """Return which client's attribution format *text* looks like."""
    if _APPLE_COMMA.search(text):
        return "apple-mail-attribution"
    if _ANGLE_ADDRESS.search(text):
        return "gmail-attribution"
    return "thunderbird-attribution"


def _next_is_quoted(lines: list[str], index: int) -> bool:
    """Return True when the first non-blank line after *index* starts with '>'."""
    following = _next_nonblank(lines, index + 1, 1)
    return bool(following) and _QUOTE_PREFIX.match(lines[following[0]]) is not None


def _wraps(first: str, second: str) -> bool:
    """True when *second* may continue an attribution that *first* opens (clients wrap at ~76)."""
    return _OPENER.match(first) is not None and _QUOTE_PREFIX.match(second) is None


def _attribution_span(lines: list[str], index: int) -> int:
    """Return how many lines (1 or 2) form an attribution starting at *index*, or 0.

    A dated attribution with a typical opening ("On 2 May...", "Am ...", "02.04.2012 ...") is
    trusted alone; anything weaker must be followed by '>' lines to count.
    """
    for span in (1, 2):
        if index + span > len(lines):
            return 0
        if span == 2 and not _wraps(lines[index], lines[index + 1]):
            return 0
        text = " ".join(line.strip() for line in lines[index:index + span])
        if len(text) > _MAX_ATTRIBUTION or not text.rstrip().endswith(":"):
            continue
        verb = _ATTRIBUTION.search(text) is not None
        strong = verb and _DIGIT.search(text) is not None and _OPENER.match(text) is not None
        if strong:
            return span
        weak = verb or (_ADDRESS_COLON.search(text) is not None and _DIGIT.search(text) is not None)
        if weak and _next_is_quoted(lines, index + span - 1):
            return span
    return 0


# --- Finding the first marker --------------------------------------------------------------

def _cut_at(lines: list[str], index: int) -> _Cut | None:
    """Return the cut if quoted history starts at line *index*, else None."""
    line = lines[index]
    if _QUOTE_PREFIX.match(line) and not _SMTP_TRANSCRIPT.match(line):
        return _Cut(index, "quote-prefix", prefix_style=True)
    if _ORIGINAL_MESSAGE.match(line):
        return _Cut(index, "original-message", prefix_style=False)
    if _FORWARDED_MESSAGE.match(line):
        return _Cut(index, "forwarded-message", prefix_style=False)
    span = _attribution_span(lines, index)
    if span:
        text = " ".join(lines[index:index + span])
        return _Cut(index, _attribution_style(text), prefix_style=_next_is_quoted(lines, index + span - 1))
    return _header_cut(lines, index)


def _first_cut(lines: list[str]) -> _Cut | None:
    """Return the earliest marker of quoted history, or None."""
    for index, line in enumerate(lines):
        if line.strip():
            cut = _cut_at(lines, index)
            if cut is not None:
                return cut
    return None


# --- Assembling the result -----------------------------------------------------------------

def _trim(lines: list[str]) -> str:
    """Join *lines*, dropping leading/trailing blank lines and trailing spaces."""
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _split_signature(lines: list[str]) -> tuple[str, str]:
    """Return (body, signature) split at the first '-- ' delimiter.

    The delimiter is ignored when nothing precedes it, so a mail is never reduced to an empty
    new text just because it starts with a signature-looking line.
    """
    for index, line in enumerate(lines):
        if _SIG_DELIMITER.match(line) and _trim(lines[:index]):
            return _trim(lines[:index]), _trim(lines[index + 1:])
    return _trim(lines), ""


def _unquote_all(lines: list[str]) -> tuple[list[str], list[str]]:
    """Return (kept, removed) lines when the mail starts with '>'-style quoting.

    Used for bottom-posted replies: the new text is whatever is neither a '>' line nor an
    attribution line introducing one.
    """
    kept: list[str] = []
    removed: list[str] = []
    index = 0
    while index < len(lines):
        span = _attribution_span(lines, index)
        if span:
            removed.extend(lines[index:index + span])
            index += span
            continue
        (removed if _QUOTE_PREFIX.match(lines[index]) else kept).append(lines[index])
        index += 1
    return kept, removed


def split_reply(text: str) -> ReplyParts:
    """Split a decoded plain-text body into new text, quoted history and signature.

    Returns a ReplyParts whose ``new_text`` is the text before the first quoted-history marker
    with any ``-- `` signature removed; ``quoted`` is the history (from the marker on) and
    ``reason`` names the marker. When nothing precedes the marker (forwards, bottom-posting)
    ``new_text`` is the text left after removing '>' quotes and their attributions, which may be
    empty, and the reason starts with ``"all-quoted:"``.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _first_cut(lines)
    if cut is None:
        body, signature = _split_signature(lines)
        return ReplyParts(body, "", signature, "signature-dashes" if signature else "none")
    before, history = lines[:cut.index], lines[cut.index:]
    if _trim(before):
        body, signature = _split_signature(before)
        return ReplyParts(body, _trim(history), signature, cut.reason)
    if not cut.prefix_style:
        return ReplyParts("", _trim(history), "", f"all-quoted:{cut.reason}")
    kept, removed = _unquote_all(lines)
    body, signature = _split_signature(kept)
    return ReplyParts(body, _trim(removed), signature, f"all-quoted:{cut.reason}")
