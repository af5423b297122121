"""A requester's answer to the satisfaction survey read as a rating and a comment."""

from __future__ import annotations

import pytest

from maildesk.policy.satisfaction import Rating, parse_rating


@pytest.mark.parametrize(("text", "rating"), [
    ("5", Rating(5)), ("4/5", Rating(4)), ("4 of 5", Rating(4)), ("3 out of 5", Rating(3)),
    ("5 stars, thanks", Rating(5, "thanks")), ("Excellent!", Rating(5)), ("good", Rating(4)),
    ("3 - took a while but fine", Rating(3, "took a while but fine")), ("Terrible.\nNobody called.", Rating(1, "Nobody called.")),
    ("добре", Rating(4)), ("Відмінно! Дякую Олені.", Rating(5, "Дякую Олені.")), ("4 з 5", Rating(4)),
    ("плохо, долго ждал", Rating(2, "долго ждал")), ("Отлично", Rating(5)), ("2 из 5", Rating(2)),
])
def test_a_digit_or_a_word_opening_the_answer_rates(text: str, rating: Rating) -> None:
    # The rating opens the answer, in en/uk/ru; the rest is the comment.
    assert parse_rating(text) == rating


@pytest.mark.parametrize("text", ["not good", "It broke again.", "0", "10", "6/5", "", "Не добре", "нет"])
def test_anything_else_is_no_rating(text: str) -> None:
    # A negation, out-of-range digits or plain text are an ordinary reply, never a rating.
    assert parse_rating(text) is None
