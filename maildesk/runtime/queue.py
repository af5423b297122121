"""The work queue: dramatiq actors on row ids. The only module that imports dramatiq.

The queue only ever says "look at row N" (DESIGN.md decision 1); the
database says what to do. That is why the embedded broker can live in memory:
whatever it held when the process died is found again by the sweep.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import dramatiq
from dramatiq.brokers.stub import StubBroker

from maildesk.errors import BrokerUnavailable, ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handlers:
    """What the actors call: processing returns the outbox ids to deliver next."""

    process: Callable[[int], Iterable[int]]
    deliver: Callable[[int], None]
    # Several inbound rows in one go (one transaction); the embedded pipeline process sends these.
    process_many: Callable[[list[int]], Iterable[int]]


QUEUE = "default"
#: How long stopping waits for the broker to take back acknowledgements and unstarted messages. A
#: broker that is gone or hangs must not keep a stopping process alive: what it was not told is
#: delivered again later, and processing a row a second time does nothing (the database says what
#: is done).
BROKER_LETGO_SECONDS = 2.0


def make_broker(url: str, prometheus: bool = False) -> dramatiq.Broker:
    """The broker for `[broker] url`: `embedded` (in memory, this process only), redis:// or amqp://.

    With `prometheus`, dramatiq's own middleware counts messages into maildesk's metrics directory.
    """
    broker = _new_broker(url)
    if prometheus:
        from dramatiq.middleware.prometheus import Prometheus  # reads its directory at import

        broker.add_middleware(Prometheus())
    return broker


def _new_broker(url: str) -> dramatiq.Broker:
    if url == "embedded":
        return StubBroker()
    if url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        # A worker killed mid-message has its messages requeued by the others after this long;
        # the sweep would find the rows anyway, this only makes it sooner.
        return RedisBroker(url=url, heartbeat_timeout=30_000)  # type: ignore[no-untyped-call]
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        # Publisher confirms: "enqueued" then means the broker has it, as 250 means we have the mail.
        return RabbitmqBroker(url=url, confirm_delivery=True)
    raise ConfigError(f"broker.url = {url!r} should be embedded, redis://… or amqp://…")


def queue_depth(broker: dramatiq.Broker) -> int | None:
    """Messages waiting or in progress on the shared queue; None for the in-memory broker, whose
    queue lives inside the serving process. Raises BrokerUnavailable when the broker cannot be asked."""
    if isinstance(broker, StubBroker):
        return None
    try:
        return _shared_depth(broker)
    except Exception as exc:  # redis and pika each have their own error tree; any of them means "down"
        raise BrokerUnavailable(f"cannot reach the broker: {exc}") from exc


def _shared_depth(broker: dramatiq.Broker) -> int | None:
    if hasattr(broker, "get_queue_message_counts"):  # RabbitMQ: (ready, delayed, dead letters)
        ready, delayed, _dead = broker.get_queue_message_counts(QUEUE)
        return int(ready) + int(delayed)
    client = getattr(broker, "client", None)
    namespace = getattr(broker, "namespace", "dramatiq")
    if client is None:
        return None
    return int(client.hlen(f"{namespace}:{QUEUE}.msgs")) + int(client.hlen(f"{namespace}:{QUEUE}.DQ.msgs"))


def check_broker(url: str) -> str:
    """Whether the broker of `[broker] url` answers now: a one-line summary, or BrokerUnavailable."""
    if url == "embedded":
        return "embedded: the queue lives in the pipeline process of `maildesk serve`"
    shown = _without_secret(url)
    broker = make_broker(url)
    try:
        depth = queue_depth(broker)
    except Exception as exc:  # the broker's client raises its own types: redis, pika, dramatiq
        raise BrokerUnavailable(f"{shown}: {str(exc) or repr(exc)}") from exc
    finally:
        try:
            broker.close()
        except Exception:  # closing what never opened may raise too; the answer is above
            log.debug("closing the broker after a check failed", exc_info=True)
    return f"{shown} answers; {depth} messages queued"


def _without_secret(url: str) -> str:
    """`url` without its user and password, for a line an admin may paste anywhere."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


class _Running:
    """How many jobs are running this process's handlers now (`with running:` around each)."""

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()

    def __enter__(self) -> None:
        with self._changed:
            self._count += 1

    def __exit__(self, *exc: object) -> None:
        with self._changed:
            self._count -= 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job runs; False if one still did after `timeout` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self._count == 0, timeout)


