"""`maildesk serve`: the SMTP listener, the workers and the periodic sweep.

With a shared broker the workers are threads here (or only in `maildesk worker` processes); with
the embedded one they run in a pipeline process of their own (`maildesk.serve.pipeline_process`) unless
`[broker] pipeline_process = false`.
"""

from __future__ import annotations

import logging
import shutil
import signal
import threading
import time
from datetime import timedelta
from types import FrameType

from maildesk import metrics
from maildesk.arrival.imap_fetch import Fetchers
from maildesk.arrival.intake import RawMail, WaveWriter
from maildesk.arrival.recipients import is_ours
from maildesk.arrival.smtp import DeskHandler, SmtpFront
from maildesk.domain import Envelope
from maildesk.errors import ConfigError
from maildesk.notices.check import template_problems
from maildesk.runtime.queue import Jobs, make_broker
from maildesk.runtime.wiring import Runtime, utcnow
from maildesk.serve.pipeline_process import PipelineProcess, handlers_for
from maildesk.sweep.recover import recover
from maildesk.sweep.sla import sweep_tickets

log = logging.getLogger(__name__)


class Daemon:
    """Wires the front end to the queue and runs until SIGTERM or SIGINT."""

    def __init__(self, runtime: Runtime, workers: bool = True) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.workers = workers
        self.stopping = threading.Event()
        if not workers and self.settings.broker.url == "embedded":
            raise ConfigError("serve --no-workers needs a shared broker ([broker] url = \"redis://…\" or "
                              "\"amqp://…\") and `maildesk worker` processes; the embedded queue lives "
                              "in this process only")
        counting = self.settings.metrics.address is not None
        if counting:
            metrics.prepare_directory()  # before the broker: dramatiq's middleware reads it at import
            metrics.enable()
        self.jobs: Jobs | PipelineProcess
        if self.settings.broker.url == "embedded" and self.settings.broker.pipeline_process:
            self.jobs = PipelineProcess(self.settings)
        else:
            self.jobs = Jobs(make_broker(self.settings.broker.url, counting), handlers_for(runtime))
        self.front: SmtpFront | None = None
        self.fetchers = Fetchers()
        self.intake = WaveWriter(runtime.db, self.settings.smtp.max_message_size, utcnow)

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
        """Start everything, sweep every interval, and stop cleanly on a signal."""
        self.check_templates()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        if self.settings.metrics.address is not None:
            metrics.serve_endpoint(*self.settings.metrics.address)
        if self.workers:
            self.jobs.start_workers(self.settings.broker.worker_threads)
        self._sweep(first=True)  # Whatever a crash left behind is queued before new mail.
        if self.settings.smtp.enabled:
            self.intake.start()
            handler = DeskHandler(self.accept, self.jobs.enqueue_inbound, self.accepts_recipient,
                                  self.settings.smtp.lmtp, free_space=self.free_space,
                                  max_size=self.settings.smtp.max_message_size,
                                  spool_dir=self.settings.desk.data_dir / "spool")
            self.front = SmtpFront(self.settings.smtp, handler)
            self.front.start()
        self.start_fetchers()
        log.info("maildesk ready (broker %s, %d worker threads)", self.settings.broker.url,
                 self.settings.broker.worker_threads if self.workers else 0)
        try:
            self._watch()
        finally:
            self.shutdown()

    def _watch(self) -> None:
        # Every second: a pipeline process that died is replaced, and its lost queue refilled from
        # the store at once. Every interval: the sweep.
        interval = self.settings.sweep.interval_seconds
        next_sweep = time.monotonic() + interval
        while not self.stopping.wait(min(1.0, interval)):
            restarted = isinstance(self.jobs, PipelineProcess) and self.jobs.restarted()
            if restarted or time.monotonic() >= next_sweep:
                self._sweep(first=restarted)
                next_sweep = time.monotonic() + interval

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

    def shutdown(self) -> None:
        """Stop accepting mail first, then let workers finish what they hold."""
        self.stopping.set()
        self.fetchers.join()
        if self.front is not None:
            self.front.stop()
            self.front = None
        self.intake.stop()
        self.jobs.stop_workers()
        if self.settings.metrics.address is not None:
            metrics.remove_directory()
        self.runtime.db.dispose()
        log.info("maildesk stopped")
