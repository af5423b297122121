"""Reply and forward prefixes taken off a new ticket's subject."""

from __future__ import annotations

import pytest

from maildesk.mail.subject import without_reply_prefixes


@pytest.mark.parametrize(("subject", "expected"), [
    ("Re: Printer broken", "Printer broken"),
    ("RE: AW: Fwd: Printer broken", "Printer broken"),
    ("Re[2]: Printer broken", "Printer broken"),
    ("SV:Printer broken", "Printer broken"),
    ("Відп: Не працює принтер", "Не працює принтер"),
    ("Ответ: Re: Не работает принтер", "Не работает принтер"),
    ("Отв: Пересл: счёт", "счёт"),
    ("Re: [#7] Printer broken", "[#7] Printer broken"),
])
def test_prefixes_come_off_the_front(subject: str, expected: str) -> None:
    # However many a client stacked up, in whatever language, only the request's words remain.
    assert without_reply_prefixes(subject) == expected


@pytest.mark.parametrize("subject", ["Reset my password", "Re-install Office", "Invoice RE 2026-11",
                                     "Fwd", "Ответственный за склад", "Re:", "Reply needed by Friday"])
def test_words_that_only_look_like_prefixes_stay(subject: str) -> None:
    # "Reset", "Re-install", a bare "Re:" and "Ответственный" are not prefixes to remove.
    assert without_reply_prefixes(subject) == subject
