"""`#attachments`: a notice to the agent who asked, carrying the ticket's files (those named, or all),
as many as the notice size limit allows; the others are named in it, to fetch with
`maildesk tickets attachment`."""

from __future__ import annotations

from maildesk.domain import Address
from maildesk.domain.ticket import TicketState
from maildesk.mail.compose import OutgoingAttachment
from maildesk.notices.notifier import Draft, TicketSummary
from maildesk.notices.render import ContextValue
from maildesk.pipeline.requester import NOTICE_ATTACHMENT_LIMIT
from maildesk.pipeline.turn import Turn
from maildesk.store import messages


def notice(t: Turn, ticket: TicketState, summary: TicketSummary, agent: tuple[int, Address],
           numbers: tuple[int, ...]) -> Draft:
    """The notice with files `numbers` of the ticket (empty: every file), in order, up to the limit."""
    files = messages.ticket_files(t.session, ticket.id)
    wanted = numbers or tuple(range(1, len(files) + 1))
    carried: list[OutgoingAttachment] = []
    listed: list[ContextValue] = []
    left_out: list[ContextValue] = []
    total = 0
    for number in wanted:
        found = files[number - 1]
        entry: ContextValue = {"number": number, "filename": found.filename, "size": size_text(found.size)}
        if total + found.size <= NOTICE_ATTACHMENT_LIMIT:
            total += found.size
            data = t.desk.blobs.get(found.sha256)
            carried.append(OutgoingAttachment(found.filename, found.content_type, data))
            listed.append(entry)
        else:
            left_out.append(entry)
    extra: dict[str, ContextValue] = {"files": listed, "left_out": left_out,
                                      "limit": size_text(NOTICE_ATTACHMENT_LIMIT)}
    agent_id, address = agent
    return t.desk.notifier.agent_files(summary, address, extra, tuple(carried),
                                       t.desk.reply_to(ticket.id, agent_id), t.now)


def size_text(size: int) -> str:
    """A size as people read it: 840 B, 12.5 KiB, 3.0 MiB."""
    if size < 1024:
        return f"{size} B"
    return f"{size / 1024:.1f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MiB"
