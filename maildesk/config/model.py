"""The settings: frozen dataclasses, one per table of the file, each key declared once here with
its type, default and bounds (the types are in fields.py).

Two keys of the file are not attributes: `[smtp] listen = "HOST:PORT"` gives `host` and `port`,
and `password_env` gives `password` (loader.py). Calendars, queues, categories and rules are in
routing.py and rules.py, SLAs in sla.py, IMAP accounts in imap.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, with_config

from maildesk.config.fields import (
    BUILT,
    FORBID,
    LISTEN,
    Address,
    AddressOrEmpty,
    BesideConfig,
    Flag,
    Language,
    NonEmpty,
    NotNegative,
    NotNegativeNumber,
    Number,
    PathOrNone,
    Positive,
    PositiveNumber,
    expect,
)
from maildesk.config.imap import ImapAccount
from maildesk.config.peek import DEFAULT_DATA_DIR, DEFAULT_LOG_LEVEL
from maildesk.config.routing import RoutingSettings
from maildesk.config.sla import SlaSettings

_INSTANCE = re.compile(r"[A-Za-z0-9_-]{0,32}")
_LOG_LEVEL = expect(lambda v: v.upper() in ("DEBUG", "INFO", "WARNING", "ERROR"),
                    "should be DEBUG, INFO, WARNING or ERROR")
_BROKERS = ("redis://", "rediss://", "amqp://", "amqps://")
_OUTBOUND = ("maildir:", "smtp://", "smtp+starttls://", "smtps://")


@with_config(FORBID)
@dataclass(frozen=True, kw_only=True)
class DeskSettings:
    """Who the desk is: its name, its address and where it keeps its data."""

    name: str = "Support"
    address: Address
    aliases: tuple[Address, ...] = ()
    instance: Annotated[str, expect(_INSTANCE.fullmatch, "should be letters, digits, - or _")] = ""
    language: Language = "en"
    secret: str = ""
    data_dir: Annotated[BesideConfig, Field(validate_default=True)] = Path(DEFAULT_DATA_DIR)
    templates_dir: PathOrNone = None
    # Where alerts about the desk itself go (a mailbox failing for too long); "" = log only.
    admin: AddressOrEmpty = ""

    @property
    def domain(self) -> str:
        """The domain of the support address, used for our Message-IDs."""
        return self.address.rpartition("@")[2].lower()

    @property
    def own_addresses(self) -> frozenset[str]:
        """Our addresses, lowercased, for loop checks and participant lists."""
        return frozenset(a.lower() for a in (self.address, *self.aliases))


@with_config(FORBID)
@dataclass(frozen=True)
class DatabaseSettings:
    """Where the source of truth lives ("" in the file: SQLite in data_dir)."""

    url: str = ""


@with_config(FORBID)
@dataclass(frozen=True)
class BrokerSettings:
    """Which queue carries "look at row N" messages, and how many threads work it."""

    url: Annotated[str, expect(lambda u: u == "embedded" or u.startswith(_BROKERS),
                               "should be embedded, redis://… or amqp://…")] = "embedded"
    worker_threads: Positive = 4
    # `maildesk worker` starts this many processes (each with worker_threads threads).
    processes: Positive = 1
    # Embedded broker only: `maildesk serve` runs the workers in one child process, so the listener
    # and the pipeline each have a core (the GIL lets one process use only one).
    pipeline_process: Flag = True


@with_config(FORBID)
@dataclass(frozen=True)
class MetricsSettings:
    """Where the Prometheus endpoints listen; empty means no endpoint."""

    listen: Annotated[str, expect(lambda v: v == "" or LISTEN.match(v),
                                  "should be HOST:PORT, e.g. 127.0.0.1:9191")] = ""
    # `maildesk worker`'s own, for a worker on the host of a front end: one port cannot serve both.
    worker_listen: Annotated[str, expect(lambda v: v == "" or LISTEN.match(v),
                                         "should be HOST:PORT, e.g. 127.0.0.1:9192")] = ""

    @property
    def address(self) -> tuple[str, int] | None:
        """(host, port) `maildesk serve` serves on, or None when metrics are off."""
        return _host_port(self.listen)

    @property
    def worker_address(self) -> tuple[str, int] | None:
        """(host, port) `maildesk worker` serves on: `worker_listen`, else `listen`; None when off."""
        return _host_port(self.worker_listen or self.listen)


def _host_port(listen: str) -> tuple[str, int] | None:
    if not listen:
        return None
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


@with_config(FORBID)
@dataclass(frozen=True)
class SmtpSettings:
    """The SMTP or LMTP listener; host and port come from the file's `listen` (loader.py)."""

    host: str
    port: int
    lmtp: Flag = False
    max_message_size: Positive = 25 * 1024 * 1024
    enabled: Flag = True
    # Connections at once, in all and from one client address (Postfix's anvil defaults: 100
    # smtpd processes, smtpd_client_connection_count_limit 50), and new connections one client may
    # open a minute (smtpd_client_connection_rate_limit; Postfix leaves it off, 60 is one a second).
    # Past any of them the client hears 421. LMTP peers are our own MTA: only the first applies.
    max_sessions: Positive = 100
    sessions_per_client: Positive = 50
    connections_per_client_per_minute: Positive = 60
    # Seconds a client may stay silent: between commands (10 once three quarters of max_sessions
    # are taken, as Postfix does under stress), and while it sends DATA. RFC 5321 allows the server
    # 5 minutes; a real MTA answers in seconds, and a client cut off retries later.
    idle_timeout: PositiveNumber = 60.0
    data_timeout: PositiveNumber = 120.0


