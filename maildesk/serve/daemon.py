"""`maildesk serve`: the SMTP listener, the workers and the periodic sweep.

With a shared broker the workers are threads here (or only in `maildesk worker` processes); with
the embedded one they run in a pipeline process of their own (`maildesk.serve.pipeline_process`) unless
`[broker] pipeline_process = false`.

Under systemd (`Type=notify`, `maildesk.serve.systemd`) it says READY=1 only once the listener is
bound and the workers run, WATCHDOG=1 from its watch loop and STOPPING=1 when it stops; an address
that is taken or a pipeline process that dies before it is ready ends it at once with one line and
a non-zero status. SIGHUP reloads the config file (`maildesk.serve.reload`) without closing the listener.
"""

from __future__ import annotations

import logging
import shutil
import signal
import threading
import time
from datetime import timedelta
from functools import partial
from types import FrameType

from maildesk import metrics
from maildesk.admin.status import desk_status
from maildesk.arrival.imap_fetch import Fetchers
from maildesk.arrival.intake import RawMail, WaveWriter
from maildesk.arrival.recipients import is_ours
from maildesk.arrival.smtp import DeskHandler, SmtpFront
from maildesk.config import Settings
from maildesk.domain import Envelope
from maildesk.errors import ConfigError, MaildeskError, StartError
from maildesk.notices.check import template_problems
from maildesk.pipeline import kb
from maildesk.runtime.queue import Jobs, make_broker
from maildesk.runtime.wiring import Runtime, utcnow
from maildesk.serve import local_ops
from maildesk.serve.bind import bind
from maildesk.serve.local import socket_path
from maildesk.serve.local_server import LocalServer
from maildesk.serve.pipeline_process import PipelineProcess, handlers_for
from maildesk.serve.reload import reload_runtime
from maildesk.serve.systemd import Systemd
from maildesk.sweep.recover import recover
from maildesk.sweep.sla import sweep_tickets

log = logging.getLogger(__name__)


