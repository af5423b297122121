"""The abusive-mail classifier: the labelled set, aimed words against the same words at things, the config's
extra stems."""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk.policy.abuse import Lexicon, classify

SETS = Path(__file__).resolve().parents[2] / "data" / "abusive"


def labelled(language: str) -> list[tuple[bool, str]]:
    rows = [line.split("\t", 1) for line in (SETS / f"{language}.tsv").read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    return [(label == "1", text.replace("\\n", "\n")) for label, text in rows]


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_the_labelled_set_gives_precision_and_recall_of_at_least_0_9(language: str) -> None:
    # At least 60 mails per language, half abusive, hard negatives among the others (bench/abusive.py prints them).
    rows = labelled(language)
    assert len(rows) >= 60 and abs(sum(a for a, _ in rows) - len(rows) / 2) <= 1
    said = [(expected, classify(text, Lexicon()).abusive) for expected, text in rows]
    tp = sum(e and s for e, s in said)
    precision, recall = tp / max(1, sum(s for _, s in said)), tp / sum(e for e, _ in said)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)


@pytest.mark.parametrize("text", [
    "This printer is killing me.", "Please kill the hung process.", "Could you break the PDF into parts?",
    "I will come to your office at ten.", "A stupid question: where is the VPN guide?", "I regret to tell you it failed.",
    "Цей принтер мене вбиває.", "Будь ласка, вбийте процес.", "Этот принтер меня убивает.", "Вы можете убить процесс?",
    "Ви заплатите за ліцензію до п'ятниці?",
])
def test_the_same_words_at_things_are_not_abusive(text: str) -> None:
    # Threat words not aimed at anyone, and one mild word, stay under the threshold.
    assert not classify(text, Lexicon()).abusive


@pytest.mark.parametrize(("text", "hit"), [
    ("You stupid morons, I will come and smash your office.", "insult:moron"),
    ("I will burn your building down.", "verb:burn"),
    ("Я вас уб'ю.", "threat:убю"),
    ("Почините, иначе пожалеете.", "aimed:пожалеете"),
    ("Dear idiots, why is it down again?", "insult:idiot"),
])
def test_aimed_insults_and_threats_are(text: str, hit: str) -> None:
    # The verdict names the stems that hit, never the mail's own words.
    verdict = classify(text, Lexicon())
    assert verdict.abusive and hit in verdict.hits


def test_the_config_adds_stems_and_phrases_and_sets_the_threshold() -> None:
    # "Тролі" is no built-in insult; configured, "ви тролі" is abusive; a threshold of 5 lets "you idiots" pass.
    assert not classify("Ви тролі.", Lexicon()).abusive
    assert classify("Ви тролі.", Lexicon.with_extra(insults=["тролі"])).abusive
    assert classify("You will see me at your door.", Lexicon.with_extra(threats=["see me at"])).hits == (
        "threat:see me at",)
    assert not classify("You idiots.", Lexicon.with_extra(threshold=5.0)).abusive
