"""`maildesk worker`: N processes, each running dramatiq worker threads on the shared broker.

The parent only supervises: it starts the children, restarts one that dies, forwards SIGTERM,
serves the metrics endpoint and talks to systemd (Type=notify): READY=1 once every child consumes
from the broker, WATCHDOG=1 from its loop, STOPPING=1 on SIGTERM. A child exits when its parent
disappears (even by SIGKILL), so an orphan never keeps working on a stale configuration.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from functools import partial
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from pathlib import Path
from types import FrameType

from maildesk import config, metrics
from maildesk.errors import BrokerUnavailable, ConfigError
from maildesk.runtime.queue import Jobs, make_broker
from maildesk.runtime.wiring import Runtime
from maildesk.serve.bind import bind
from maildesk.serve.logs import configure_logging
from maildesk.serve.memory import give_large_blocks_back
from maildesk.serve.pipeline_process import STOP_GRACE_SECONDS, end_process, handlers_for, replace_pause
from maildesk.serve.systemd import Systemd

log = logging.getLogger(__name__)


def child_main(config_path: str, threads: int, consuming: Event) -> None:
    """One worker process: work the shared queue until SIGTERM or until the parent is gone; set
    `consuming` once its threads take messages from the broker."""
    settings = config.load(Path(config_path))
    configure_logging(settings.log_level)
    if settings.metrics.worker_address is not None:
        metrics.enable()
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signum, _frame: stopping.set())
    give_large_blocks_back()
    runtime = Runtime.build(settings)
    jobs = Jobs(make_broker(settings.broker.url, settings.metrics.worker_address is not None),
                handlers_for(runtime))
    parent = os.getppid()
    jobs.start_workers(threads)
    log.info("worker process %d: %d threads on %s", os.getpid(), threads, settings.broker.url)
    told = False
    while not stopping.is_set():
        if not consuming.is_set():
            problem = _unanswered(jobs)
            if problem is None:
                consuming.set()  # the parent tells systemd READY=1 once every process has
            elif not told:
                log.warning("worker process %d: %s; not ready until it answers", os.getpid(), problem)
                told = True
        if os.getppid() != parent:
            log.warning("worker process %d: parent gone, stopping", os.getpid())
            break
        stopping.wait(1.0)
    jobs.stop_workers()
    runtime.db.dispose()


def _unanswered(jobs: Jobs) -> str | None:
    """Why the broker does not answer this process now (its threads cannot take messages), or None."""
    try:
        jobs.queue_depth()
    except BrokerUnavailable as exc:
        return str(exc)
    return None


class WorkerPool:
    """The supervising parent of `maildesk worker`."""

    def __init__(self, settings: config.Settings, processes: int, threads: int) -> None:
        if settings.broker.url == "embedded":
            raise ConfigError("maildesk worker needs a shared broker ([broker] url = \"redis://…\" or "
                              "\"amqp://…\"); with the embedded broker `maildesk serve` does the work")
        self.settings, self.processes, self.threads = settings, processes, threads
        self.context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited sockets
        self.children: list[BaseProcess] = []
        self.consuming: list[Event] = []  # one per child, set once its threads consume
        self.stopping = threading.Event()
        self.systemd = Systemd.from_environment()

    def run(self) -> int:
        """Start the children and keep them running until SIGTERM; return the exit status."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        address = self.settings.metrics.worker_address
        if address is not None:
            metrics.prepare_directory()
            # Beside a front end its `listen` port is taken: the line names the key that fixes it.
            bind("the worker's metrics endpoint ([metrics] worker_listen, else listen)", *address,
                 partial(metrics.serve_endpoint, *address))
        started = [self._spawn() for _ in range(self.processes)]
        self.children, self.consuming = [c for c, _ in started], [e for _, e in started]
        log.info("maildesk worker: %d processes × %d threads", self.processes, self.threads)
        announced = False
        try:
            while not self.stopping.wait(0.5):
                self._replace_dead()
                if not announced and all(e.is_set() for e in self.consuming):
                    self.systemd.ready(f"{self.processes} processes × {self.threads} threads consuming")
                    announced = True
                if announced:
                    self.systemd.watchdog()
        finally:
            self.systemd.stopping()
            self._stop_children()
            if address is not None:
                metrics.remove_directory()
        return 0

    def _spawn(self) -> tuple[BaseProcess, Event]:
        consuming = self.context.Event()
        child = self.context.Process(target=child_main, name="maildesk-worker",
                                     args=(str(self.settings.path), self.threads, consuming))
        child.start()
        return child, consuming

    def _replace_dead(self) -> None:
        for index, child in enumerate(self.children):
            if child.is_alive() or self.stopping.is_set():
                continue
            replace_pause(child, "worker process", self.settings)
            self.children[index], self.consuming[index] = self._spawn()

    def _stop_children(self) -> None:
        for child in self.children:
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in self.children:
            end_process(child, deadline, "worker process")

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: stopping workers", signal.Signals(signum).name)
        self.stopping.set()
