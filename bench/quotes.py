"""Measure reply/quote splitters on the shared corpus.

Run from the repository root:  .venv/bin/python bench/quotes.py
"""

from __future__ import annotations

import email
import html
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # Run as a script from anywhere: make maildesk importable.


def all_messages(root: Path) -> list[str]:
    """Return the corpus-relative paths of every message (expected results excluded)."""
    rows = (root / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    paths = []
    for row in rows:
        path, _source, tags = row.split("\t")
        if "expected-result" not in tags.split(","):
            paths.append(path)
    return paths


class _HtmlToText(HTMLParser):
    """Crude HTML to text: block tags become line breaks, <blockquote> content gets a '> ' prefix.

    Good enough to look like what a real converter emits; maildesk's own converter lives elsewhere.
    """

    _BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "table", "hr", "pre"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.depth = 0
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip += 1
        elif tag == "blockquote":
            self._newline()
            self.depth += 1
        elif tag in self._BLOCKS:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag == "blockquote":
            self._newline()
            self.depth = max(0, self.depth - 1)
        elif tag in self._BLOCKS:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        chunk = re.sub(r"\s+", " ", data.replace("\xa0", " "))
        if not chunk.strip() and not self.lines[-1].strip():
            return
        if not self.lines[-1]:
            chunk = chunk.lstrip()
            if self.depth:
                self.lines[-1] = "> " * self.depth
        self.lines[-1] += chunk

    def _newline(self) -> None:
        self.lines.append("")

    def text(self) -> str:
        out = [line.rstrip() for line in self.lines]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n") + "\n"


def html_to_text(markup: str) -> str:
    """Return a plain-text rendering of *markup* (see _HtmlToText)."""
    parser = _HtmlToText()
    parser.feed(markup)
    parser.close()
    return html.unescape(parser.text())


def _parse(data: bytes) -> Message:
    try:
        msg = email.message_from_bytes(data, policy=policy.default)
        for part in msg.walk():  # Force lazy header parsing now, so errors surface here.
            part.get_content_type()
        return msg
    except Exception:
        return email.message_from_bytes(data, policy=policy.compat32)


def _decoded(part: Message) -> str | None:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        return None
    if not isinstance(payload, bytes):
        return None
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _first_part(msg: Message, ctype: str) -> str | None:
    for part in msg.walk():
        if part.get_content_type() == "message/rfc822":
            break  # Do not look inside attached messages: their text is not the reply.
        if part.get_content_type() != ctype or part.get_filename():
            continue
        text = _decoded(part)
        if text is not None and text.strip():
            return text
    return None


def body_text(path: Path) -> str | None:
    """Return the first text/plain part (or crude text of the first text/html), newlines normalised."""
    msg = _parse(path.read_bytes())
    text = _first_part(msg, "text/plain")
    if text is None:
        markup = _first_part(msg, "text/html")
        text = html_to_text(markup) if markup is not None else None
    if text is None:
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- Ground truth ------------------------------------------------------------------------------
# Every corpus message that is a reply or forward carrying quoted history, found by reading the
# candidates (tags reply-headers/reply-subject/forward, the talon/ set, and any text with '>'
# lines, "wrote:"-style lines, "Original Message" banners or From:/Sent: blocks), then labelled by
# hand. Value: the 1-based line ranges (inclusive; None = to the end) of the text returned by
# body_text() that are quoted history. Bounces quoting the returned message are not replies and
# are left out, as are zammad/mail054.box (its "body" is a broken MIME dump) and
# mikel-mail/attachment_emails/attachment_with_encoded_name.eml (byte-identical to raw_email8).
Ranges = tuple[tuple[int, int | None], ...]
QUOTED_REPLIES: dict[str, Ranges] = {
    "talon/reply-quotations-share-block.eml": ((5, None),),
    "talon/standard_replies/android.eml": ((2, None),),
    "talon/standard_replies/aol.eml": ((5, None),),
    "talon/standard_replies/apple_mail.eml": ((3, None),),
    "talon/standard_replies/apple_mail_2.eml": ((2, None),),
    "talon/standard_replies/comcast.eml": ((3, None),),
    "talon/standard_replies/gmail.eml": ((3, None),),
    "talon/standard_replies/hotmail.eml": ((4, None),),
    "talon/standard_replies/iphone.eml": ((5, None),),
    "talon/standard_replies/outlook.eml": ((3, None),),
    "talon/standard_replies/sparrow.eml": ((8, None),),
    "talon/standard_replies/thunderbird.eml": ((1, 2),),
    "talon/standard_replies/yahoo.eml": ((4, None),),
    "chatwoot/attachments_without_filename.eml": ((10, None),),
    "chatwoot/mail_with_quote.eml": ((3, 8),),
    "chatwoot/multiple_attachments.eml": ((12, None),),
    "mikel-mail/attachment_emails/attachment_with_base64_encoded_name.eml": ((3, None),),
    "mikel-mail/mime_emails/raw_email2.eml": ((3, None),),
    "mikel-mail/plain_emails/raw_email8.eml": ((3, None),),
    "redmine/issue_update_with_multiple_quoted_reply_above.eml": ((15, None),),
    "redmine/issue_update_with_quoted_reply_above.eml": ((15, None),),
    "redmine/ticket_reply_from_mail.eml": ((13, None),),
    "mail-parser/mail_test_7": ((16, None),),
    "zammad/mail003.box": ((32, None),),
    "zammad/mail005.box": ((1, 30),),
    "zammad/mail007.box": ((7, None),),
    "zammad/mail012.box": ((36, None),),
    "zammad/mail036.box": ((5, None),),
    "zammad/mail057.box": ((4, None),),
    "zammad/mail068.box": ((1, None),),
    "zammad/mail082.box": ((32, None),),
}

# Left out of every count (see above): not a usable reply, or a byte-identical duplicate.
EXCLUDED = frozenset({
    "zammad/mail054.box",
    "mikel-mail/attachment_emails/attachment_with_encoded_name.eml",
})


def _norm(line: str) -> str:
    """A line's comparable content: without '>' markers, surrounding space and NBSPs."""
    return re.sub(r"^[\s>]+", "", line.replace("\xa0", " ")).strip()


@dataclass(frozen=True)
class Truth:
    """What a correct split of one labelled message must and must not contain."""

    quoted: frozenset[str]  # content lines found only in the quoted history
    expected: tuple[str, ...]  # content lines of the new text (signature excluded)


def truth(text: str, ranges: Ranges) -> Truth:
    """Return the Truth for *text* given the hand-labelled quoted *ranges*."""
    lines = text.split("\n")
    inside: set[int] = set()
    for first, last in ranges:
        inside.update(range(first - 1, len(lines) if last is None else last))
    fresh = [lines[i] for i in range(len(lines)) if i not in inside]
    fresh_norm = {_norm(line) for line in fresh}
    quoted = frozenset(_norm(lines[i]) for i in inside if _norm(lines[i])) - fresh_norm
    expected: list[str] = []
    for line in fresh:
        if re.match(r"^--\s?$", line):
            break  # Signature: an approach may legitimately leave it out of the new text.
        if _norm(line):
            expected.append(_norm(line))
    return Truth(quoted, tuple(expected))


def leaked_lines(new_text: str, t: Truth) -> list[str]:
    """Return the lines of *new_text* that are quoted: '>'-prefixed or from the quoted history."""
    return [line for line in new_text.split("\n")
            if line.lstrip().startswith(">") or (_norm(line) and _norm(line) in t.quoted)]


def wrongly_emptied(new_text: str, t: Truth) -> bool:
    """True when the message has new text but the approach returned none."""
    return bool(t.expected) and not new_text.strip()


def lost_lines(new_text: str, t: Truth) -> list[str]:
    """Return expected new-text lines missing from *new_text* (over-cutting)."""
    got = {_norm(line) for line in new_text.split("\n")}
    return [line for line in t.expected if line not in got]


# --- Approaches --------------------------------------------------------------------------------

def _ours(text: str) -> str:
    from maildesk.mail.quotes import split_reply
    return split_reply(text).new_text


def _email_reply_parser(text: str) -> str:
    from email_reply_parser import EmailReplyParser  # type: ignore[import-untyped]
    return str(EmailReplyParser.parse_reply(text))


def _mail_parser_reply(text: str) -> str:
    from mailparser_reply import EmailReplyParser  # type: ignore[import-untyped]
    from mailparser_reply.constants import MAIL_LANGUAGES  # type: ignore[import-untyped]
    # Give it every language it ships (it has no uk/ru); it is the most favourable setting.
    parser = EmailReplyParser(languages=[lang for lang in MAIL_LANGUAGES if lang != "david"])
    return str(parser.parse_reply(text) or "")


APPROACHES: dict[str, Callable[[str], str]] = {
    "maildesk.mail.quotes": _ours,
    "email-reply-parser": _email_reply_parser,
    "mail-parser-reply": _mail_parser_reply,
}


@dataclass
class Score:
    """Counts for one approach."""

    leaked: list[str] = field(default_factory=list)
    emptied: list[str] = field(default_factory=list)
    over_cut: list[str] = field(default_factory=list)
    other_cut: list[str] = field(default_factory=list)
    seconds: float = 0.0
    calls: int = 0


def load_texts(root: Path) -> dict[str, str]:
    """Return body_text() of every corpus message that has one."""
    texts = {}
    for rel in all_messages(root):
        text = None if rel in EXCLUDED else body_text(root / rel)
        if text is not None:
            texts[rel] = text
    return texts


def evaluate(split: Callable[[str], str], texts: dict[str, str]) -> Score:
    """Run *split* over the labelled replies and over every other message."""
    score = Score()
    for rel, text in texts.items():
        start = time.perf_counter()
        new_text = split(text)
        score.seconds += time.perf_counter() - start
        score.calls += 1
        if rel in QUOTED_REPLIES:
            t = truth(text, QUOTED_REPLIES[rel])
            if leaked_lines(new_text, t):
                score.leaked.append(rel)
            if wrongly_emptied(new_text, t):
                score.emptied.append(rel)
            if lost_lines(new_text, t):
                score.over_cut.append(rel)
        elif lost_lines(new_text, truth(text, ())):
            score.other_cut.append(rel)
    return score


def main() -> int:
    """Print, per approach, the leak/empty/over-cut counts and the time per message."""
    if not CORPUS.is_dir():
        print(f"corpus not found at {CORPUS}")
        return 1
    texts = load_texts(CORPUS)
    missing = sorted(set(QUOTED_REPLIES) - set(texts))
    assert not missing, f"labelled messages without text: {missing}"
    n_quoted = len(QUOTED_REPLIES)
    n_other = len(texts) - n_quoted
    print(f"{n_quoted} corpus replies with quoted history; {n_other} other messages with text\n")
    print(f"{'approach':22} {'quote leaked':>13} {'emptied':>8} {'over-cut':>9} "
          f"{'others cut':>11} {'ms/msg':>7}")
    for name, split in APPROACHES.items():
        s = evaluate(split, texts)
        ms = 1000 * s.seconds / max(1, s.calls)
        print(f"{name:22} {len(s.leaked):>6}/{n_quoted:<6} {len(s.emptied):>8} {len(s.over_cut):>9} "
              f"{len(s.other_cut):>5}/{n_other:<5} {ms:>7.3f}")
        if "-v" in sys.argv:
            for label, items in (("leaked", s.leaked), ("emptied", s.emptied),
                                 ("over-cut", s.over_cut), ("others cut", s.other_cut)):
                if items:
                    print(f"    {label}: {', '.join(items)}")
    print("\nquote leaked: the new text still holds a '>' line or a line of the quoted history;"
          "\nemptied: new text empty although the reply has some; over-cut: a line of the new text"
          "\n(signature excluded) is missing; others cut: same, on messages without quoted history.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
