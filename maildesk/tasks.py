"""The work queue: dramatiq actors on row ids. The only module that imports dramatiq.

The queue only ever says "look at row N" (DESIGN.md decision 1); the
database says what to do. That is why the embedded broker can live in memory:
whatever it held when the process died is found again by the sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker

from maildesk.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handlers:
    """What the actors call: processing returns the outbox ids to deliver next."""

    process: Callable[[int], Iterable[int]]
    deliver: Callable[[int], None]


def make_broker(url: str) -> dramatiq.Broker:
    """The broker for `[broker] url`; `embedded` is dramatiq's in-memory broker."""
    if url == "embedded":
        return StubBroker()
    raise ConfigError(f"broker.url = {url!r}: only 'embedded' is supported by this version")


class Jobs:
    """The two actors, bound to one broker, plus the workers that run them in this process."""

    def __init__(self, broker: dramatiq.Broker, handlers: Handlers) -> None:
        self.broker = broker
        self._worker: dramatiq.Worker | None = None

        def process_inbound(inbound_id: int) -> None:
            for outbox_id in handlers.process(inbound_id):
                self._deliver.send(outbox_id)

        def deliver_outbox(outbox_id: int) -> None:
            handlers.deliver(outbox_id)

        # Retries cover a store outage; bad mail never raises (it is quarantined instead).
        options: dict[str, Any] = {"broker": broker, "max_retries": 5, "min_backoff": 1000,
                                   "max_backoff": 60_000}
        self._process = dramatiq.actor(actor_name="process_inbound", **options)(process_inbound)
        self._deliver = dramatiq.actor(actor_name="deliver_outbox", **options)(deliver_outbox)

    def enqueue_inbound(self, inbound_id: int) -> None:
        """Ask a worker to process inbound row `inbound_id`."""
        self._process.send(inbound_id)

    def enqueue_outbox(self, outbox_id: int) -> None:
        """Ask a worker to deliver outbox row `outbox_id`."""
        self._deliver.send(outbox_id)

    def start_workers(self, threads: int) -> None:
        """Run `threads` worker threads in this process."""
        self._worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=100)
        self._worker.start()

    def stop_workers(self, timeout_ms: int = 10_000) -> None:
        """Let running jobs finish, then stop; queued ids are recovered by the next sweep."""
        if self._worker is not None:
            self._worker.stop(timeout=timeout_ms)
            self._worker = None
        self.broker.close()

    def join(self, timeout_ms: int = 30_000) -> None:
        """Wait until the in-memory queues are empty (tests and `maildesk ingest`)."""
        if isinstance(self.broker, StubBroker):
            self.broker.join("default", timeout=timeout_ms)
            if self._worker is not None:
                self._worker.join()
