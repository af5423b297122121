"""Load one TOML file into frozen settings, validated at start.

Every key has a default except ``[desk] address``. Unknown sections and keys,
and values of the wrong type or shape, raise :class:`ConfigError` naming the
file, the section and the key, one line per fault, so an admin can fix them all
without reading code. Relative paths are relative to the directory of the config file.

model.py declares the settings, routing.py, rules.py, sla.py and imap.py the
sections that refer to each other, loader.py reads the file; the names below are
the package's interface. They are imported on first use (module ``__getattr__``):
validating needs pydantic, about 0.1 s of imports, which a command that never reads
the settings (``maildesk --help``, ``ingest`` handing mail to a running daemon) should not pay.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from maildesk.config.imap import ImapAccount
    from maildesk.config.loader import load
    from maildesk.config.model import (
        AgentSettings,
        BrakeSettings,
        BrokerSettings,
        DatabaseSettings,
        DeskSettings,
        MetricsSettings,
        OutboundSettings,
        SelfServiceSettings,
        Settings,
        SmtpSettings,
        SweepSettings,
        TicketSettings,
    )
    from maildesk.config.peek import DEFAULT_FILE, ENV_VAR, config_path
    from maildesk.config.routing import (
        DEFAULT_CALENDAR,
        OTHER_CATEGORY,
        CalendarSettings,
        CategorySettings,
        QueueSettings,
        RoutingSettings,
        routing_settings,
    )
    from maildesk.config.rules import ActionSettings, ConditionSettings, NotifySettings, RuleSettings
    from maildesk.config.secret import resolve_secret
    from maildesk.config.sla import AutocloseRule, SlaRow, SlaSettings

#: Where each name of the interface is defined.
_HOME = {
    "ImapAccount": "imap",
    "load": "loader",
    **dict.fromkeys(("DEFAULT_FILE", "ENV_VAR", "config_path"), "peek"),
    **dict.fromkeys(("AgentSettings", "BrakeSettings", "BrokerSettings", "DatabaseSettings", "DeskSettings",
                     "MetricsSettings", "OutboundSettings", "SelfServiceSettings", "Settings", "SmtpSettings",
                     "SweepSettings", "TicketSettings"), "model"),
    **dict.fromkeys(("DEFAULT_CALENDAR", "OTHER_CATEGORY", "CalendarSettings", "CategorySettings",
                     "QueueSettings", "RoutingSettings", "routing_settings"), "routing"),
    **dict.fromkeys(("ActionSettings", "ConditionSettings", "NotifySettings", "RuleSettings"), "rules"),
    "resolve_secret": "secret",
    **dict.fromkeys(("AutocloseRule", "SlaRow", "SlaSettings"), "sla"),
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_CALENDAR",
    "DEFAULT_FILE",
    "ENV_VAR",
    "OTHER_CATEGORY",
    "ActionSettings",
    "AgentSettings",
    "AutocloseRule",
    "BrakeSettings",
    "BrokerSettings",
    "CalendarSettings",
    "CategorySettings",
    "ConditionSettings",
    "DatabaseSettings",
    "DeskSettings",
    "ImapAccount",
    "MetricsSettings",
    "NotifySettings",
    "OutboundSettings",
    "QueueSettings",
    "RoutingSettings",
    "RuleSettings",
    "SelfServiceSettings",
    "Settings",
    "SlaRow",
    "SlaSettings",
    "SmtpSettings",
    "SweepSettings",
    "TicketSettings",
    "config_path",
    "load",
    "resolve_secret",
    "routing_settings",
]
