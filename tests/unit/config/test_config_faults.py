"""A config file with several faults: one ConfigError listing them all, one line each, in the
house format `FILE: KEY = VALUE should be …`."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from maildesk import config
from maildesk.config.fields import PriorityName
from maildesk.domain import Priority
from maildesk.errors import ConfigError

BASE = '[desk]\naddress = "support@example.org"\n'


def _lines(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "maildesk.conf"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.load(path, {})
    prefix = f"{path}: "
    lines = str(caught.value).splitlines()
    assert all(line.startswith(prefix) for line in lines)
    return [line.removeprefix(prefix) for line in lines]


def test_faults_in_several_sections_are_all_listed(tmp_path: Path) -> None:
    # Scenario: five sections each with a fault give five lines, none hiding another.
    text = ("[desk]\nname = 3\n[smtp]\nlmtp = 1\n[broker]\nworker_threads = 0\n[log]\nlevel = 'loud'\n"
            '[[imap]]\nhost = "h"\nusername = "u"\npassword = "p"\n'
            '[[imap]]\nhost = "h"\nusername = "u"\npassword = "p"\ntls = "ssl"\n')
    assert sorted(_lines(tmp_path, text)) == sorted([
        "desk.name = 3 should be a string",
        "desk.address is required",
        "smtp.lmtp = 1 should be true or false",
        "broker.worker_threads = 0 should be greater than 0",
        "log.level = 'loud' should be DEBUG, INFO, WARNING or ERROR",
        "imap[1].tls = 'ssl' should be 'imaps', 'starttls' or 'plain'",
    ])


def test_several_faults_in_one_table(tmp_path: Path) -> None:
    # Scenario: a table with an unknown key and two bad values reports all three.
    lines = _lines(tmp_path, BASE + "[broker]\nworker_threads = 0\nprocesses = true\nthreads = 2\n")
    assert sorted(lines) == ["broker.processes = True should be an integer",
                             "broker.worker_threads = 0 should be greater than 0",
                             "unknown key broker.threads"]


def test_type_faults_and_references_together(tmp_path: Path) -> None:
    # Scenario: a bad value, a queue naming an unknown calendar and a rule naming an unknown queue
    # are reported together, so one edit fixes them all.
    text = (BASE + "[sweep]\nstuck_after_seconds = -1\n"
            '[[queues]]\nname = "general"\ncalendar = "office"\n'
            '[[rules]]\nname = "r"\nthen = { queue = "billing" }\n'
            '[[sla]]\nname = "s"\nfirst_response = "soon"\n')
    assert sorted(_lines(tmp_path, text)) == [
        "queues[0].calendar = 'office' should be 'default'",
        "rules[0].then.queue = 'billing' should be 'general' (rule 'r')",
        "sla[0].first_response = 'soon' should be a working time such as \"90m\", \"4h\" or \"2d\"",
        "sweep.stuck_after_seconds = -1 should be 0 or more",
    ]


@pytest.mark.parametrize(("text", "line"), [
    ("[desk]\n", "desk.address is required"),
    (BASE + "[smtp]\nlmtp = 1\n", "smtp.lmtp = 1 should be true or false"),
    (BASE + "[broker]\nworker_threads = 0\n", "broker.worker_threads = 0 should be greater than 0"),
    (BASE + "[broker]\nworker_threads = 1.5\n", "broker.worker_threads = 1.5 should be an integer"),
    (BASE + "[outbound]\ntimeout = '3'\n", "outbound.timeout = '3' should be a number"),
    (BASE + "[outbound]\ntimeout = true\n", "outbound.timeout = True should be a number"),
    (BASE + "[tickets]\nreopen_closed_days = -2\n",
     "tickets.reopen_closed_days = -2 should be 0 or more"),
    (BASE + "aliases = 'a@b.org'\n", "desk.aliases = 'a@b.org' should be a list"),
    (BASE + "language = 'de'\n", "desk.language = 'de' should be 'en', 'uk' or 'ru'"),
    (BASE + "data_dir = 3\n", "desk.data_dir = 3 should be a string (a path)"),
    ("smtp = 1\n" + BASE, "smtp = 1 should be a table"),
    (BASE + "[kb]\nmin_score = 2\n", "kb.min_score = 2 should be between 0 and 1"),
    (BASE + "[kb]\nindex = 'x'\n", "unknown key kb.index"),
    (BASE + "[[imap]]\nhost = 'h'\nusername = 'u'\npassword = 'p'\nport = 70000\n",
     "imap[0].port = 70000 should be 65535 or less"),
    (BASE + "[[imap]]\nhost = 'h'\nusername = 'u'\npassword = 'p'\nname = 'a b'\n",
     "imap[0].name = 'a b' should be 1-27 letters, digits, . - or _"),
    (BASE + "[autoclose]\nreminders = [0.5, 2]\n",
     "autoclose.reminders[1] = 2 should be a fraction between 0 and 1, e.g. 0.5"),
    (BASE + "[sla_defaults]\nwarn_at = 1\n", "sla_defaults.warn_at = 1 should be a fraction between 0 and 1, e.g. 0.8"),
    (BASE + "[[categories]]\nname = 'x'\ntitle = { de = 'X' }\n",
     "categories[0].title = {'de': 'X'} should be a table of titles by language (en, uk, ru)"),
    (BASE + "[calendars.office]\nholidays = ['2026-01-01', 'soon']\n",
     "calendars.office.holidays = 'soon' should be a date such as 2026-12-25"),
])
def test_one_fault_one_line(tmp_path: Path, text: str, line: str) -> None:
    # Scenario: each kind of fault pydantic or a hand-written check finds reads as the house phrase.
    assert _lines(tmp_path, text) == [line]


def test_priority_names_are_the_domain_priorities() -> None:
    # Scenario: the Literal the config declares priorities with is the domain's list of priorities.
    assert typing.get_args(PriorityName) == tuple(p.value for p in Priority)
