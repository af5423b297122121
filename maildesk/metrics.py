"""maildesk's Prometheus counters and endpoint. The only module that imports prometheus_client.

Off unless `[metrics] listen` is set: until `enable()` runs, `count()` does nothing and
prometheus_client is not even imported. Enabled, every process (serve, each worker process)
writes its counters to files in one directory (prometheus_client's multiprocess mode, which
dramatiq's Prometheus middleware uses too) and the top process serves their sum, so one scrape
covers a `maildesk worker --processes N` tree.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from typing import Any

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
DRAMATIQ_ENV = "dramatiq_prom_db"

# What each counter means; `maildesk_` is prefixed and `_total` appended by prometheus_client.
COUNTERS = {
    "received": "Messages stored on arrival (SMTP, LMTP, IMAP, pipe).",
    "processed": "Inbound messages turned into ticket changes.",
    "quarantined": "Inbound messages set aside as broken or failing.",
    "acknowledgements_sent": "Acknowledgements delivered to requesters.",
    "delivered": "Outbox messages delivered, of every kind.",
    "suppressed": "Automatic replies withheld (machine mail, rules, unsendable address).",
    "sla_breaches": "SLA targets missed.",
}
# Ticket event kinds that are also counted as one of the counters above.
EVENT_COUNTERS = {"suppressed": "suppressed", "sla_breach": "sla_breaches", "sla_breached": "sla_breaches"}

_lock = threading.Lock()
_counters: dict[str, Any] = {}


def prepare_directory() -> str:
    """In the top process, before any child starts: a fresh directory for every process's counters."""
    existing = os.environ.get(MULTIPROC_ENV)
    if existing:
        return existing
    path = tempfile.mkdtemp(prefix="maildesk-metrics-")
    # Both names: prometheus_client reads the first, dramatiq's middleware the second (at import).
    os.environ[MULTIPROC_ENV] = os.environ[DRAMATIQ_ENV] = path
    return path


def enable() -> None:
    """Create the counters in this process (after `prepare_directory()` set the shared directory)."""
    import prometheus_client as prom

    with _lock:
        if _counters:
            return
        for name, help_text in COUNTERS.items():
            _counters[name] = prom.Counter(f"maildesk_{name}", help_text)


def enabled() -> bool:
    """Whether this process counts."""
    return bool(_counters)


def count(name: str, amount: int = 1) -> None:
    """Add `amount` to counter `name`; nothing when metrics are off."""
    counter = _counters.get(name)
    if counter is not None:
        counter.inc(amount)


def count_event(kind: str) -> None:
    """Count a ticket event whose kind matters to operators (see EVENT_COUNTERS)."""
    name = EVENT_COUNTERS.get(kind)
    if name is not None:
        count(name)


def serve_endpoint(host: str, port: int) -> None:
    """Serve the sum of every process's counters at http://host:port/metrics (a daemon thread)."""
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    start_http_server(port, addr=host, registry=registry)
    log.info("metrics at http://%s:%d/metrics", host, port)


def process_exited(pid: int) -> None:
    """Forget a finished process's live gauges (its counters stay in the sum)."""
    from prometheus_client import multiprocess

    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def remove_directory() -> None:
    """In the top process at exit: delete the counter files."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory and os.path.basename(directory).startswith("maildesk-metrics-"):
        shutil.rmtree(directory, ignore_errors=True)
