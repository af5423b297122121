"""A requester's answer to the satisfaction survey: a digit from 1 to 5 or a word, in en/uk/ru. Pure.

The rating opens the answer ("5", "4/5", "4 of 5", "Excellent!", "добре", "плохо, долго ждал");
whatever follows it is the comment. An answer that does not open with a rating ("not good", "it
broke again") is no rating: it is an ordinary reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCALE = range(1, 6)


def _words(text: str, score: int) -> dict[str, int]:
    return dict.fromkeys(text.split(), score)


#: Words that rate, by score.
WORDS: dict[str, int] = {
    **_words("excellent great perfect awesome superb відмінно чудово супер прекрасно отлично", 5),
    **_words("good добре хорошо", 4),
    **_words("ok okay fine average normal нормально задовільно сойдет удовлетворительно", 3),
    **_words("poor bad погано плохо", 2),
    **_words("terrible awful horrible жахливо огидно ужасно отвратительно", 1),
}
_NEGATIONS = frozenset({"not", "no", "не", "ні", "нет"})
_OPENING = re.compile(r"^\s*(?P<first>[^\W_]+)(?:\s*(?:/|of|out of|з|із|из)\s*5\b)?"
                      r"(?:\s*(?:stars?|зір\w*|звезд\w*)\b)?[\s!.,;:)*-]*", re.IGNORECASE)


@dataclass(frozen=True)
class Rating:
    """A score from 1 to 5, and the comment that came with it ("" when none)."""

    score: int
    comment: str = ""


def parse_rating(new_text: str) -> Rating | None:
    """The rating `new_text` (the answer, quotes removed) opens with, or None."""
    text = new_text.strip()
    m = _OPENING.match(text)
    if m is None:
        return None
    first = m["first"].lower()
    score = int(first) if first.isdigit() else WORDS.get(first)
    if score is None or score not in SCALE or first in _NEGATIONS:
        return None
    comment = " ".join(text[m.end():].split())
    return Rating(score, comment[:2000])
