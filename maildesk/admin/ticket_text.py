"""What `maildesk tickets list` and `tickets show` print, as text or JSON: the same whether the
command read the store itself or a running daemon answered it (serve/local_ops.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from maildesk.admin.output import Column, as_json, table_lines

if TYPE_CHECKING:
    from maildesk.store.reads import SlaView, TicketDetail, TicketRow

#: `tickets list`: UPDATED is when the ticket last changed (UTC); ASSIGNEE "-" while unassigned.
LIST_COLUMNS = (Column("ID", 7), Column("STATUS", 9), Column("PRIORITY", 8), Column("CATEGORY", 12),
                Column("UPDATED", 16), Column("REQUESTER", 30), Column("ASSIGNEE", 24), Column("SUBJECT"))


def list_output(rows: Sequence[TicketRow], json_wanted: bool) -> str:
    """All `tickets list` prints: a JSON array, or the header row and a line per ticket."""
    if json_wanted:
        return as_json([r.as_json() for r in rows])
    return "".join(line + "\n" for line in table_lines(LIST_COLUMNS, [_cells(r) for r in rows]))


def show_output(detail: TicketDetail, json_wanted: bool) -> str:
    """All `tickets show` prints: one JSON object, or the text below."""
    return as_json(detail.as_json()) if json_wanted else detail_text(detail)


def _cells(r: TicketRow) -> tuple[str, ...]:
    return (f"#{r.id}", r.status, r.priority, r.category, f"{r.updated:%Y-%m-%d %H:%M}", r.requester,
            r.assignee or "-", r.subject)


def detail_text(detail: TicketDetail) -> str:
    """The whole of `tickets show`: the ticket, its owner and SLA, its files, thread and events."""
    r = detail.row
    tags = ", ".join(r.tags) or "-"
    lines = [f"#{r.id} {r.subject}", f"status {r.status} · priority {r.priority} · category {r.category}",
             f"queue {r.queue or '-'} · type {r.type} · tier {r.tier or '-'} · tags {tags}"
             + (" · SPAM" if r.spam else "")]
    who = f"{detail.assignee_name} <{r.assignee}>" if detail.assignee_name else r.assignee
    lines.append(f"assignee {who or '-'}" + (f" · merged into #{detail.linked_ticket}"
                                             if detail.close_reason == "merged" else ""))
    if detail.sla is not None:
        lines += _sla(detail.sla)
    lines.append("participants: " + ", ".join(f"{e} ({role})" for e, role in detail.participants))
    for hit in detail.rule_hits:
        lines.append(f"rule {hit['rule']}: " + ", ".join(f"{k}={v}" for k, v in hit["set"].items()))
    if detail.files:
        lines.append("attachments:")
        lines += [f"  {f.index:>3}  {f.filename}  {f.content_type}  {_size(f.size)}  (message {f.message})"
                  for f in detail.files]
    for number, m in enumerate(detail.messages, start=1):
        lines.append(f"\n--- {number}. {m.direction} from {m.sender} at {m.date:%Y-%m-%d %H:%M} "
                     f"[{m.verdict}]")
        if m.attachments:
            lines.append("attachments: " + ", ".join(m.attachments))
        lines.append(m.text)
    lines.append("\nevents:")
    lines += [f"  {e['at']} {e['actor']} {e['kind']} {e.get('reason', '')}" for e in detail.events]
    return "\n".join(lines) + "\n"


def _sla(sla: SlaView) -> list[str]:
    if not sla.policy:
        return ["sla -"]
    paused = _duration(sla.paused_seconds) + (", pending now" if sla.paused_now else "")
    return [f"sla {sla.policy}" + (" · BREACHED" if sla.breached else "") + f" · paused {paused}",
            f"  first response {_target(sla.first_response_due, sla.first_response_at, sla.first_response)}",
            f"  resolution     {_target(sla.resolution_due, sla.resolved_at, sla.resolution)}"]


def _target(due: datetime | None, done: datetime | None, state: str) -> str:
    if due is None:
        return "-"
    text = f"due {due:%Y-%m-%d %H:%M} UTC · {state}"
    return text + (f" at {done:%Y-%m-%d %H:%M}" if done else "")


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m"


def _size(size: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} B"
