"""The fingerprint of an inbound mail: what stays the same when a robot answers us again. Pure.

A robot that answers every acknowledgement with a fresh mail, from a fresh address each time,
keeps the same words: its subject and text differ only in numbers (a ticket number, a date, an
id) and in what it quotes of ours. Normalised — lowercased, reply prefixes and bracketed tags
dropped, every word holding a digit removed, quotes cut, punctuation and spacing folded — and put
together with where the mail came from (the client address, else the sender's domain), they give
a key the brakes can count across addresses (maildesk.policy.brakes).
"""

from __future__ import annotations

import hashlib
import re

from maildesk.mail.quotes import split_reply

#: How much of the normalised text counts: enough to tell mails apart, bounded for huge ones.
TEXT_CHARS = 2000
_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|vs|tr|rif|відп|відповідь|отв|ответ|пересл)"
                     r"\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_TAG = re.compile(r"\[[^\]]{0,64}\]")
_HAS_DIGIT = re.compile(r"\S*\d\S*")
_NOT_WORD = re.compile(r"[\W_]+")


def normalised(text: str) -> str:
    """`text` as the fingerprint sees it: lowercased, no bracketed tags, no words with digits, words
    separated by single spaces."""
    text = _TAG.sub(" ", text.lower())
    text = _HAS_DIGIT.sub(" ", text)
    return " ".join(_NOT_WORD.sub(" ", text).split())


def fingerprint(subject: str, text: str, origin: str) -> str:
    """The fingerprint of a mail with `subject` and body `text` from `origin` (a client address or a
    domain); "" when subject and new text are both empty once normalised: such mail is told apart
    by nothing, and must not be counted as one."""
    topic = normalised(_PREFIX.sub("", subject))
    words = normalised(split_reply(text[: TEXT_CHARS * 8]).new_text)[:TEXT_CHARS]
    if not topic and not words:
        return ""
    key = "\x1f".join((topic, words, origin.lower()))
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]
