"""maildesk's Prometheus counters, gauges and endpoint. The only module that imports prometheus_client.

Off unless `[metrics] listen` is set: until `enable()` runs, `count()` does nothing and
prometheus_client is not even imported. Enabled, every process (serve, each worker process)
writes its counters to files in one directory (prometheus_client's multiprocess mode, which
dramatiq's Prometheus middleware uses too) and the top process serves their sum, so one scrape
covers a `maildesk worker --processes N` tree. The gauges an admin alerts on (backlogs, their
ages, the last sweep, each mailbox's last fetch) are read from the store at each scrape by the
process that serves the endpoint, and so are its own and its pipeline child's process figures.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Reading:
    """One gauge sample, read when the endpoint is scraped: `maildesk_<name>{labels} value`."""

    name: str
    help: str
    value: float
    labels: tuple[tuple[str, str], ...] = ()


def prepare_directory() -> str:
    """In the top process, before any child starts: a fresh directory for every process's counters.

    It is made inside `$PROMETHEUS_MULTIPROC_DIR` when that is set (the units point it at their
    RuntimeDirectory; it is created if missing), else in the temporary directory. A directory of
    its own per top process means no counter files left by an earlier run are summed, and a serve
    and a worker unit given the same variable do not count into each other's endpoint."""
    parent = os.environ.get(MULTIPROC_ENV) or None
    if parent is not None:
        os.makedirs(parent, mode=0o750, exist_ok=True)
    path = tempfile.mkdtemp(prefix="maildesk-metrics-", dir=parent)
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


def serve_endpoint(host: str, port: int, readings: Callable[[], Iterable[Reading]] | None = None,
                   child_pid: Callable[[], int | None] | None = None) -> None:
    """Serve at http://host:port/metrics (a daemon thread): the sum of every process's counters,
    the gauges `readings` returns at each scrape, this process's figures (`process_*`) and, with
    `child_pid`, those of the pipeline child (`maildesk_pipeline_process_*`). Raises OSError
    when the address is taken."""
    from prometheus_client import CollectorRegistry, ProcessCollector, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    ProcessCollector(registry=registry)
    if child_pid is not None:
        # No child running: a pid with no /proc entry, which the collector reports as nothing.
        ProcessCollector(namespace="maildesk_pipeline", pid=lambda: child_pid() or "none", registry=registry)
    if readings is not None:
        registry.register(_Gauges(readings))
    start_http_server(port, addr=host, registry=registry)
    log.info("metrics at http://%s:%d/metrics", host, port)


class _Gauges:
    """A prometheus_client collector over `readings`, called at each scrape."""

    def __init__(self, readings: Callable[[], Iterable[Reading]]) -> None:
        self.readings = readings

    def collect(self) -> list[Any]:
        from prometheus_client.core import GaugeMetricFamily

        try:
            taken = list(self.readings())
        except Exception as exc:  # The store may be down: the gauges go missing, the endpoint stays up.
            log.warning("metrics: could not read the desk's state: %s", exc)
            return []
        families: dict[str, GaugeMetricFamily] = {}
        for reading in taken:
            family = families.get(reading.name)
            if family is None:
                family = families[reading.name] = GaugeMetricFamily(
                    f"maildesk_{reading.name}", reading.help, labels=[k for k, _ in reading.labels])
            family.add_metric([v for _, v in reading.labels], reading.value)
        return list(families.values())


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
