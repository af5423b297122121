"""Load one TOML file into frozen settings, validated at start.

Every key has a default except ``[desk] address``. Unknown sections and keys,
and values of the wrong type or shape, raise :class:`ConfigError` naming the
file, the section and the key, so an admin can fix it without reading code.
Relative paths are relative to the directory of the config file.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from maildesk.domain import Priority
from maildesk.errors import ConfigError

ENV_VAR = "MAILDESK_CONFIG"
DEFAULT_FILE = "maildesk.conf"
LANGUAGES = ("en", "uk", "ru")


@dataclass(frozen=True)
class DeskSettings:
    """Who the desk is: its name, its address and where it keeps its data."""

    name: str
    address: str
    aliases: tuple[str, ...]
    instance: str
    language: str
    secret: str
    data_dir: Path
    templates_dir: Path | None
    # Where alerts about the desk itself go (a mailbox failing for too long); "" = log only.
    admin: str = ""

    @property
    def domain(self) -> str:
        """The domain of the support address, used for our Message-IDs."""
        return self.address.rpartition("@")[2].lower()

    @property
    def own_addresses(self) -> frozenset[str]:
        """Our addresses, lowercased, for loop checks and participant lists."""
        return frozenset(a.lower() for a in (self.address, *self.aliases))


@dataclass(frozen=True)
class DatabaseSettings:
    """Where the source of truth lives."""

    url: str


@dataclass(frozen=True)
class BrokerSettings:
    """Which queue carries "look at row N" messages, and how many threads work it."""

    url: str
    worker_threads: int
    # `maildesk worker` starts this many processes (each with worker_threads threads).
    processes: int = 1
    # Embedded broker only: `maildesk serve` runs the workers in one child process, so the listener
    # and the pipeline each have a core (the GIL lets one process use only one).
    pipeline_process: bool = True


@dataclass(frozen=True)
class MetricsSettings:
    """Where the Prometheus endpoint listens; empty means no endpoint."""

    listen: str = ""

    @property
    def address(self) -> tuple[str, int] | None:
        """(host, port) to serve on, or None when metrics are off."""
        if not self.listen:
            return None
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


@dataclass(frozen=True)
class SmtpSettings:
    """The SMTP or LMTP listener."""

    host: str
    port: int
    lmtp: bool
    max_message_size: int
    enabled: bool


@dataclass(frozen=True)
class OutboundSettings:
    """Where composed mail goes and how often a failed delivery is retried."""

    url: str
    username: str
    password: str
    timeout: float
    max_attempts: int
    retry_base_seconds: int


@dataclass(frozen=True)
class TicketSettings:
    """How replies move tickets."""

    reopen_closed_days: int


@dataclass(frozen=True)
class SweepSettings:
    """The periodic recovery of rows left unfinished."""

    interval_seconds: float
    stuck_after_seconds: float
    max_process_attempts: int


@dataclass(frozen=True)
class AgentSettings:
    """Who hears about what, and which proofs make a mail an agent's action."""

    notify: str = "queue"
    proofs: tuple[str, ...] = ("token",)
    trusted_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    """The whole validated configuration, passed explicitly to whoever needs it."""

    path: Path
    desk: DeskSettings
    database: DatabaseSettings
    broker: BrokerSettings
    smtp: SmtpSettings
    outbound: OutboundSettings
    tickets: TicketSettings
    sweep: SweepSettings
    log_level: str
    agents: AgentSettings = AgentSettings()
    imap: tuple[ImapAccount, ...] = ()
    metrics: MetricsSettings = MetricsSettings()
    # A factory because RoutingSettings is defined further down, with the code that reads it.
    routing: RoutingSettings = field(default_factory=lambda: RoutingSettings())
    # SLA targets, escalation and auto-closure (docs/sla.md); defined with the code that reads them.
    sla: SlaSettings = field(default_factory=lambda: SlaSettings())
    # Knowledge base, macros and the status address (docs/self-service.md); defined further down.
    selfservice: SelfServiceSettings = field(default_factory=lambda: SelfServiceSettings())


# One entry per key: (expected type(s), default). `None` as default means required.
_Spec = tuple[type | tuple[type, ...], Any]
SCHEMA: dict[str, dict[str, _Spec]] = {
    "desk": {
        "name": (str, "Support"),
        "address": (str, None),
        "aliases": (list, []),
        "instance": (str, ""),
        "language": (str, "en"),
        "secret": (str, ""),
        "data_dir": (str, "var"),
        "templates_dir": (str, ""),
        "admin": (str, ""),
        "status_address": (str, ""),
    },
    "database": {"url": (str, "")},
    "broker": {"url": (str, "embedded"), "worker_threads": (int, 4), "processes": (int, 1),
               "pipeline_process": (bool, True)},
    "metrics": {"listen": (str, "")},
    "smtp": {
        "enabled": (bool, True),
        "listen": (str, "127.0.0.1:8025"),
        "lmtp": (bool, False),
        "max_message_size": (int, 25 * 1024 * 1024),
    },
    "outbound": {
        "url": (str, ""),
        "username": (str, ""),
        "password": (str, ""),
        "password_env": (str, ""),
        "timeout": ((int, float), 30),
        "max_attempts": (int, 12),
        "retry_base_seconds": (int, 30),
    },
    "tickets": {"reopen_closed_days": (int, 7)},
    "agents": {"notify": (str, "queue"), "proofs": (list, ["token"]), "trusted_hosts": (list, [])},
    "sweep": {
        "interval_seconds": ((int, float), 60),
        "stuck_after_seconds": ((int, float), 120),
        "max_process_attempts": (int, 3),
    },
    "log": {"level": (str, "INFO")},
    "rules_defaults": {"importance_high": (bool, True)},
    "kb": {"path": (str, ""), "suggestions": (int, 3), "min_score": ((int, float), 0.35)},
    "macros": {"path": (str, "")},
}

