"""Precision and recall of the abusive-mail classifier (maildesk.policy.abuse) per language.

Reads the labelled mails in tests/data/abusive/<lang>.tsv (written for maildesk: half insult or
threaten people, half do not, with hard negatives such as "the printer is killing me"), classifies
each with the built-in list and threshold, and prints precision, recall and the mails it got wrong.

    .venv/bin/python bench/abusive.py [--quiet]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from maildesk.policy.abuse import Lexicon, classify

SETS = Path(__file__).resolve().parents[1] / "tests" / "data" / "abusive"
LANGUAGES = ("en", "uk", "ru")


def labelled(language: str) -> list[tuple[bool, str]]:
    """(abusive, text) of each mail of the set, "\\n" read as a line break."""
    rows = []
    for line in (SETS / f"{language}.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, text = line.split("\t", 1)
            rows.append((label == "1", text.replace("\\n", "\n")))
    return rows


def measure(language: str, lexicon: Lexicon) -> tuple[float, float, list[tuple[bool, str, float]]]:
    """Precision, recall and the mails classified wrongly (expected, text, score)."""
    tp = fp = fn = 0
    wrong = []
    for expected, text in labelled(language):
        verdict = classify(text, lexicon)
        tp += verdict.abusive and expected
        fp += verdict.abusive and not expected
        fn += expected and not verdict.abusive
        if verdict.abusive != expected:
            wrong.append((expected, text, verdict.score))
    return tp / ((tp + fp) or 1), tp / ((tp + fn) or 1), wrong


def main() -> None:
    lexicon = Lexicon()
    quiet = "--quiet" in sys.argv
    for language in LANGUAGES:
        rows = labelled(language)
        started = time.perf_counter()
        precision, recall, wrong = measure(language, lexicon)
        per_mail = (time.perf_counter() - started) / len(rows) * 1e6
        print(f"{language}: {len(rows)} mails ({sum(a for a, _ in rows)} abusive)  "
              f"precision {precision:.3f}  recall {recall:.3f}  ({per_mail:.0f} µs per mail)")
        for expected, text, score in [] if quiet else wrong:
            print(f"    {'missed' if expected else 'false alarm'} (score {score:g}): {text!r}")


if __name__ == "__main__":
    main()
