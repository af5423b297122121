"""split_reply over the shared corpus: the replies with quoted history, hand-labelled in bench/quotes.py.

The corpus lives outside the repository (../shared/corpus from the repo root). Without it these
tests skip, except under CI=true, where a missing corpus is a failure rather than a silent pass.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

from maildesk.mail.quotes import split_reply

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"

# Measured with `.venv/bin/python bench/quotes.py`: 30 of 31 labelled replies have no quoted line
# in their new text. The one miss, listed so a new leak fails loudly:
KNOWN_LEAKS = frozenset({
    # Lotus Notes style: a "<sender> --- <subject> ---" title line sits above the "Von:" block; the
    # cut happens at "Von:", so the title line stays in the new text.
    "zammad/mail007.box",
})
# Messages without quoted history where split_reply drops some text (see docs/quoting.md).
KNOWN_OTHER_CUTS = frozenset({
    "zammad/mail047.box",  # newsletter whose first line starts with '>' (an arrow, not a quote)
    "mikel-mail/plain_emails/raw_email_incorrect_header.eml",  # body holds a pasted header block
    # Bounces: the returned message's headers (From:/Date:/Subject:) are cut, which is right.
    "bounceparser/non-autoreply.msg",
    "bounceparser/warning-7.msg",
    "bounceparser/warning-9.msg",
    "bounceparser/message-too-large.msg",
    "bounceparser/misidentified-recipient.msg",
    "bounceparser/qmail.unknown.msg",
    "bounceparser/quota.msg",
})


def _require_corpus() -> None:
    if CORPUS.is_dir():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the shared corpus is missing at {CORPUS}")
    pytest.skip(f"shared corpus not found at {CORPUS} (optional outside CI)")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """bench/quotes.py, which owns the corpus extraction and the hand-made labels."""
    _require_corpus()
    spec = importlib.util.spec_from_file_location("bench_quotes", REPO / "bench" / "quotes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def texts(bench: ModuleType) -> dict[str, str]:
    """The text body of every corpus message that has one."""
    loaded: dict[str, str] = bench.load_texts(CORPUS)
    return loaded


def _new_text(text: str) -> str:
    return split_reply(text).new_text


def test_replies_keep_no_quoted_line(bench: ModuleType, texts: dict[str, str]) -> None:
    # Scenario: acceptance rate, no quoted line in the new text of labelled corpus replies.
    score = bench.evaluate(_new_text, {rel: texts[rel] for rel in bench.QUOTED_REPLIES})
    clean = len(bench.QUOTED_REPLIES) - len(score.leaked)
    assert set(score.leaked) <= KNOWN_LEAKS, f"new leaks: {sorted(set(score.leaked) - KNOWN_LEAKS)}"
    assert clean >= 30, f"only {clean}/{len(bench.QUOTED_REPLIES)} replies are clean"


def test_replies_are_never_emptied_or_over_cut(bench: ModuleType, texts: dict[str, str]) -> None:
    # Scenario: a reply with new text keeps all of it (signature aside), never an empty result.
    score = bench.evaluate(_new_text, {rel: texts[rel] for rel in bench.QUOTED_REPLIES})
    assert score.emptied == []
    assert score.over_cut == []


def test_other_mail_is_not_cut(bench: ModuleType, texts: dict[str, str]) -> None:
    # Scenario: false positives on corpus mail without quoted history stay within the known list.
    score = bench.evaluate(_new_text, texts)
    unexpected = set(score.other_cut) - KNOWN_OTHER_CUTS
    assert not unexpected, f"new false cuts: {sorted(unexpected)}"