class Daemon:
    """Wires the front end to the queue and runs until SIGTERM or SIGINT; SIGHUP reloads."""

    def __init__(self, runtime: Runtime, workers: bool = True, systemd: Systemd | None = None) -> None:
        self.runtime = runtime
        self.workers = workers
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()
        self.systemd = systemd if systemd is not None else Systemd.from_environment()
        if not workers and self.settings.broker.url == "embedded":
            raise ConfigError("serve --no-workers needs a shared broker ([broker] url = \"redis://…\" or "
                              "\"amqp://…\") and `maildesk worker` processes; the embedded queue lives "
                              "in this process only")
        counting = self.settings.metrics.address is not None
        if counting:
            _counter_files()  # before the broker: dramatiq's middleware reads the place at import
            metrics.enable()
        self.jobs: Jobs | PipelineProcess
        if self.settings.broker.url == "embedded" and self.settings.broker.pipeline_process:
            self.jobs = PipelineProcess(self.settings)
        else:
            self.jobs = Jobs(make_broker(self.settings.broker.url, counting), handlers_for(runtime))
        self.front: SmtpFront | None = None
        self.fetchers = Fetchers()
        self.intake = WaveWriter(runtime.db, self.settings.smtp.max_message_size, utcnow)
        # `maildesk ingest` and the ticket reads hand their work to this process (serve/local.py).
        self.local = LocalServer(socket_path(self.settings.desk.data_dir), self.settings.path,
                                 local_ops.handlers(lambda: self.runtime, self.intake,
                                                    self.jobs.enqueue_inbound),
                                 self.settings.smtp.max_message_size)

    @property
    def settings(self) -> Settings:
        """The running settings (a reload replaces them in the runtime)."""
        return self.runtime.settings

    def accept(self, raw: RawMail, envelope: Envelope) -> int:
        """Store one received message (called by the front end, off its event loop)."""
        return self.intake.accept(raw, envelope).inbound_id

    def free_space(self) -> int:
        """Bytes free where the store writes; the listener answers 452 below 1.5 x the size limit."""
        return shutil.disk_usage(self.settings.desk.data_dir).free

    def accepts_recipient(self, address: str) -> bool:
        """Whether `address` is ours: the desk address or an alias, with any +detail."""
        return is_ours(address, self.settings.desk.own_addresses)

    def check_templates(self) -> None:
        """Refuse to start with a notice template (built-in or the admin's, any language) that does
        not render with sample values: ConfigError naming each file and line."""
        notifier = self.runtime.desk.notifier
        problems = template_problems(notifier.renderer, notifier.identity)
        if problems:
            raise ConfigError("templates that cannot be rendered (nothing started):\n  "
                              + "\n  ".join(problems))

    def run(self) -> None:
        """Start everything, tell systemd, sweep every interval, and stop cleanly on a signal.
        Raises StartError (after stopping what did start) when the listener or the workers fail,
        ConfigError when a template cannot be rendered."""
        self.check_templates()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        signal.signal(signal.SIGHUP, self._on_hangup)
        try:
            self._start()
            log.info("maildesk ready: %s", self._describe())
            self.systemd.ready(self._describe())
            self._watch()
        finally:
            self.systemd.stopping()
            self.shutdown()

    def _start(self) -> None:
        address = self.settings.metrics.address
        if address is not None:
            child = self._pipeline_pid if isinstance(self.jobs, PipelineProcess) else None
            bind("the metrics endpoint", *address,
                 partial(metrics.serve_endpoint, *address, self.gauges, child))
        if self.workers:
            self.jobs.start_workers(self.settings.broker.worker_threads)
        self._sweep(first=True)  # Whatever a crash left behind is queued before new mail.
        self.intake.start()
        self.local.start()
        if self.settings.smtp.enabled:
            handler = DeskHandler(self.accept, self.jobs.enqueue_inbound, self.accepts_recipient,
                                  self.settings.smtp.lmtp, free_space=self.free_space,
                                  max_size=self.settings.smtp.max_message_size,
                                  spool_dir=self.settings.desk.data_dir / "spool")
            front = SmtpFront(self.settings.smtp, handler)
            bind("the SMTP listener", self.settings.smtp.host, self.settings.smtp.port, front.start)
            self.front = front
        self.start_fetchers()

    def _describe(self) -> str:
        smtp = self.settings.smtp
        listening = f"{'LMTP' if smtp.lmtp else 'SMTP'} on {smtp.host}:{smtp.port}"
        if not smtp.enabled:
            listening = "no listener"
        threads = self.settings.broker.worker_threads if self.workers else 0
        return f"{listening}, broker {self.settings.broker.url}, {threads} worker threads"

    def _watch(self) -> None:
        # Every second: systemd's watchdog is fed, a SIGHUP is acted on, and a pipeline process that
        # died is replaced, its lost queue refilled from the store at once. Every interval: the sweep.
        next_sweep = time.monotonic() + self.settings.sweep.interval_seconds
        while not self.stopping.wait(min(1.0, self.settings.sweep.interval_seconds)):
            self.systemd.watchdog()
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                self.reload()
            restarted = isinstance(self.jobs, PipelineProcess) and self.jobs.restarted()
            if restarted or time.monotonic() >= next_sweep:
                self._sweep(first=restarted)
                next_sweep = time.monotonic() + self.settings.sweep.interval_seconds

    def reload(self) -> None:
        """SIGHUP: templates, rules, queues, agents' settings and the knowledge base from the config
        file, here and in the pipeline process; the listener and its connections stay as they are.
        A file that does not load changes nothing, and the log says why."""
        self.systemd.reloading()
        try:
            reload_runtime(self.runtime)
        except MaildeskError as exc:
            log.error("reload failed, the running configuration stays: %s", exc)
        else:
            if isinstance(self.jobs, PipelineProcess):
                self.jobs.reload()
            log.info("configuration reloaded from %s", self.settings.path)
            self._reindex()
        finally:
            self.systemd.ready(self._describe())

    def _reindex(self) -> None:
        try:
            report = kb.reindex_if_changed(self.runtime.db, self.settings.selfservice)
        except (MaildeskError, OSError) as exc:
            log.error("knowledge base not re-indexed: %s", exc)
            return
        if report is not None:
            log.info("knowledge base re-indexed: %d articles", report.total)

    def _pipeline_pid(self) -> int | None:
        return self.jobs.pid if isinstance(self.jobs, PipelineProcess) else None

    def gauges(self) -> list[metrics.Reading]:
        """What the metrics endpoint reads from the store at each scrape."""
        return desk_status(self.runtime.db, self.settings, utcnow(), None).readings()

    def start_fetchers(self) -> None:
        """One IMAP fetcher thread per `[[imap]]` account; they end when `stopping` is set."""
        self.fetchers.start(self.settings, self.runtime.db, self.jobs.enqueue_inbound,
                            self.jobs.enqueue_outbox, self.runtime.alert_admin, self.stopping)

    def _sweep(self, first: bool) -> None:
        # At start the in-memory queue is empty, so everything unfinished is queued again; a shared
        # broker still holds what it held, and other front ends may have just queued their rows.
        anew = first and not self.jobs.shared
        stuck = timedelta(0) if anew else timedelta(seconds=self.settings.sweep.stuck_after_seconds)
        try:
            recover(self.runtime.db, utcnow(), stuck, self.jobs.enqueue_inbound, self.jobs.enqueue_outbox)
        except Exception:  # The store may be down for a moment; the next round tries again.
            log.exception("sweep failed")
        try:
            # SLA escalation, reminders and auto-closure (issue #6); its notices go out through the queue.
            for outbox_id in sweep_tickets(self.runtime.desk, utcnow()).outbox_ids:
                self.jobs.enqueue_outbox(outbox_id)
        except Exception:  # Same as above: a failed round is retried at the next interval.
            log.exception("SLA sweep failed")

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        self.stopping.set()

    def _on_hangup(self, signum: int, frame: FrameType | None) -> None:
        # The watch loop reloads within a second; a signal handler must not take locks.
        self.reload_requested.set()

    def shutdown(self) -> None:
        """Stop accepting mail first, then let workers finish what they hold."""
        self.stopping.set()
        self.fetchers.join()
        if self.front is not None:
            self.front.stop()
            self.front = None
        self.local.stop()
        self.intake.stop()
        self.jobs.stop_workers()
        if self.settings.metrics.address is not None:
            metrics.remove_directory()
        self.runtime.db.dispose()
        log.info("maildesk stopped")


def _counter_files() -> None:
    try:
        metrics.prepare_directory()
    except OSError as exc:
        raise StartError(f"cannot make the metrics folder in ${metrics.MULTIPROC_ENV}: {exc}") from exc
