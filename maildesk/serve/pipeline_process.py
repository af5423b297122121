"""The embedded queue in a child process: `maildesk serve` on one machine uses both cores.

With the embedded broker everything used to run in the serving process, and the GIL let it use
one core: the SMTP listener and the pipeline took turns. Now `serve` starts one pipeline process
(spawned: a fresh interpreter, no inherited sockets) with its own in-memory queue and worker
threads, and sends it row ids over a pipe. The queue still only says "look at row N": if the
child dies, or a send fails, the rows are still in the database and the parent's sweep queues
them again once a new child runs (DESIGN.md decision 1).

The pipe runs both ways for two short words: the child says "ready" once its workers run (`serve`
tells systemd it is ready only then, and exits if the child dies first), and the parent passes
a SIGHUP on as ("reload", 0), after which the child rebuilds its desk from the config file.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from maildesk import config, metrics
from maildesk.errors import MaildeskError, StartError
from maildesk.runtime.queue import Handlers, Jobs, make_broker
from maildesk.runtime.wiring import Runtime
from maildesk.serve.logs import configure_logging
from maildesk.serve.memory import give_large_blocks_back
from maildesk.serve.reload import reload_runtime

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 30.0
RESTART_PAUSE_SECONDS = 1.0
#: A child that has not said "ready" by then is taken for dead (it imports, opens the store, starts threads).
START_TIMEOUT_SECONDS = 60.0
#: At most this many inbound rows are processed in one transaction.
BATCH = 20
#: What the parent sends: ("inbound" | "outbox", row id), ("reload", 0), or None for "finish and stop".
Job = tuple[str, int] | None
READY = "ready"


def replace_pause(child: BaseProcess, what: str, settings: config.Settings) -> None:
    """Before a dead child is replaced: say so, drop its metrics files, and pause, so that a child
    that dies at once does not spin the machine."""
    log.error("%s %s exited with %s; starting another", what, child.pid, child.exitcode)
    if child.pid is not None and settings.metrics.address is not None:
        metrics.process_exited(child.pid)
    time.sleep(RESTART_PAUSE_SECONDS)


def end_process(child: BaseProcess, deadline: float, what: str) -> None:
    """Wait for `child` until `deadline` (time.monotonic); kill it if it is still running then."""
    child.join(max(0.0, deadline - time.monotonic()))
    if child.is_alive():
        log.warning("%s %s did not stop in time; killing it", what, child.pid)
        child.kill()
        child.join(5)


def handlers_for(runtime: Runtime) -> Handlers:
    """What the actors call. The worker that processed a message sends what processing wrote at
    once, with no second trip through the queue; a delivery that fails stays pending with its
    backoff and the sweep retries it."""
    def process(inbound_id: int) -> tuple[int, ...]:
        for outbox_id in runtime.process(inbound_id).outbox_ids:
            runtime.deliver(outbox_id)
        return ()

    def deliver(outbox_id: int) -> None:
        runtime.deliver(outbox_id)

    def process_many(inbound_ids: list[int]) -> tuple[int, ...]:
        outbox_ids = [i for outcome in runtime.process_many(inbound_ids) for i in outcome.outbox_ids]
        if outbox_ids:
            runtime.deliver_many(outbox_ids)
        return ()

    return Handlers(process=process, deliver=deliver, process_many=process_many)


def _with_slot(handlers: Handlers, slots: threading.Semaphore) -> Handlers:
    """Batches that give their worker slot back when done, and never raise: a failed batch leaves
    its rows received for the sweep, and a dramatiq retry would take a slot nobody gave it."""
    def process_many(inbound_ids: list[int]) -> tuple[int, ...]:
        try:
            handlers.process_many(inbound_ids)
        except Exception:
            log.exception("batch of inbound rows %s failed; the sweep will retry them", inbound_ids)
        finally:
            slots.release()
        return ()

    return dataclasses.replace(handlers, process_many=process_many)


def pipeline_main(config_path: str, threads: int, conn: Connection) -> None:
    """The child: work the ids that arrive on `conn` until told to stop or the parent is gone. What
    stops it otherwise is logged as one record (multiprocessing would print a bare traceback)."""
    configure_logging("INFO")  # until the settings are read
    give_large_blocks_back()
    try:
        _work(Path(config_path), threads, conn)
    except Exception:
        log.critical("pipeline process %d failed", os.getpid(), exc_info=True)
        sys.exit(1)


def _work(config_path: Path, threads: int, conn: Connection) -> None:
    settings = config.load(config_path)
    configure_logging(settings.log_level)
    counting = settings.metrics.address is not None
    if counting:
        metrics.enable()  # the parent prepared the directory; the environment says where
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stopping.set())
    # Ctrl-C (and a closed terminal's SIGHUP) reach the whole process group; the parent decides
    # when we stop, after its listener, and passes reloads on through the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    runtime = Runtime.build(settings)
    # One slot per worker thread: ids are taken off the pipe only when a worker is free, so under
    # load they pile up there and each batch (one commit) carries more mail.
    slots = threading.Semaphore(threads)
    jobs = Jobs(make_broker("embedded", counting), _with_slot(handlers_for(runtime), slots))
    jobs.start_workers(threads)
    log.info("pipeline process %d: %d worker threads", os.getpid(), threads)
    conn.send(READY)
    try:
        _feed(conn, jobs, slots, stopping, os.getppid(), partial(_reload, runtime))
    finally:
        jobs.stop_workers()
        runtime.db.dispose()
        log.info("pipeline process %d stopped", os.getpid())


def _reload(runtime: Runtime) -> None:
    try:
        reload_runtime(runtime)
    except MaildeskError as exc:
        log.error("pipeline process %d: reload failed, the running configuration stays: %s", os.getpid(), exc)
    else:
        log.info("pipeline process %d: configuration reloaded", os.getpid())


def _feed(conn: Connection, jobs: Jobs, slots: threading.Semaphore, stopping: threading.Event,
          parent: int, on_reload: Callable[[], None]) -> None:
    while not stopping.is_set():
        if os.getppid() != parent:
            log.warning("pipeline process %d: parent gone, stopping", os.getpid())
            return
        if not conn.poll(0.5) or not slots.acquire(timeout=0.5):
            continue
        try:
            batch, done = _drain(conn, jobs, on_reload)
        except EOFError:
            return
        if batch:
            jobs.enqueue_inbound_batch(batch)
        else:
            slots.release()
        if done:
            return


def _drain(conn: Connection, jobs: Jobs, on_reload: Callable[[], None]) -> tuple[list[int], bool]:
    """The inbound ids waiting on the pipe, at most BATCH (outbox ids are queued as they come), and
    whether the parent said stop. Under load ids pile up while a batch is processed, so the next
    batch is bigger and each commit carries more mail; a quiet desk still gets one mail at a time."""
    batch: list[int] = []
    while len(batch) < BATCH:
        job: Job = conn.recv()
        if job is None:
            return batch, True
        kind, row_id = job
        if kind == "inbound":
            batch.append(row_id)
        elif kind == "reload":
            on_reload()
        else:
            jobs.enqueue_outbox(row_id)
        if not conn.poll(0):
            break
    return batch, False


class PipelineProcess:
    """The parent's side: enqueues like `tasks.Jobs`, but into the child's queue."""

    shared = False  # the queue dies with the child: after a restart, the sweep queues everything

    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._send_lock = threading.Lock()  # listener, fetchers and the sweep send from their threads
        self._child: BaseProcess | None = None
        self._conn: Connection | None = None
        self._threads = settings.broker.worker_threads

    def start_workers(self, threads: int) -> None:
        """Start the child with `threads` worker threads and wait until it says it is ready; raise
        StartError if it dies (or stays silent) first."""
        self._threads = threads
        self._spawn()
        self._await_ready(time.monotonic() + START_TIMEOUT_SECONDS)

    def _spawn(self) -> None:
        ours, theirs = self._context.Pipe(duplex=True)
        child = self._context.Process(target=pipeline_main, name="maildesk-pipeline",
                                      args=(str(self.settings.path), self._threads, theirs))
        child.start()
        theirs.close()  # the child's end; our copy would keep the pipe open after the child dies
        with self._send_lock:
            self._child, self._conn = child, ours

    def _await_ready(self, deadline: float) -> None:
        child, conn = self._child, self._conn
        assert child is not None and conn is not None
        while time.monotonic() < deadline:
            try:
                if conn.poll(0.1) and conn.recv() == READY:
                    return
            except (EOFError, OSError):  # the child's end closed: it is gone
                child.join(5)
            if not child.is_alive():
                raise StartError(f"the pipeline process {_ended(child)} before it was ready; "
                                 "the lines above say why")
        raise StartError(f"the pipeline process did not start within {START_TIMEOUT_SECONDS:.0f} s")

    def enqueue_inbound(self, inbound_id: int) -> None:
        """Ask the pipeline process to process inbound row `inbound_id`."""
        self._send(("inbound", inbound_id))

    def enqueue_outbox(self, outbox_id: int) -> None:
        """Ask the pipeline process to deliver outbox row `outbox_id`."""
        self._send(("outbox", outbox_id))

    def _send(self, job: Job) -> None:
        with self._send_lock:
            try:
                if self._conn is None:
                    raise BrokenPipeError("no pipeline process")
                self._conn.send(job)
            except OSError as exc:
                # The row is stored; the sweep queues it again once a pipeline process runs.
                log.warning("pipeline process unreachable (%s); %s waits for the sweep", exc, job)

    def queue_depth(self) -> int | None:
        """Unknown: the queue lives in the child's memory."""
        return None

    def reload(self) -> None:
        """Ask the pipeline process to read the config file again (after the parent did, successfully)."""
        self._send(("reload", 0))

    @property
    def pid(self) -> int | None:
        """The pipeline process's id, while one runs."""
        child = self._child
        return child.pid if child is not None and child.is_alive() else None

    def restarted(self) -> bool:
        """Start a new child if the last one died; True when that happened (its queue is lost)."""
        child = self._child
        if child is None or child.is_alive():
            return False
        replace_pause(child, "pipeline process", self.settings)
        self._spawn()
        return True

    def stop_workers(self, timeout_ms: int = int(STOP_GRACE_SECONDS * 1000)) -> None:
        """Ask the child to finish what it holds and stop; kill it if it does not in time."""
        child, self._child = self._child, None
        if child is None:  # never started (serve stopped before its workers), or already stopped
            return
        self._send(None)
        with self._send_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        end_process(child, time.monotonic() + timeout_ms / 1000, "pipeline process")


def _ended(child: BaseProcess) -> str:
    """How a child ended, in words: "exited with status 1" or "was killed by SIGKILL"."""
    code = child.exitcode
    if code is not None and code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"
