"""Read one TOML file into Settings: tomllib, then each part validated (types, defaults, bounds
and enumerations by pydantic through faults.py; references between sections and the rules
grammar by hand), then the defaults that live in data_dir.

Every fault is collected, so one ConfigError lists them all, one a line, each naming the file, the
key and the value.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from maildesk.config.faults import Faults
from maildesk.config.fields import parse_listen
from maildesk.config.imap import imap_accounts
from maildesk.config.model import DatabaseSettings, Settings
from maildesk.config.peek import DEFAULT_FILE, ENV_VAR, config_path
from maildesk.config.routing import build_routing
from maildesk.config.secret import password_from_env
from maildesk.config.sla import build_sla
from maildesk.errors import ConfigError

__all__ = ["DEFAULT_FILE", "ENV_VAR", "config_path", "load"]

# [section] tables read into the Settings attribute of the same name.
SECTIONS = ("desk", "database", "broker", "metrics", "smtp", "outbound", "tickets", "agents", "sweep",
            "brakes", "abuse", "satisfaction")
# Keys that Settings keeps elsewhere than the file does: file key → attribute.
MOVED = {
    "log.level": "log_level",
    "desk.status_address": "selfservice.status_address",
    "kb.path": "selfservice.kb_path",
    "kb.suggestions": "selfservice.suggestions",
    "kb.min_score": "selfservice.min_score",
    "macros.path": "selfservice.macros_path",
}
# Keys of the file that are no attribute, with their defaults: listen gives smtp.host and
# smtp.port (which the file cannot set on their own), password_env gives the password.
FILE_ONLY = {"smtp.listen": "127.0.0.1:8025", "outbound.password_env": "", "imap.password_env": ""}
NOT_IN_FILE = ("smtp.host", "smtp.port")
# Sections read by their own step: arrays of tables and the tables that go with them.
OWN_STEP = ("imap", "calendars", "queues", "categories", "rules", "rules_defaults", "sla", "sla_defaults",
            "autoclose")
_MOVED_ONLY = ("log", "kb", "macros")
KNOWN_SECTIONS = (*SECTIONS, *_MOVED_ONLY, *OWN_STEP)


def load(path: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the file at `path`; ConfigError lists every fault, each naming its key."""
    env = os.environ if environ is None else environ
    data = _read(path)
    faults = Faults(path)
    routing = build_routing(data, data.get("rules_defaults", {}), faults)
    settings = faults.check(Settings, "", _plain_sections(data, faults.base, env, faults),
                            names={attribute: key for key, attribute in MOVED.items()},
                            path=path.resolve(), imap=imap_accounts(data.get("imap", []), env, faults),
                            routing=routing, sla=build_sla(data, routing, faults))
    return _in_data_dir(faults.result(settings))


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file (copy maildesk.conf.example)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def _plain_sections(data: dict[str, Any], base: Path, env: Mapping[str, str],
                    faults: Faults) -> dict[str, Any]:
    """The sections read straight into Settings, laid out as Settings is: MOVED keys moved,
    `listen` split, `password_env` read, a relative Maildir resolved beside the file."""
    for section in data:
        if section not in KNOWN_SECTIONS:
            faults.add(f"unknown section [{section}] (known: {', '.join(KNOWN_SECTIONS)})")
    shaped = {s: dict(t) if isinstance(t := data.get(s, {}), dict) else t for s in SECTIONS}
    _move(data, shaped, faults)
    if isinstance(shaped["smtp"], dict):
        _listen(shaped["smtp"], faults)
    if isinstance(shaped["outbound"], dict):
        password_from_env(shaped["outbound"], "outbound", env, faults)
        url = shaped["outbound"].get("url")
        if isinstance(url, str) and url.startswith("maildir:"):
            shaped["outbound"]["url"] = "maildir:" + str((base / url.removeprefix("maildir:")).resolve())
    return shaped


def _move(data: dict[str, Any], shaped: dict[str, Any], faults: Faults) -> None:
    for key, attribute in MOVED.items():
        section, name = key.split(".")
        table = shaped.get(section, data.get(section))
        if isinstance(table, dict) and name in table:
            value = table.pop(name) if section in SECTIONS else table[name]
            *parents, last = attribute.split(".")
            target = shaped
            for parent in parents:
                target = target.setdefault(parent, {})
            target[last] = value
    for section in _MOVED_ONLY:
        table = data.get(section, {})
        if not isinstance(table, dict):
            faults.wrong(section, table, "a table")
            continue
        for name in table:
            if f"{section}.{name}" not in MOVED:
                faults.add(f"unknown key {section}.{name}")


def _listen(smtp: dict[str, Any], faults: Faults) -> None:
    for key in NOT_IN_FILE:
        if key.removeprefix("smtp.") in smtp:
            faults.add(f"unknown key {key}")
    listen = smtp.pop("listen", FILE_ONLY["smtp.listen"])
    host_port = parse_listen(listen) if isinstance(listen, str) else None
    if host_port is None:
        faults.wrong("smtp.listen", listen, "HOST:PORT, e.g. 127.0.0.1:8025")
    smtp["host"], smtp["port"] = host_port or ("", 0)


def _in_data_dir(settings: Settings) -> Settings:
    """An empty database url is SQLite in data_dir, an empty outbound url a Maildir there."""
    data_dir = settings.desk.data_dir
    database = settings.database.url or f"sqlite:///{data_dir / 'maildesk.sqlite3'}"
    outbound = settings.outbound.url or f"maildir:{data_dir / 'outbox'}"
    return replace(settings, database=DatabaseSettings(database),
                   outbound=replace(settings.outbound, url=outbound))
