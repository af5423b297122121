"""maildesk.conf.example shows every key the loader accepts, with its default.

The keys and defaults come from the settings declarations (and the loader's tables of keys the
file places differently), so a key added to a settings class fails here until it is documented.
"""

from __future__ import annotations

import tomllib
import typing
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import pytest

from maildesk.config import (
    AutocloseRule,
    CalendarSettings,
    CategorySettings,
    ImapAccount,
    QueueSettings,
    RoutingSettings,
    Settings,
    SlaRow,
    SlaSettings,
    load,
    loader,
)
from maildesk.config.fields import BUILT

EXAMPLE = Path(__file__).resolve().parents[3] / "maildesk.conf.example"
REQUIRED = object()
# The example points [kb] at the shipped articles, so a desk started from it suggests some.
SHOWN_OTHERWISE = {"kb.path": "examples/kb"}


def _keys(kind: type[Any]) -> dict[str, Any]:
    """File key → default (REQUIRED when there is none) of each attribute `kind` reads from its
    table (not those BUILT from other sections)."""
    hints = typing.get_type_hints(kind, include_extras=True)
    out = {}
    for f in fields(kind):
        metadata = getattr(hints[f.name], "__metadata__", ())
        if BUILT in metadata:
            continue
        aliases = [getattr(m, "validation_alias", None) for m in metadata]
        default = f.default if f.default is not MISSING else (
            f.default_factory() if f.default_factory is not MISSING else REQUIRED)
        out[next((a for a in aliases if a), f.name)] = default
    return out


def _sections() -> dict[str, type[Any]]:
    hints = typing.get_type_hints(Settings)
    return {section: hints[section] for section in loader.SECTIONS} | {
        "rules_defaults": RoutingSettings, "sla_defaults": SlaSettings, "autoclose": AutocloseRule,
        "imap": ImapAccount}


def accepted_keys() -> dict[str, Any]:
    """Every `section.key` of a table with defaults that load() accepts, with its default."""
    keys = {f"{section}.{key}": default for section, kind in _sections().items()
            for key, default in _keys(kind).items()
            if f"{section}.{key}" not in loader.NOT_IN_FILE}
    for key, attribute in loader.MOVED.items():
        kind: type[Any] = Settings
        *parents, name = attribute.split(".")
        for parent in parents:
            kind = typing.get_type_hints(kind)[parent]
        keys[key] = _keys(kind)[name]
    return keys | loader.FILE_ONLY


def _example_tables() -> dict[str, Any]:
    text = EXAMPLE.read_text(encoding="utf-8")
    tables = tomllib.loads(text)
    # The [[imap]] section is shown commented out (there is no mailbox by default).
    lines = text.split("# [[imap]]\n", 1)[1].splitlines()
    block = [line.removeprefix("#").removeprefix(" ") for line in lines[:next(
        i for i, line in enumerate(lines) if not line.startswith("#"))]]
    return tables | {"imap": tomllib.loads("\n".join(block))}


def _as_written(default: Any) -> Any:
    if default is None:
        return ""
    if isinstance(default, Path):
        return str(default)
    if isinstance(default, tuple):
        return [_as_written(item) for item in default]
    return default


@pytest.mark.parametrize(("key", "default"), sorted(accepted_keys().items(), key=lambda kv: kv[0]),
                         ids=sorted(accepted_keys()))
def test_example_shows_key_with_default(key: str, default: Any) -> None:
    # Scenario: each key of a table is in the example, set to its default (or any value if required).
    section, name = key.split(".")
    table = _example_tables().get(section, {})
    assert name in table, f"{key} is missing from maildesk.conf.example"
    written = table[name]
    if isinstance(default, tuple) and isinstance(written, str):
        written = [written]  # one value written for a list of one
    if default is not REQUIRED:
        assert written == SHOWN_OTHERWISE.get(key, _as_written(default)), key


@pytest.mark.parametrize(("section", "kind"), [
    ("calendars", CalendarSettings), ("queues", QueueSettings), ("categories", CategorySettings),
    ("sla", SlaRow)])
def test_example_uses_every_key_of_repeated_tables(section: str, kind: type[Any]) -> None:
    # Scenario: calendars, queues, categories and SLA rows are examples; each key is used in one.
    entries = _example_tables()[section]
    used = set().union(*(entries.values() if isinstance(entries, dict) else entries))
    declared = set(_keys(kind)) - ({"name"} if section == "calendars" else set())
    assert declared <= used, f"never shown: {sorted(declared - used)}"


def test_accepted_keys_are_derived_from_the_declarations() -> None:
    # Scenario: the derived list has the keys moved, split or added by the loader and none it refuses.
    keys = accepted_keys()
    assert {"smtp.listen", "log.level", "kb.min_score", "desk.status_address", "imap.password_env",
            "rules_defaults.importance_high", "sla_defaults.warn_at", "autoclose.reminders"} <= set(keys)
    assert not {"smtp.host", "smtp.port", "desk.status", "rules_defaults.rules"} & set(keys)
    assert keys["broker.worker_threads"] == 4 and keys["desk.address"] is REQUIRED


def test_example_loads_with_its_documented_values() -> None:
    # Scenario: the example, as shipped, loads into the declared defaults where it shows them.
    settings = load(EXAMPLE, {})
    assert settings.agents.proofs == ("token",) and settings.metrics.address is None
    assert settings.selfservice.status_address == ""
