"""Config errors in calendars, queues, categories and rules name the file, the key and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk import config
from maildesk.errors import ConfigError

BASE = '[desk]\naddress = "support@example.org"\n[[categories]]\nname = "hardware"\n' \
       '[[queues]]\nname = "general"\naddresses = ["support@example.org"]\n'


def _load(tmp_path: Path, extra: str) -> config.Settings:
    path = tmp_path / "maildesk.conf"
    path.write_text(BASE + extra, encoding="utf-8")
    return config.load(path)


def _error(tmp_path: Path, extra: str) -> str:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, extra)
    return str(caught.value)


def test_example_config_loads() -> None:
    # The shipped example, with its three queues, five categories and rules, is valid.
    settings = config.load(Path(__file__).parents[3] / "maildesk.conf.example")
    assert [q.name for q in settings.routing.queues] == ["general", "billing", "services"]
    assert len(settings.routing.categories) == 6 and settings.routing.categories[-1].name == "other"


def test_other_category_always_exists(tmp_path: Path) -> None:
    # "other" is added when the config does not declare it.
    assert [c.name for c in _load(tmp_path, "").routing.categories] == ["hardware", "other"]


def test_bad_priority_names_rule_key(tmp_path: Path) -> None:
    # A misspelt priority names rules[0].then.priority and the rule.
    msg = _error(tmp_path, '[[rules]]\nname = "x"\nthen = { priority = "hgh" }\n')
    assert "rules[0].then.priority = 'hgh'" in msg and "rule 'x'" in msg and "maildesk.conf" in msg


def test_bad_regex_names_its_position(tmp_path: Path) -> None:
    # An unbalanced regex inside a group is reported at rules[0].when.all[1].regex.
    msg = _error(tmp_path, '[[rules]]\nname = "r"\nwhen = { all = [{ field = "subject", match = "a" }, '
                           '{ field = "body", regex = "(" }] }\nthen = { priority = "high" }\n')
    assert "rules[0].when.all[1].regex = '('" in msg and "not a valid regular expression" in msg


def test_every_bad_rule_is_reported_one_line_each(tmp_path: Path) -> None:
    # Two faulty rules give two lines, each naming its rule.
    msg = _error(tmp_path, '[[rules]]\nname = "a"\nthen = { queue = "nowhere" }\n'
                           '[[rules]]\nname = "b"\nthen = { category = "nothing" }\n')
    lines = msg.splitlines()
    assert len(lines) == 2
    assert "rules[0].then.queue = 'nowhere'" in lines[0] and "rule 'a'" in lines[0]
    assert "rules[1].then.category = 'nothing'" in lines[1] and "rule 'b'" in lines[1]


def test_unknown_condition_field_and_key(tmp_path: Path) -> None:
    # An unknown field value and an unknown condition key are both named.
    assert "rules[0].when.field = 'sender'" in _error(
        tmp_path, '[[rules]]\nname = "a"\nwhen = { field = "sender", match = "x" }\nthen = { spam = true }\n')
    assert "unknown key rules[0].when.regexp" in _error(
        tmp_path, '[[rules]]\nname = "a"\nwhen = { field = "body", regexp = "x" }\nthen = { spam = true }\n')


def test_match_and_regex_together_are_refused(tmp_path: Path) -> None:
    # A condition needs exactly one of match or regex.
    assert "exactly one of match" in _error(
        tmp_path, '[[rules]]\nname = "a"\nwhen = { field = "body", match = "x", regex = "y" }\n'
                  'then = { spam = true }\n')


def test_header_condition_needs_header_name(tmp_path: Path) -> None:
    # field = "header" without a header name is refused at that key.
    assert "rules[0].when.header = None" in _error(
        tmp_path, '[[rules]]\nname = "a"\nwhen = { field = "header", match = "x" }\n'
                  'then = { spam = true }\n')


def test_duplicate_rule_name_and_missing_then(tmp_path: Path) -> None:
    # Rule names are unique and every rule needs a then.
    assert "used by an earlier rule" in _error(
        tmp_path, '[[rules]]\nname = "a"\nthen = { spam = true }\n'
                  '[[rules]]\nname = "a"\nthen = { spam = true }\n')
    assert "rules[0].then is required" in _error(tmp_path, '[[rules]]\nname = "a"\n')


def test_hours_condition_calendar_must_exist(tmp_path: Path) -> None:
    # An hours condition naming an undeclared calendar is refused.
    assert "rules[0].when.calendar = 'night'" in _error(
        tmp_path, '[[rules]]\nname = "a"\nwhen = { field = "hours", match = "outside", calendar = "night" }\n'
                  'then = { priority = "high" }\n')


def test_queue_errors_name_the_queue_key(tmp_path: Path) -> None:
    # Queue references to unknown calendars and categories, and shared addresses, name queues[i].
    assert "queues[1].calendar = 'office'" in _error(
        tmp_path, '[[queues]]\nname = "b"\ncalendar = "office"\n')
    assert "queues[1].default_category = 'x'" in _error(
        tmp_path, '[[queues]]\nname = "b"\ndefault_category = "x"\n')
    assert "already belongs to queue general" in _error(
        tmp_path, '[[queues]]\nname = "b"\naddresses = ["SUPPORT@example.org"]\n')


def test_calendar_errors_name_the_calendar_key(tmp_path: Path) -> None:
    # A bad time zone and bad holiday dates name calendars.NAME.key.
    assert "calendars.office.tz = 'Mars/Base'" in _error(tmp_path, '[calendars.office]\ntz = "Mars/Base"\n')
    bad_date = '[calendars.office]\nholidays = ["soon"]\n'
    assert "calendars.office.holidays = 'soon'" in _error(tmp_path, bad_date)


def test_rules_defaults_section(tmp_path: Path) -> None:
    # [rules_defaults] importance_high = false turns the built-in importance rule off.
    assert _load(tmp_path, "[rules_defaults]\nimportance_high = false\n").routing.importance_high is False
    assert "rules_defaults.importance_high" in _error(tmp_path, "[rules_defaults]\nimportance_high = 1\n")