class Jobs:
    """The two actors, bound to one broker, plus the workers that run them in this process."""

    def __init__(self, broker: dramatiq.Broker, handlers: Handlers) -> None:
        self.broker = broker
        self._worker: dramatiq.Worker | None = None

        self._running = _Running()

        def process_inbound(inbound_id: int) -> None:
            with self._running:
                outbox_ids = list(handlers.process(inbound_id))
            for outbox_id in outbox_ids:
                self._deliver.send(outbox_id)

        def deliver_outbox(outbox_id: int) -> None:
            with self._running:
                handlers.deliver(outbox_id)

        def process_inbound_batch(inbound_ids: list[int]) -> None:
            with self._running:
                outbox_ids = list(handlers.process_many(inbound_ids))
            for outbox_id in outbox_ids:
                self._deliver.send(outbox_id)

        # Retries cover a store outage; bad mail never raises (it is quarantined instead).
        options: dict[str, Any] = {"broker": broker, "max_retries": 5, "min_backoff": 1000,
                                   "max_backoff": 60_000}
        self._process = dramatiq.actor(actor_name="process_inbound", **options)(process_inbound)
        self._deliver = dramatiq.actor(actor_name="deliver_outbox", **options)(deliver_outbox)
        self._batch = dramatiq.actor(actor_name="process_inbound_batch", **options)(process_inbound_batch)

    def enqueue_inbound(self, inbound_id: int) -> None:
        """Ask a worker to process inbound row `inbound_id`."""
        self._process.send(inbound_id)

    def enqueue_inbound_batch(self, inbound_ids: list[int]) -> None:
        """Ask a worker to process these inbound rows together (one transaction)."""
        self._batch.send(inbound_ids)

    def enqueue_outbox(self, outbox_id: int) -> None:
        """Ask a worker to deliver outbox row `outbox_id`."""
        self._deliver.send(outbox_id)

    def start_workers(self, threads: int) -> None:
        """Run `threads` worker threads in this process."""
        # dramatiq's own CLI announces the boot; middleware such as Prometheus sets up on it.
        self.broker.emit_after("process_boot")
        self._worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=100)
        self._worker.start()

    @property
    def shared(self) -> bool:
        """Whether the queue lives outside this process (Redis, RabbitMQ), so other processes work it."""
        return not isinstance(self.broker, StubBroker)

    def queue_depth(self) -> int | None:
        """See `queue_depth`."""
        return queue_depth(self.broker)

    def stop_workers(self, timeout_ms: int = 10_000) -> None:
        """Let running jobs finish (for at most `timeout_ms`), then stop, whatever state the broker is
        in: telling it what was done takes at most 2 × BROKER_LETGO_SECONDS more. Queued ids are
        recovered by the sweep.

        The jobs are waited for by count, not by their threads: a worker thread whose job is done may
        be stuck acknowledging it to a broker that is gone (dramatiq retries that forever)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            for thread in worker.workers:
                thread.stop()  # takes no new message
            if not self._running.wait_idle(timeout_ms / 1000):
                log.warning("jobs still running after %.0fs; stopping without them", timeout_ms / 1000)
        letting_go = threading.Thread(target=self._let_go, args=(worker,), daemon=True,
                                      name="maildesk-queue-stop")
        letting_go.start()
        letting_go.join(2 * BROKER_LETGO_SECONDS)
        if letting_go.is_alive():  # a daemon thread: it ends with the process
            log.warning("the broker did not answer while stopping; what it was not told is delivered again")

    def _let_go(self, worker: dramatiq.Worker | None) -> None:
        """The broker's part of stopping: acknowledgements and prefetched messages handed back."""
        try:
            if worker is not None:
                worker.stop(timeout=int(BROKER_LETGO_SECONDS * 1000))
            self.broker.close()
        except Exception as exc:  # the broker's client raises its own types; the stop goes on
            log.warning("the broker could not be told everything while stopping: %s", exc)

    def join(self, timeout_ms: int = 30_000) -> None:
        """Wait until the in-memory queues are empty (tests and `maildesk ingest`)."""
        if isinstance(self.broker, StubBroker):
            self.broker.join("default", timeout=timeout_ms)
            if self._worker is not None:
                self._worker.join()
