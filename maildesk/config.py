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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

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
    imap: tuple[ImapAccount, ...] = ()


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
    },
    "database": {"url": (str, "")},
    "broker": {"url": (str, "embedded"), "worker_threads": (int, 4)},
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
    "sweep": {
        "interval_seconds": ((int, float), 60),
        "stuck_after_seconds": ((int, float), 120),
        "max_process_attempts": (int, 3),
    },
    "log": {"level": (str, "INFO")},
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
    tables = {k: v for k, v in data.items() if k not in TABLE_ARRAYS}
    values = _checked(path, tables)
    settings = _build(path.resolve(), values, env)
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
        ),
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
    )


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

