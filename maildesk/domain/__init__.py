"""Values every layer shares: ids, statuses, addresses, a ticket's state and the changes that move it.

No I/O and no settings here; `maildesk.domain.values` and `maildesk.domain.ticket` hold the definitions.
"""

from maildesk.domain.values import (
    FINAL_STATUSES,
    Address,
    AnswerCounts,
    Direction,
    Envelope,
    FolderState,
    InboundId,
    InboundState,
    OutboxId,
    OutboxState,
    Priority,
    SentCounts,
    Status,
    StoredFile,
    TicketId,
)

__all__ = [
    "FINAL_STATUSES",
    "Address",
    "AnswerCounts",
    "Direction",
    "Envelope",
    "FolderState",
    "InboundId",
    "InboundState",
    "OutboxId",
    "OutboxState",
    "Priority",
    "SentCounts",
    "Status",
    "StoredFile",
    "TicketId",
]
