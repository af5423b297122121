"""Run the SLA and auto-close sweep for a wired-up desk; `maildesk sweep` and `serve` call this."""

from __future__ import annotations

from datetime import datetime

from maildesk.runtime.wiring import Runtime
from maildesk.sweep.sla import SweepDesk, SweepResult, sweep_tickets


def sweep_desk(runtime: Runtime) -> SweepDesk:
    """What the sweep needs, taken from the runtime (agent notices carry their signed Reply-To)."""
    desk = runtime.desk
    return SweepDesk(db=desk.db, notifier=desk.notifier, clock=desk.clock, reply_to=desk.agents.reply_to,
                     agent_language=runtime.settings.desk.language)


def run_sweep(runtime: Runtime, now: datetime, dry_run: bool = False) -> SweepResult:
    """One SLA and auto-close round at `now`; the notices it queued are in the result's outbox_ids."""
    return sweep_tickets(sweep_desk(runtime), now, dry_run=dry_run)
