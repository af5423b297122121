"""SIGHUP: read the config file again and apply what can change while mail keeps flowing.

Templates, rules, queues, calendars, SLAs, brakes, agents' proofs, the knowledge base and the
outbound relay are rebuilt in place (`Runtime.reload`); connections stay open and nothing queued is
lost. What a running process is built around — the store, the broker, the listener, the metrics
endpoint, the IMAP fetchers and the data directory — keeps its running value until a restart, and
the log says so. A file that does not load, or whose rules or templates do not compile, changes
nothing: the error is logged and the running configuration stays.
"""

from __future__ import annotations

import dataclasses
import logging

from maildesk import config
from maildesk.config import Settings
from maildesk.errors import ConfigError
from maildesk.notices.check import template_problems
from maildesk.notices.notifier import Identity
from maildesk.notices.render import Renderer
from maildesk.runtime.wiring import Runtime
from maildesk.serve.logs import configure_logging

log = logging.getLogger(__name__)

#: Sections a reload does not change (each would need the process rebuilt around it).
RESTART_ONLY = ("database", "broker", "smtp", "metrics", "imap")


def carry_over(running: Settings, loaded: Settings) -> tuple[Settings, list[str]]:
    """`loaded`, with the running value of every section only a restart may change, and the names
    of those that differ. [desk] and [outbound] are reloadable unless data_dir moved: then both stay
    as they run (a desk's files are not moved under a running process, and the default outbox
    Maildir lives in data_dir)."""
    kept = [name for name in RESTART_ONLY if getattr(running, name) != getattr(loaded, name)]
    keep = {name: getattr(running, name) for name in RESTART_ONLY}
    if running.desk.data_dir != loaded.desk.data_dir:
        kept.append("desk and outbound (data_dir moved)")
        keep |= {"desk": running.desk, "outbound": running.outbound}
    return dataclasses.replace(loaded, **keep), kept


def reload_runtime(runtime: Runtime) -> Settings:
    """Load the config file `runtime` was built from and rebuild its desk; raises MaildeskError,
    leaving `runtime` as it was, when the file or what it names does not compile."""
    path = runtime.settings.path
    settings, kept = carry_over(runtime.settings, config.load(path))
    # The same check as at start: a template that cannot be rendered must not replace a working one.
    problems = template_problems(Renderer(settings.desk.templates_dir), Identity.from_settings(settings))
    if problems:
        raise ConfigError("templates that cannot be rendered:\n  " + "\n  ".join(problems))
    runtime.reload(settings)
    configure_logging(settings.log_level)
    if kept:
        log.warning("%s changed in %s: that takes a restart; the running values stay", ", ".join(kept), path)
    return settings