_ADDRESS = re.compile(r"^[^@\s<>\"(),;:\\\[\]]+@[A-Za-z0-9.-]+\.?[A-Za-z0-9-]*$")
_LISTEN = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\s]+)):(?P<port>\d{1,5})$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def config_path(explicit: str | None, environ: Mapping[str, str]) -> Path:
    """The config file to read: the option, then $MAILDESK_CONFIG, then ./maildesk.conf."""
    return Path(explicit or environ.get(ENV_VAR) or DEFAULT_FILE)


def load(path: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the file at `path`; raise ConfigError naming the key on any fault."""
    env = os.environ if environ is None else environ
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file (copy maildesk.conf.example)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    tables = {k: v for k, v in data.items()
              if k not in TABLE_ARRAYS and k not in ROUTING_SECTIONS and k not in SLA_SECTIONS}
    values = _checked(path, tables)
    settings = _build(path.resolve(), values, env)
    settings = replace(settings, routing=routing_settings(path, data, values["rules_defaults"]))
    settings = replace(settings, sla=sla_settings(path, data, settings.routing))
    settings = replace(settings, selfservice=selfservice_settings(path, values))
    return replace(settings, imap=_imap_accounts(path, data.get("imap", []), path.resolve().parent, env))


def _checked(path: Path, data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every known section with every key filled in; unknown names and bad types raise."""
    out: dict[str, dict[str, Any]] = {}
    for section in data:
        if section not in SCHEMA:
            raise ConfigError(f"{path}: unknown section [{section}] (known: {', '.join(SCHEMA)})")
        if not isinstance(data[section], dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
    for section, keys in SCHEMA.items():
        given = data.get(section, {})
        for key in given:
            if key not in keys:
                raise ConfigError(f"{path}: unknown key {section}.{key}")
        out[section] = {key: _value(path, section, key, spec, given) for key, spec in keys.items()}
    return out


def _value(path: Path, section: str, key: str, spec: _Spec, given: Mapping[str, Any]) -> Any:
    kind, default = spec
    if key not in given:
        if default is None:
            raise ConfigError(f"{path}: {section}.{key} is required")
        return default
    value = given[key]
    # bool is an int in Python; a flag written as 1 or an int written as true is a mistake.
    wrong_bool = isinstance(value, bool) != (kind is bool)
    if not isinstance(value, kind) or wrong_bool:
        raise ConfigError(f"{path}: {section}.{key} = {value!r} should be {_type_name(kind)}")
    return value


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _build(path: Path, v: dict[str, dict[str, Any]], env: Mapping[str, str]) -> Settings:
    base = path.parent
    desk = _desk(path, v["desk"], base)
    host, port = _listen(path, v["smtp"]["listen"])
    return Settings(
        path=path,
        desk=desk,
        database=DatabaseSettings(url=_database_url(v["database"]["url"], desk.data_dir)),
        broker=BrokerSettings(
            url=_broker_url(path, v["broker"]["url"]),
            worker_threads=_positive(path, "broker.worker_threads", v["broker"]["worker_threads"]),
            processes=_positive(path, "broker.processes", v["broker"]["processes"]),
            pipeline_process=v["broker"]["pipeline_process"],
        ),
        metrics=_metrics(path, v["metrics"]["listen"]),
        smtp=SmtpSettings(
            host=host,
            port=port,
            lmtp=v["smtp"]["lmtp"],
            max_message_size=_positive(path, "smtp.max_message_size", v["smtp"]["max_message_size"]),
            enabled=v["smtp"]["enabled"],
        ),
        outbound=_outbound(path, v["outbound"], desk.data_dir, base, env),
        tickets=TicketSettings(
            reopen_closed_days=_not_negative(path, "tickets.reopen_closed_days",
                                             v["tickets"]["reopen_closed_days"]),
        ),
        sweep=SweepSettings(
            interval_seconds=float(_positive(path, "sweep.interval_seconds", v["sweep"]["interval_seconds"])),
            stuck_after_seconds=float(
                _not_negative(path, "sweep.stuck_after_seconds", v["sweep"]["stuck_after_seconds"])),
            max_process_attempts=_positive(path, "sweep.max_process_attempts",
                                           v["sweep"]["max_process_attempts"]),
        ),
        log_level=_log_level(path, v["log"]["level"]),
        agents=_agents(path, v["agents"]),
    )


AGENT_NOTIFY = ("all", "assignee", "queue")
AGENT_PROOFS = ("token", "dkim", "auth-results")


def _agents(path: Path, a: dict[str, Any]) -> AgentSettings:
    if a["notify"] not in AGENT_NOTIFY:
        known = ", ".join(AGENT_NOTIFY)
        raise ConfigError(f"{path}: agents.notify = {a['notify']!r} should be one of {known}")
    for proof in a["proofs"]:
        if proof not in AGENT_PROOFS:
            raise ConfigError(f"{path}: agents.proofs has {proof!r}; known: {', '.join(AGENT_PROOFS)}")
    if not all(isinstance(h, str) and h for h in a["trusted_hosts"]):
        raise ConfigError(f"{path}: agents.trusted_hosts should be a list of host names")
    return AgentSettings(notify=a["notify"], proofs=tuple(a["proofs"]),
                         trusted_hosts=tuple(a["trusted_hosts"]))


def _desk(path: Path, d: dict[str, Any], base: Path) -> DeskSettings:
    address = _address(path, "desk.address", d["address"])
    aliases = tuple(_address(path, "desk.aliases", a) for a in d["aliases"])
    if d["language"] not in LANGUAGES:
        known = ", ".join(LANGUAGES)
        raise ConfigError(f"{path}: desk.language = {d['language']!r} should be one of {known}")
    if not re.fullmatch(r"[A-Za-z0-9_-]{0,32}", d["instance"]):
        raise ConfigError(f"{path}: desk.instance = {d['instance']!r} should be letters, digits, - or _")
    return DeskSettings(
        name=d["name"],
        address=address,
        aliases=aliases,
        instance=d["instance"],
        language=d["language"],
        secret=d["secret"],
        data_dir=(base / d["data_dir"]).resolve(),
        templates_dir=(base / d["templates_dir"]).resolve() if d["templates_dir"] else None,
        admin=_address(path, "desk.admin", d["admin"]) if d["admin"] else "",
    )


def _address(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise ConfigError(f"{path}: {key} = {value!r} is not a mail address like support@example.org")
    return value


def _listen(path: Path, value: str) -> tuple[str, int]:
    m = _LISTEN.match(value)
    port = int(m["port"]) if m else 0
    if not m or not 0 < port < 65536:
        raise ConfigError(f"{path}: smtp.listen = {value!r} should be HOST:PORT, e.g. 127.0.0.1:8025")
    return (m["v6"] or m["host"]), port


def _database_url(url: str, data_dir: Path) -> str:
    if url:
        return url
    return f"sqlite:///{data_dir / 'maildesk.sqlite3'}"


def _metrics(path: Path, listen: str) -> MetricsSettings:
    if listen and not _LISTEN.match(listen):
        raise ConfigError(f"{path}: metrics.listen = {listen!r} should be HOST:PORT, e.g. 127.0.0.1:9191")
    return MetricsSettings(listen=listen)


def _broker_url(path: Path, url: str) -> str:
    if url == "embedded" or url.startswith(("redis://", "rediss://", "amqp://", "amqps://")):
        return url
    raise ConfigError(f"{path}: broker.url = {url!r} should be embedded, redis://… or amqp://…")


def _outbound(
    path: Path, o: dict[str, Any], data_dir: Path, base: Path, env: Mapping[str, str]
) -> OutboundSettings:
    url = o["url"] or f"maildir:{data_dir / 'outbox'}"
    if url.startswith("maildir:"):
        url = "maildir:" + str((base / url.removeprefix("maildir:")).resolve())
    elif not url.startswith(("smtp://", "smtp+starttls://", "smtps://")):
        raise ConfigError(
            f"{path}: outbound.url = {url!r} should be maildir:PATH, smtp://, smtp+starttls:// or smtps://")
    password = o["password"]
    if o["password_env"]:
        if o["password_env"] not in env:
            raise ConfigError(f"{path}: outbound.password_env names ${o['password_env']}, which is not set")
        password = env[o["password_env"]]
    return OutboundSettings(
        url=url,
        username=o["username"],
        password=password,
        timeout=float(_positive(path, "outbound.timeout", o["timeout"])),
        max_attempts=_positive(path, "outbound.max_attempts", o["max_attempts"]),
        retry_base_seconds=_positive(path, "outbound.retry_base_seconds", o["retry_base_seconds"]),
    )


def _log_level(path: Path, value: str) -> str:
    if value.upper() not in _LOG_LEVELS:
        raise ConfigError(f"{path}: log.level = {value!r} should be one of {', '.join(_LOG_LEVELS)}")
    return value.upper()


def _positive(path: Path, key: str, value: Any) -> Any:
    return _bounded(path, key, value, lambda x: x > 0, "greater than 0")


def _not_negative(path: Path, key: str, value: Any) -> Any:
    return _bounded(path, key, value, lambda x: x >= 0, "0 or more")


def _bounded(path: Path, key: str, value: Any, ok: Callable[[Any], bool], what: str) -> Any:
    if not ok(value):
        raise ConfigError(f"{path}: {key} = {value!r} should be {what}")
    return value


def resolve_secret(settings: Settings) -> str:
    """The HMAC secret: the configured one, else one kept in data_dir/secret (made on first use)."""
    if settings.desk.secret:
        return settings.desk.secret
    keyfile = settings.desk.data_dir / "secret"
    if keyfile.exists():
        return keyfile.read_text(encoding="ascii").strip()
    keyfile.parent.mkdir(parents=True, exist_ok=True)
    # Write aside and link into place, so a concurrent first start never reads a half-written key.
    tmp = keyfile.with_name(f"secret.{os.getpid()}.tmp")
    tmp.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
    tmp.chmod(0o600)
    try:
        os.link(tmp, keyfile)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return keyfile.read_text(encoding="ascii").strip()


# ---------------------------------------------------------------------------
# Calendars, queues, categories and rules. These sections are tables of tables
# or arrays of tables, so they are checked here, with the position in the key
# (`rules[3].when.all[0].regex`), rather than by SCHEMA. Every faulty rule is
# reported (one line each) so `maildesk rules check` can list them all at once.

ROUTING_SECTIONS = ("calendars", "queues", "categories", "rules")
DEFAULT_CALENDAR = "default"
OTHER_CATEGORY = "other"
PRIORITIES = tuple(p.value for p in Priority)
TICKET_TYPES = ("request", "incident")
TEXT_FIELDS = ("subject", "body", "text", "header")
ADDRESS_FIELDS = ("recipient", "to_cc", "from", "from_domain")
CONDITION_FIELDS = (*ADDRESS_FIELDS, *TEXT_FIELDS, "attachment", "hours")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TEMPLATE = re.compile(r"^[a-z0-9_][a-z0-9_/-]{0,63}$")
_CONDITION_KEYS = frozenset({"field", "match", "regex", "not", "case_sensitive", "header", "calendar",
                             "all", "any"})
_ACTION_KEYS = frozenset({"queue", "category", "type", "priority", "assignee", "tags", "tier", "language",
                          "suppress_ack", "spam", "notify"})
_RULE_KEYS = frozenset({"name", "description", "when", "then", "stop", "on_followups"})


@dataclass(frozen=True)
class CalendarSettings:
    """Working hours as written in `[calendars.NAME]`; turned into a Calendar by maildesk.policy."""

    name: str
    tz: str
    hours: tuple[tuple[str, str], ...] | str
    holidays_country: str
    holidays_subdiv: str
    holidays: tuple[date, ...]
    extra_working_days: tuple[date, ...]


@dataclass(frozen=True)
class QueueSettings:
    """One `[[queues]]` entry: the support addresses it owns and what its tickets start with."""

    name: str
    addresses: tuple[str, ...]
    agents: tuple[str, ...]
    calendar: str
    default_category: str
    default_priority: str


@dataclass(frozen=True)
class CategorySettings:
    """One `[[categories]]` entry; `titles` pairs a language with the title shown in it."""

    name: str
    titles: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ConditionSettings:
    """One test of a rule's `when`, or an `all`/`any` group of tests; `key` locates it in the file."""

    key: str
    field: str = ""
    group: str = ""
    children: tuple[ConditionSettings, ...] = ()
    header: str = ""
    patterns: tuple[str, ...] = ()
    regex: bool = False
    case_sensitive: bool = False
    negate: bool = False
    calendar: str = ""


@dataclass(frozen=True)
class NotifySettings:
    """Send `template` about the ticket to the address `to`."""

    to: str
    template: str


@dataclass(frozen=True)
class ActionSettings:
    """A rule's `then`: None (or empty, or False) leaves that field alone."""

    queue: str | None = None
    category: str | None = None
    type: str | None = None
    priority: str | None = None
    assignee: str | None = None
    tier: str | None = None
    language: str | None = None
    tags: tuple[str, ...] = ()
    suppress_ack: bool = False
    spam: bool = False
    notify: tuple[NotifySettings, ...] = ()


@dataclass(frozen=True)
class RuleSettings:
    """One `[[rules]]` entry; `when` None means every mail."""

    key: str
    name: str
    description: str
    when: ConditionSettings | None
    then: ActionSettings
    stop: bool
    on_followups: bool


@dataclass(frozen=True)
class RoutingSettings:
    """Everything that routes, classifies and prioritises a request."""

    calendars: tuple[CalendarSettings, ...] = ()
    queues: tuple[QueueSettings, ...] = ()
    categories: tuple[CategorySettings, ...] = (CategorySettings(OTHER_CATEGORY, ()),)
    rules: tuple[RuleSettings, ...] = ()
    importance_high: bool = True


def routing_settings(path: Path, data: Mapping[str, Any], defaults: Mapping[str, Any]) -> RoutingSettings:
    """The routing sections of `data`, checked against each other; ConfigError lists every fault."""
    calendars = _calendars(path, data.get("calendars", {}))
    names = {c.name for c in calendars} | {DEFAULT_CALENDAR}
    categories = _categories(path, data.get("categories", []))
    known_categories = {c.name for c in categories}
    queues = _queues(path, data.get("queues", []), names, known_categories)
    known = _Known(queues=frozenset(q.name for q in queues), categories=frozenset(known_categories),
                   calendars=frozenset(names))
    rules = _rules(path, data.get("rules", []), known)
    return RoutingSettings(calendars=calendars, queues=queues, categories=categories, rules=rules,
                           importance_high=defaults["importance_high"])


@dataclass(frozen=True)
class _Known:
    queues: frozenset[str]
    categories: frozenset[str]
    calendars: frozenset[str]


def _fault(path: Path, key: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(f"{path}: {key} = {value!r} should be {expected}")


def _table(path: Path, key: str, value: Any, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fault(path, key, value, "a table")
    for name in value:
        if name not in allowed:
            raise ConfigError(f"{path}: unknown key {key}.{name} (known: {', '.join(sorted(allowed))})")
    return value


def _typed(path: Path, key: str, table: Mapping[str, Any], name: str, kind: type, default: Any) -> Any:
    return _value(path, key, name, (kind, default), table)


def _array(path: Path, section: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _fault(path, section, value, f"an array of tables ([[{section}]])")
    return value


def _name(path: Path, key: str, value: Any, seen: set[str]) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise _fault(path, key, value, "a name of lowercase letters, digits, - or _")
    if value in seen:
        raise ConfigError(f"{path}: {key} = {value!r} is used twice")
    seen.add(value)
    return value


def _strings(path: Path, key: str, value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(s, str) and s for s in items):
        raise _fault(path, key, value, "a non-empty string or list of non-empty strings")
    return tuple(items)


def _calendars(path: Path, given: Any) -> tuple[CalendarSettings, ...]:
    keys = frozenset({"tz", "hours", "holidays_country", "holidays_subdiv", "holidays", "extra_working_days"})
    if not isinstance(given, dict):
        raise _fault(path, "calendars", given, "a table of [calendars.NAME] tables")
    out = []
    for name, spec in given.items():
        key = f"calendars.{name}"
        _name(path, key, name, set())
        table = _table(path, key, spec, keys)
        out.append(CalendarSettings(
            name=name,
            tz=_zone(path, f"{key}.tz", _typed(path, key, table, "tz", str, "UTC")),
            hours=_hours(path, f"{key}.hours", table.get("hours", "24/7")),
            holidays_country=_typed(path, key, table, "holidays_country", str, ""),
            holidays_subdiv=_typed(path, key, table, "holidays_subdiv", str, ""),
            holidays=_dates(path, f"{key}.holidays", table.get("holidays", [])),
            extra_working_days=_dates(path, f"{key}.extra_working_days", table.get("extra_working_days", [])),
        ))
    return tuple(out)


def _zone(path: Path, key: str, value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _fault(path, key, value, "an IANA time zone such as Europe/Kyiv") from None
    return value


def _hours(path: Path, key: str, value: Any) -> tuple[tuple[str, str], ...] | str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return tuple(value.items())
    raise _fault(path, key, value, '"24/7" or a table like { "mon-fri" = "09:00-18:00" }')


def _dates(path: Path, key: str, value: Any) -> tuple[date, ...]:
    out = []
    for item in value if isinstance(value, list) else [value]:
        try:
            day = item if isinstance(item, date) else date.fromisoformat(item)
        except (TypeError, ValueError):
            raise _fault(path, key, item, "a date such as 2026-12-25") from None
        out.append(day)
    return tuple(out)


def _categories(path: Path, given: Any) -> tuple[CategorySettings, ...]:
    seen: set[str] = set()
    out = []
    for i, spec in enumerate(_array(path, "categories", given)):
        key = f"categories[{i}]"
        table = _table(path, key, spec, frozenset({"name", "title"}))
        name = _name(path, f"{key}.name", table.get("name"), seen)
        titles = table.get("title", {})
        if not isinstance(titles, dict) or not all(k in LANGUAGES and isinstance(v, str)
                                                   for k, v in titles.items()):
            raise _fault(path, f"{key}.title", titles,
                         f"a table of titles by language ({', '.join(LANGUAGES)})")
        out.append(CategorySettings(name=name, titles=tuple(titles.items())))
    if OTHER_CATEGORY not in seen:
        # "Other" always exists: it is where a request no rule recognises lands.
        out.append(CategorySettings(OTHER_CATEGORY, ()))
    return tuple(out)


def _queues(path: Path, given: Any, calendars: set[str], categories: set[str]) -> tuple[QueueSettings, ...]:
    keys = frozenset({"name", "addresses", "agents", "calendar", "default_category", "default_priority"})
    seen: set[str] = set()
    owner: dict[str, str] = {}
    out = []
    for i, spec in enumerate(_array(path, "queues", given)):
        key = f"queues[{i}]"
        table = _table(path, key, spec, keys)
        name = _name(path, f"{key}.name", table.get("name"), seen)
        addresses = tuple(_address(path, f"{key}.addresses", a).lower()
                          for a in _typed(path, key, table, "addresses", list, []))
        for address in addresses:
            if address in owner:
                raise ConfigError(
                    f"{path}: {key}.addresses: {address} already belongs to queue {owner[address]}")
            owner[address] = name
        out.append(QueueSettings(
            name=name,
            addresses=addresses,
            agents=tuple(_address(path, f"{key}.agents", a).lower()
                         for a in _typed(path, key, table, "agents", list, [])),
            calendar=_one_of(path, f"{key}.calendar",
                             _typed(path, key, table, "calendar", str, DEFAULT_CALENDAR), calendars),
            default_category=_one_of(path, f"{key}.default_category",
                                     _typed(path, key, table, "default_category", str, OTHER_CATEGORY),
                                     categories),
            default_priority=_one_of(path, f"{key}.default_priority",
                                     _typed(path, key, table, "default_priority", str, "normal"), PRIORITIES),
        ))
    return tuple(out)


def _one_of(path: Path, key: str, value: Any, allowed: Iterable[str]) -> str:
    choices = sorted(allowed) if isinstance(allowed, set | frozenset) else list(allowed)
    if value not in choices:
        raise _fault(path, key, value, "one of " + ", ".join(choices))
    return str(value)


def _rules(path: Path, given: Any, known: _Known) -> tuple[RuleSettings, ...]:
    seen: set[str] = set()
    out: list[RuleSettings] = []
    faults: list[str] = []
    for i, spec in enumerate(_array(path, "rules", given)):
        try:
            out.append(_rule(path, f"rules[{i}]", spec, known, seen))
        except ConfigError as exc:
            faults.append(str(exc))
    if faults:
        raise ConfigError("\n".join(faults))
    return tuple(out)


def _rule(path: Path, key: str, spec: Any, known: _Known, seen: set[str]) -> RuleSettings:
    table = _table(path, key, spec, _RULE_KEYS)
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{path}: {key}.name is required (a short unique name)")
    if name in seen:
        raise ConfigError(f"{path}: {key}.name = {name!r} is used by an earlier rule")
    seen.add(name)
    try:
        when = _condition(path, f"{key}.when", table["when"], known) if "when" in table else None
        if "then" not in table:
            raise ConfigError(f"{path}: {key}.then is required (what the rule sets)")
        return RuleSettings(
            key=key, name=name, description=_typed(path, key, table, "description", str, ""), when=when,
            then=_actions(path, f"{key}.then", table["then"], known),
            stop=_typed(path, key, table, "stop", bool, False),
            on_followups=_typed(path, key, table, "on_followups", bool, False),
        )
    except ConfigError as exc:
        raise ConfigError(f"{exc} (rule {name!r})") from None


def _condition(path: Path, key: str, spec: Any, known: _Known) -> ConditionSettings:
    table = _table(path, key, spec, _CONDITION_KEYS)
    negate = _typed(path, key, table, "not", bool, False)
    groups = [g for g in ("all", "any") if g in table]
    if groups:
        if len(groups) > 1 or set(table) - {"not", groups[0]}:
            raise ConfigError(f"{path}: {key} mixes {groups[0]} with other keys; nest them instead")
        items = table[groups[0]]
        if not isinstance(items, list) or not items:
            raise _fault(path, f"{key}.{groups[0]}", items, "a non-empty list of conditions")
        children = tuple(_condition(path, f"{key}.{groups[0]}[{i}]", c, known) for i, c in enumerate(items))
        return ConditionSettings(key=key, group=groups[0], children=children, negate=negate)
    field = _one_of(path, f"{key}.field", table.get("field"), CONDITION_FIELDS)
    return ConditionSettings(key=key, field=field, negate=negate, **_test(path, key, field, table, known))


def _test(path: Path, key: str, field: str, table: Mapping[str, Any], known: _Known) -> dict[str, Any]:
    """The pattern part of a field condition, checked for what that field needs."""
    if "header" in table and field != "header":
        raise ConfigError(f"{path}: {key}.header only goes with field = \"header\"")
    if "calendar" in table and field != "hours":
        raise ConfigError(f"{path}: {key}.calendar only goes with field = \"hours\"")
    if field == "attachment":
        if "match" in table or "regex" in table:
            raise ConfigError(f"{path}: {key}: field \"attachment\" takes no match or regex (use not = true)")
        return {}
    if field == "hours":
        return {"patterns": (_one_of(path, f"{key}.match", table.get("match"), ("inside", "outside")),),
                "calendar": _one_of(path, f"{key}.calendar", table.get("calendar", ""),
                                    {"", *known.calendars})}
    if ("match" in table) == ("regex" in table):
        raise ConfigError(f"{path}: {key} needs exactly one of match (plain text) or regex")
    case_sensitive = _typed(path, key, table, "case_sensitive", bool, False)
    is_regex = "regex" in table
    kind = "regex" if is_regex else "match"
    patterns = _strings(path, f"{key}.{kind}", table[kind])
    if is_regex:
        for pattern in patterns:
            _regex(path, f"{key}.regex", pattern, case_sensitive)
    header: Any = ""
    if field == "header":
        header = table.get("header")
        if not isinstance(header, str) or not re.fullmatch(r"[!-9;-~]+", header):
            raise _fault(path, f"{key}.header", header, "a header name such as X-Priority")
    return {"patterns": patterns, "regex": is_regex, "case_sensitive": case_sensitive, "header": header}


def _regex(path: Path, key: str, pattern: str, case_sensitive: bool) -> None:
    try:
        re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"{path}: {key} = {pattern!r} is not a valid regular expression: {exc}") from None


def _actions(path: Path, key: str, spec: Any, known: _Known) -> ActionSettings:
    table = _table(path, key, spec, _ACTION_KEYS)
    if not table:
        raise ConfigError(f"{path}: {key} is empty; a rule must set something")

    def pick(name: str, allowed: Iterable[str]) -> str | None:
        return _one_of(path, f"{key}.{name}", table[name], allowed) if name in table else None

    assignee = _address(path, f"{key}.assignee", table["assignee"]).lower() if "assignee" in table else None
    tier = _typed(path, key, table, "tier", str, "") or None
    tags = _strings(path, f"{key}.tags", table["tags"]) if "tags" in table else ()
    notify = table.get("notify", [])
    return ActionSettings(
        queue=pick("queue", known.queues), category=pick("category", known.categories),
        type=pick("type", TICKET_TYPES), priority=pick("priority", PRIORITIES), assignee=assignee,
        tier=tier, language=pick("language", LANGUAGES), tags=tuple(t.lower() for t in tags),
        suppress_ack=_typed(path, key, table, "suppress_ack", bool, False),
        spam=_typed(path, key, table, "spam", bool, False),
        notify=tuple(_notify(path, f"{key}.notify[{i}]", n)
                     for i, n in enumerate(notify if isinstance(notify, list) else [notify])),
    )


def _notify(path: Path, key: str, spec: Any) -> NotifySettings:
    table = _table(path, key, spec, frozenset({"to", "template"}))
    template = _typed(path, key, table, "template", str, "notify")
    if not _TEMPLATE.match(template):
        raise _fault(path, f"{key}.template", template, "a template name such as notify_oncall")
    return NotifySettings(to=_address(path, f"{key}.to", table.get("to")), template=template)


# --- [[imap]]: mailboxes to read, any number (an array of tables, so outside SCHEMA) -------------

TABLE_ARRAYS = ("imap",)
IMAP_TLS = ("imaps", "starttls", "plain")
IMAP_AFTER = ("move", "flag")
IMAP_AUTH = ("password", "xoauth2")
_LOOPBACK = ("127.0.0.1", "::1", "localhost")

IMAP_SCHEMA: dict[str, _Spec] = {
    "name": (str, ""),
    "host": (str, None),
    "port": (int, 0),
    "tls": (str, "imaps"),
    "username": (str, None),
    "auth": (str, "password"),
    "password": (str, ""),
    "password_env": (str, ""),
    "password_file": (str, ""),
    "oauth2_token_command": (str, ""),
    "oauth2_token_file": (str, ""),
    "folder": (str, "INBOX"),
    "after": (str, "move"),
    "move_to": (str, "maildesk/processed"),
    "queue": (str, ""),
    "category": (str, ""),
    "idle": (bool, True),
    "poll_interval_seconds": ((int, float), 60),
    "batch_size": (int, 50),
    "timeout": ((int, float), 60),
    "alert_after_seconds": ((int, float), 1800),
}


@dataclass(frozen=True)
class ImapAccount:
    """One `[[imap]]` mailbox: where it is, how to log in, and what to do with mail once stored.

    Secrets from a file or a token helper are read at each login (so a rotated
    secret needs no restart); `password` holds a literal or $password_env value.
    """

    name: str
    host: str
    port: int
    tls: str
    username: str
    auth: str
    password: str
    password_file: Path | None
    oauth2_token_command: str
    oauth2_token_file: Path | None
    folder: str
    after: str
    move_to: str
    queue: str
    category: str
    idle: bool
    poll_interval_seconds: float
    batch_size: int
    timeout: float
    alert_after_seconds: float


def _imap_accounts(path: Path, given: Any, base: Path, env: Mapping[str, str]) -> tuple[ImapAccount, ...]:
    if not isinstance(given, list) or not all(isinstance(t, dict) for t in given):
        raise ConfigError(f"{path}: imap must be written as [[imap]] sections")
    accounts = tuple(_imap_account(path, i, t, base, env) for i, t in enumerate(given))
    names = [a.name for a in accounts]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{path}: two [[imap]] sections are named {name!r}; give each a unique name")
    return accounts


def _imap_account(path: Path, index: int, table: dict[str, Any], base: Path,
                  env: Mapping[str, str]) -> ImapAccount:
    section = f"imap[{index}]"
    for key in table:
        if key not in IMAP_SCHEMA:
            raise ConfigError(f"{path}: unknown key {section}.{key}")
    v = {key: _value(path, section, key, spec, table) for key, spec in IMAP_SCHEMA.items()}
    name = v["name"] or f"imap{index + 1}"
    # The name travels in inbound.source ("imap:NAME", 32 characters at most).
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,27}", name):
        raise ConfigError(f"{path}: {section}.name = {name!r} should be 1-27 letters, digits, . - or _")
    section = f"imap {name!r}"
    for key, allowed in (("tls", IMAP_TLS), ("after", IMAP_AFTER), ("auth", IMAP_AUTH)):
        if v[key] not in allowed:
            raise ConfigError(f"{path}: {section}: {key} = {v[key]!r} should be one of {', '.join(allowed)}")
    if v["tls"] == "plain" and v["host"] not in _LOOPBACK:
        # Credentials in clear text over a network: only ever acceptable on this machine (tests).
        raise ConfigError(f"{path}: {section}: tls = \"plain\" is allowed only for a loopback host")
    port = v["port"] or (993 if v["tls"] == "imaps" else 143)
    if not 0 < port < 65536:
        raise ConfigError(f"{path}: {section}: port = {port} should be between 1 and 65535")
    return ImapAccount(
        name=name, host=v["host"], port=port, tls=v["tls"], username=v["username"], auth=v["auth"],
        password=_imap_password(path, section, v, env),
        password_file=(base / v["password_file"]).resolve() if v["password_file"] else None,
        oauth2_token_command=v["oauth2_token_command"],
        oauth2_token_file=(base / v["oauth2_token_file"]).resolve() if v["oauth2_token_file"] else None,
        folder=v["folder"], after=v["after"], move_to=v["move_to"], queue=v["queue"], category=v["category"],
        idle=v["idle"],
        poll_interval_seconds=float(_positive(path, f"{section}: poll_interval_seconds",
                                              v["poll_interval_seconds"])),
        batch_size=_positive(path, f"{section}: batch_size", v["batch_size"]),
        timeout=float(_positive(path, f"{section}: timeout", v["timeout"])),
        alert_after_seconds=float(_not_negative(path, f"{section}: alert_after_seconds",
                                                v["alert_after_seconds"])),
    )


def _imap_password(path: Path, section: str, v: dict[str, Any], env: Mapping[str, str]) -> str:
    """The literal or environment password, after checking exactly one secret source fits `auth`."""
    if v["auth"] == "xoauth2":
        sources = [k for k in ("oauth2_token_command", "oauth2_token_file") if v[k]]
    else:
        sources = [k for k in ("password", "password_env", "password_file") if v[k]]
    if len(sources) != 1:
        wanted = ("oauth2_token_command or oauth2_token_file" if v["auth"] == "xoauth2"
                  else "password, password_env or password_file")
        raise ConfigError(f"{path}: {section}: set exactly one of {wanted} (auth = {v['auth']!r})")
    if v["password_env"]:
        if v["password_env"] not in env:
            raise ConfigError(f"{path}: {section}: password_env names ${v['password_env']}, which is not set")
        return str(env[v["password_env"]])
    return str(v["password"])



# --- [[sla]], [sla_defaults] and [autoclose]: SLA targets, escalation and auto-closure ----------
# (docs/sla.md). Durations are working time of the ticket's queue calendar: "90m", "4h", "2d"
# (a "d" is 24 hours of working time, not a working day; write "18h" for two 9-hour days).

SLA_SECTIONS = ("sla", "sla_defaults", "autoclose")
SLA_NOTIFY = ("assignee", "queue")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")
_DURATION_UNIT = {"m": 60, "h": 3600, "d": 86400}
_SLA_KEYS = frozenset({"name", "priority", "category", "tier", "first_response", "resolution"})
_AUTOCLOSE_KEYS = frozenset({"pending_hours", "reminders", "resolved_days"})


@dataclass(frozen=True)
class SlaRow:
    """One `[[sla]]` row: empty match lists match anything; targets in working seconds (0 = none)."""

    name: str
    priorities: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    first_response_seconds: int = 0
    resolution_seconds: int = 0


@dataclass(frozen=True)
class AutocloseRule:
    """How long a ticket may wait on the requester: working hours pending (0 = never closes),
    reminder fractions of that, calendar days resolved (0 = never closes)."""

    pending_hours: float = 8.0
    reminders: tuple[float, ...] = (0.5, 0.9)
    resolved_days: float = 3.0


@dataclass(frozen=True)
class SlaSettings:
    """The SLA table, its defaults, and auto-closure with its per-queue and per-category overrides."""

    rows: tuple[SlaRow, ...] = ()
    pause_while_pending: bool = True
    warn_at: float = 0.8
    notify: tuple[str, ...] = ("assignee",)
    autoclose: AutocloseRule = AutocloseRule()
    per_queue: tuple[tuple[str, AutocloseRule], ...] = ()
    per_category: tuple[tuple[str, AutocloseRule], ...] = ()

    def autoclose_for(self, queue: str, category: str) -> AutocloseRule:
        """The category's override, else the queue's, else the defaults."""
        return dict(self.per_category).get(category) or dict(self.per_queue).get(queue) or self.autoclose


def parse_duration(path: Path, key: str, value: Any) -> int:
    """Seconds of working time in "90m", "4h" or "2d"; ConfigError names `key` otherwise."""
    m = _DURATION.match(value) if isinstance(value, str) else None
    if m is None or float(m[1]) <= 0:
        raise _fault(path, key, value, 'a working time such as "90m", "4h" or "2d"')
    return round(float(m[1]) * _DURATION_UNIT[m[2]])


def sla_settings(path: Path, data: Mapping[str, Any], routing: RoutingSettings) -> SlaSettings:
    """The SLA sections of `data`, checked against the configured queues and categories."""
    known = _Known(queues=frozenset(q.name for q in routing.queues),
                   categories=frozenset(c.name for c in routing.categories), calendars=frozenset())
    seen: set[str] = set()
    rows = tuple(_sla_row(path, f"sla[{i}]", spec, known, seen)
                 for i, spec in enumerate(_array(path, "sla", data.get("sla", []))))
    defaults = _table(path, "sla_defaults", data.get("sla_defaults", {}),
                      frozenset({"pause_while_pending", "warn_at", "notify"}))
    warn_at = _value(path, "sla_defaults", "warn_at", ((int, float), 0.8), defaults)
    if not 0 < warn_at < 1:
        raise _fault(path, "sla_defaults.warn_at", warn_at, "a fraction between 0 and 1, e.g. 0.8")
    auto = _table(path, "autoclose", data.get("autoclose", {}),
                  _AUTOCLOSE_KEYS | {"per_queue", "per_category"})
    base = _autoclose(path, "autoclose", auto, AutocloseRule())
    return SlaSettings(
        rows=rows, warn_at=float(warn_at),
        pause_while_pending=_typed(path, "sla_defaults", defaults, "pause_while_pending", bool, True),
        notify=_sla_notify(path, defaults.get("notify", "assignee")),
        autoclose=base,
        per_queue=_overrides(path, "autoclose.per_queue", auto.get("per_queue", {}), known.queues, base),
        per_category=_overrides(path, "autoclose.per_category", auto.get("per_category", {}),
                                known.categories, base),
    )


def _sla_row(path: Path, key: str, spec: Any, known: _Known, seen: set[str]) -> SlaRow:
    table = _table(path, key, spec, _SLA_KEYS)
    name = _name(path, f"{key}.name", table.get("name"), seen)
    if "first_response" not in table and "resolution" not in table:
        raise ConfigError(f"{path}: {key} (sla {name!r}) sets neither first_response nor resolution")

    def names(field: str, allowed: Iterable[str] | None) -> tuple[str, ...]:
        if field not in table:
            return ()
        items = _strings(path, f"{key}.{field}", table[field])
        return tuple(_one_of(path, f"{key}.{field}", v, allowed) for v in items) if allowed else items

    return SlaRow(
        name=name, priorities=names("priority", PRIORITIES), categories=names("category", known.categories),
        tiers=names("tier", None),
        first_response_seconds=(parse_duration(path, f"{key}.first_response", table["first_response"])
                                if "first_response" in table else 0),
        resolution_seconds=(parse_duration(path, f"{key}.resolution", table["resolution"])
                            if "resolution" in table else 0),
    )


def _sla_notify(path: Path, value: Any) -> tuple[str, ...]:
    items = _strings(path, "sla_defaults.notify", value)
    for item in items:
        if item not in SLA_NOTIFY:
            _address(path, "sla_defaults.notify", item)
    return tuple(i.lower() for i in items)


def _autoclose(path: Path, key: str, table: Mapping[str, Any], base: AutocloseRule) -> AutocloseRule:
    hours = _value(path, key, "pending_hours", ((int, float), base.pending_hours), table)
    days = _value(path, key, "resolved_days", ((int, float), base.resolved_days), table)
    reminders = _typed(path, key, table, "reminders", list, list(base.reminders))
    for name, value in (("pending_hours", hours), ("resolved_days", days)):
        _not_negative(path, f"{key}.{name}", value)
    if not all(isinstance(f, int | float) and not isinstance(f, bool) and 0 < f < 1 for f in reminders):
        raise _fault(path, f"{key}.reminders", reminders,
                     "a list of fractions between 0 and 1, e.g. [0.5, 0.9]")
    return AutocloseRule(pending_hours=float(hours), reminders=tuple(sorted(float(f) for f in reminders)),
                         resolved_days=float(days))


def _overrides(path: Path, key: str, given: Any, allowed: frozenset[str],
               base: AutocloseRule) -> tuple[tuple[str, AutocloseRule], ...]:
    if not isinstance(given, dict):
        raise _fault(path, key, given, f"a table of [{key}.NAME] tables")
    out = []
    for name, spec in given.items():
        _one_of(path, f"{key}.{name}", name, allowed)
        out.append((name, _autoclose(path, f"{key}.{name}", _table(path, f"{key}.{name}", spec,
                                                                    _AUTOCLOSE_KEYS), base)))
    return tuple(out)


# --- [kb], [macros] and [desk] status_address: requesters' self-service (docs/self-service.md) ---


@dataclass(frozen=True)
class SelfServiceSettings:
    """Where knowledge-base articles and macros live (None: feature off), how many articles an
    acknowledgement suggests and how relevant they must be, and the status address ("" = the
    desk address with +status)."""

    kb_path: Path | None = None
    suggestions: int = 3
    min_score: float = 0.35
    macros_path: Path | None = None
    status_address: str = ""


def selfservice_settings(path: Path, v: Mapping[str, Mapping[str, Any]]) -> SelfServiceSettings:
    """The self-service keys of the checked sections `v`, relative paths resolved beside `path`."""
    base = path.resolve().parent
    kb, macros = v["kb"], v["macros"]
    min_score = kb["min_score"]
    if not 0 <= min_score <= 1:
        raise ConfigError(f"{path}: kb.min_score = {min_score!r} should be between 0 and 1")
    status = v["desk"]["status_address"]
    return SelfServiceSettings(
        kb_path=(base / kb["path"]).resolve() if kb["path"] else None,
        suggestions=_not_negative(path, "kb.suggestions", kb["suggestions"]),
        min_score=float(min_score),
        macros_path=(base / macros["path"]).resolve() if macros["path"] else None,
        status_address=_address(path, "desk.status_address", status).lower() if status else "",
    )