@with_config(FORBID)
@dataclass(frozen=True)
class OutboundSettings:
    """Where composed mail goes and how often a failed delivery is retried ("" in the file: a
    Maildir in data_dir)."""

    url: Annotated[str, expect(lambda u: u == "" or u.startswith(_OUTBOUND),
                               "should be maildir:PATH, smtp://, smtp+starttls:// or smtps://")] = ""
    username: str = ""
    password: str = ""
    timeout: PositiveNumber = 30.0
    max_attempts: Positive = 12
    retry_base_seconds: Positive = 30


@with_config(FORBID)
@dataclass(frozen=True)
class TicketSettings:
    """How replies move tickets."""

    reopen_closed_days: NotNegative = 7


@with_config(FORBID)
@dataclass(frozen=True)
class SweepSettings:
    """The periodic recovery of rows left unfinished."""

    interval_seconds: PositiveNumber = 60.0
    stuck_after_seconds: NotNegativeNumber = 120.0
    max_process_attempts: Positive = 3


@with_config(FORBID)
@dataclass(frozen=True)
class BrakeSettings:
    """How much mail the desk may send: to how many people one mail goes at most, and how much
    automatic mail (acknowledgements, status notices, reminders) one address gets per day, across
    every ticket. Mail over either limit is held back and the hold recorded on the ticket."""

    recipients_per_mail: Positive = 20
    automatic_per_day: Positive = 40
    # Answers to inbound mail (acknowledgements, status lists, how to close a request) per recipient
    # domain and per client address (the SMTP peer; mail over LMTP, IMAP or the pipe has none that
    # counts) in an hour, and per fingerprint of the mail answered in a day, across every address.
    answers_per_domain_per_hour: Positive = 100
    answers_per_client_per_hour: Positive = 100
    answers_per_fingerprint_per_day: Positive = 5
    # An acknowledgement to a sender whose From: is neither aligned with the envelope sender nor
    # vouched for by a trusted Authentication-Results ([agents] trusted_hosts): "neutral" sends one
    # that carries none of the sender's text (no subject, no name, no words of the mail); "hold"
    # sends none. Either way the ticket is made and says why.
    unverified_acks: Literal["neutral", "hold"] = "neutral"


@with_config(FORBID)
@dataclass(frozen=True)
class AgentSettings:
    """Who hears about what, and which proofs make a mail an agent's action."""

    notify: Literal["all", "assignee", "queue"] = "queue"
    proofs: tuple[Literal["token", "dkim", "auth-results"], ...] = ("token",)
    trusted_hosts: tuple[Annotated[str, expect(bool, "should be a host name")], ...] = ()


@with_config(FORBID)
@dataclass(frozen=True)
class SelfServiceSettings:
    """Where knowledge-base articles and macros live (None: feature off), how many articles an
    acknowledgement suggests and how relevant they must be, and the status address ("" = the
    desk address with +status). In the file: [kb], [macros] and [desk] status_address."""

    kb_path: PathOrNone = None
    suggestions: NotNegative = 3
    min_score: Annotated[Number, expect(lambda v: 0 <= v <= 1, "should be between 0 and 1")] = 0.35
    macros_path: PathOrNone = None
    status_address: Annotated[AddressOrEmpty, AfterValidator(str.lower)] = ""


@with_config(FORBID)
@dataclass(frozen=True)
class AbuseSettings:
    """Insults and threats in requesters' mail (maildesk.policy.abuse): whether to look for them, the
    score that makes a mail abusive, stems to add to the built-in list, and who hears of an abusive
    mail when its queue names no `lead`."""

    enabled: Flag = True
    threshold: PositiveNumber = 2.0
    insults: tuple[NonEmpty, ...] = ()
    threats: tuple[NonEmpty, ...] = ()
    lead: Annotated[AddressOrEmpty, AfterValidator(str.lower)] = ""


@with_config(FORBID)
@dataclass(frozen=True)
class SatisfactionSettings:
    """Whether the requester of a resolved ticket is asked to rate it by mail; a queue's own
    `satisfaction` key, when given, decides for its tickets."""

    enabled: Flag = False


@with_config(FORBID)
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
    brakes: BrakeSettings = BrakeSettings()
    # [log] level, in any case.
    log_level: Annotated[str, _LOG_LEVEL, AfterValidator(str.upper)] = DEFAULT_LOG_LEVEL
    agents: AgentSettings = AgentSettings()
    imap: Annotated[tuple[ImapAccount, ...], BUILT] = ()
    metrics: MetricsSettings = MetricsSettings()
    routing: Annotated[RoutingSettings, BUILT] = field(default_factory=RoutingSettings)
    sla: Annotated[SlaSettings, BUILT] = field(default_factory=SlaSettings)
    selfservice: SelfServiceSettings = SelfServiceSettings()
    abuse: AbuseSettings = AbuseSettings()
    satisfaction: SatisfactionSettings = SatisfactionSettings()
