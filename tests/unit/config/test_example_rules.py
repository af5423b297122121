"""The rules shipped in maildesk.conf.example decide as their descriptions say."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from maildesk import config
from maildesk.mail.parse import parse_message
from maildesk.notices.render import Renderer
from maildesk.pipeline.routing import Routing

EXAMPLE = Path(__file__).resolve().parents[3] / "maildesk.conf.example"
TUESDAY_NOON = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def routing() -> Routing:
    return Routing.from_settings(config.load(EXAMPLE, {}), Renderer(), date(2026, 11, 24))


def decide(routing: Routing, subject: str, text: str) -> tuple[str, str]:
    """(category, language) the example's rules give a mail to support@ on a working day."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "bob@client.example", "support@example.org", subject
    msg.set_content(text)
    outcome = routing.evaluate(parse_message(msg.as_bytes()), ["support@example.org"], TUESDAY_NOON)
    return outcome.category, outcome.language


@pytest.mark.parametrize(("subject", "text", "expected"), [
    ("Cannot login", "My password expired.", ("access", "")),
    ("Word crashes", "Word closes when I open the report.", ("software", "")),
    ("Не могу войти", "Не могу войти в почту, пароль не подходит.", ("access", "ru")),
    ("Не можу увійти", "Не можу увійти в пошту, пароль не підходить.", ("access", "uk")),
    ("Принтер", "Принтер не печатает, помогите пожалуйста.", ("hardware", "ru")),
    ("Принтер", "Принтер не друкує, допоможіть будь ласка.", ("hardware", "uk")),
    ("Nothing works", "Please call me back.", ("other", "")),
])
def test_category_and_language(routing: Routing, subject: str, text: str, expected: tuple[str, str]) -> None:
    # "password" is not "word"; Russian without ы/э/ъ/ё is still Russian, and Ukrainian Ukrainian.
    assert decide(routing, subject, text) == expected
