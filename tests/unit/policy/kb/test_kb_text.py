"""The light en/uk/ru stemmer, stop words, language guess and the relevance score."""

from __future__ import annotations

import pytest

from maildesk.policy.kb import DocTerms, guess_language, query_terms, relevant, score, stem, stems


@pytest.mark.parametrize(("words", "language"), [
    (("працює", "працювати", "працюють"), "uk"),
    (("друкує", "друкувати", "друкування"), "uk"),
    (("принтера", "принтер", "принтером", "принтери"), "uk"),
    (("printing", "printer", "printers", "prints"), "en"),
    (("работает", "работать"), "ru"),
    (("печатает", "печать"), "ru"),
    (("пароль", "пароля", "паролем"), "ru"),
    (("подключиться", "подключение"), "ru"),
    (("підключитися", "підключення"), "uk"),
    (("connection", "connecting", "connect"), "en"),
])
def test_word_forms_share_a_stem(words: tuple[str, ...], language: str) -> None:
    # Inflected forms a requester writes meet the forms an article uses.
    assert len({stem(w, language) for w in words}) == 1


def test_short_and_distinct_words_stay_apart() -> None:
    # Stems keep enough letters that different words do not collapse together.
    assert stem("печать", "ru") != stem("печь", "ru")
    assert stem("printer", "en") != stem("paper", "en")
    assert stem("vpn", "uk") == "vpn"


def test_stop_words_and_negation_drop_out() -> None:
    # "не" and greetings carry no topic; the request keeps only its subject words.
    assert stems("не працює принтер", "uk") == ["прац", "принтер"]
    assert stems("Добрый день, не работает принтер", "ru") == ["работ", "принтер"]
    assert stems("Hello, my printer does not print", "en") == ["print", "print"]


def test_language_is_guessed_from_letters() -> None:
    # і/ї/є/ґ say Ukrainian, ы/э/ъ/ё say Russian, Latin says English.
    assert guess_language("Принтер не друкує") == "uk"
    assert guess_language("Принтер не печатает, выручайте") == "ru"
    assert guess_language("Printer broken") == "en"
    assert guess_language("Принтер", default="ru") == "ru"


def test_query_terms_are_distinct_subject_first() -> None:
    # The subject's words lead, repeats are dropped.
    assert query_terms("Printer", "The printer is printing blank pages", "en")[:2] == ("print", "blank")


def test_score_prefers_title_matches_and_threshold_drops_weak_ones() -> None:
    # A title match outweighs a body-only match of common words; the threshold hides the latter.
    printer = DocTerms(title=frozenset({"принтер", "друк"}), tags=frozenset({"принтер", "друк"}),
                       body=frozenset({"прац", "принтер", "друк", "тонер"}))
    vpn = DocTerms(title=frozenset({"vpn", "підключ"}), tags=frozenset({"vpn"}), body=frozenset({"прац", "vpn"}))
    query = ("прац", "принтер")
    assert score(query, printer) >= 0.5 > 0.1 > score(query, vpn)
    assert relevant([("printer", score(query, printer)), ("vpn", score(query, vpn))], 0.35, 3) == ["printer"]
    assert score((), printer) == 0.0


def test_relevant_limits_and_orders() -> None:
    # Best first, ties by key, at most `limit`.
    assert relevant([("b", 0.5), ("a", 0.5), ("c", 0.9), ("d", 0.1)], 0.3, 2) == ["c", "a"]
