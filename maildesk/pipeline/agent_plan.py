"""An agent's commands as the steps of one ticket change, checked before anything is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from maildesk.domain import Address, Status
from maildesk.domain.ticket import (
    AddParticipant,
    Record,
    RemoveParticipant,
    SetField,
    SetStatus,
    Step,
    TicketState,
)
from maildesk.errors import InvalidTransition
from maildesk.policy.commands import (
    Assign,
    ChangeCc,
    Command,
    ParsedCommands,
    SendAttachments,
    SetCategory,
    SetPriority,
)
from maildesk.policy.commands import SetStatus as StatusCommand
from maildesk.policy.lifecycle import check_transition, closes
from maildesk.store import contacts, messages
from maildesk.store.db import Session

REASON = "agent command"


@dataclass
class _Plan:
    """What the commands ask for, gathered in order (the last of each kind wins)."""

    status: Status | None = None
    priority: str | None = None
    category: str | None = None
    assignee: tuple[int | None, str] | None = None
    cc_add: list[str] = field(default_factory=list)
    cc_remove: list[str] = field(default_factory=list)
    files: tuple[int, ...] | None = None  # #attachments: these files (empty: every one)


def plan(session: Session, ticket: TicketState, commands: ParsedCommands, agent_id: int, agent_key: str,
         now: datetime) -> tuple[Step, ...] | str:
    """The steps the commands make, or why they cannot be carried out (a parse error, an unknown
    agent, a status the lifecycle refuses)."""
    if commands.error is not None:
        return commands.error.reason
    wanted = _Plan()
    for command in commands.commands:
        problem = (_add(session, wanted, command, agent_id, agent_key)
                   or _files(session, ticket, wanted, command))
        if problem:
            return problem
    target = wanted.status
    if target is None and not commands.is_note and commands.text.strip() and ticket.status == Status.NEW:
        target = Status.OPEN  # The first public answer puts a new ticket in work.
    if target is not None and target != ticket.status:
        try:
            check_transition(Status(ticket.status), target)
        except InvalidTransition as exc:
            return str(exc)
    else:
        target = None
    return _steps(session, ticket, wanted, target, now)


def _add(session: Session, wanted: _Plan, command: Command, agent_id: int, agent_key: str) -> str:
    if isinstance(command, StatusCommand):
        wanted.status = command.status
    elif isinstance(command, SetPriority):
        wanted.priority = command.priority.value
    elif isinstance(command, SetCategory):
        wanted.category = command.category
    elif isinstance(command, Assign):
        found = _assignee(session, command.agent, agent_id, agent_key)
        if isinstance(found, str):
            return found
        wanted.assignee = found
    elif isinstance(command, ChangeCc):
        (wanted.cc_add if command.add else wanted.cc_remove).append(command.address)
    return ""


def _files(session: Session, ticket: TicketState, wanted: _Plan, command: Command) -> str:
    """Take `#attachments` into the plan; why not, when it names a file the ticket does not have."""
    if not isinstance(command, SendAttachments):
        return ""
    count = len(messages.ticket_files(session, ticket.id))
    if not count:
        return "#attachments: this ticket has no files"
    beyond = [n for n in command.numbers if n > count]
    if beyond:
        return f"#attachments: this ticket has {count} file{'s' * (count > 1)}, not {beyond[0]}"
    wanted.files = command.numbers
    return ""


def _assignee(session: Session, wanted: str, agent_id: int, agent_key: str) -> tuple[int | None, str] | str:
    if wanted.lower() == "me":
        return agent_id, agent_key
    if wanted.lower() == "none":
        return None, ""
    match = contacts.find_agent(session, wanted)
    return match if match is not None else f"#assign: no active agent {wanted!r}"


def _steps(session: Session, ticket: TicketState, wanted: _Plan, status: Status | None,
           now: datetime) -> tuple[Step, ...]:
    steps: list[Step] = []
    if status is not None:
        steps.append(SetStatus(status, REASON, close_reason="agent" if closes(status) else ""))
    if wanted.priority is not None:
        steps.append(SetField("priority", wanted.priority, event="priority", reason=REASON))
    if wanted.category is not None:
        steps.append(SetField("category", wanted.category, event="category", reason=REASON))
    if wanted.assignee is not None:
        agent, label = wanted.assignee
        steps.append(SetField("assignee_id", agent, event="assign", reason=REASON, detail={"new": label}))
    for address in wanted.cc_add:
        contact = contacts.contact_for(session, Address(address), now)
        steps.append(AddParticipant(contact.id, "cc", event="cc_add", reason=REASON,
                                    detail={"address": address}))
    steps += [RemoveParticipant(a, event="cc_remove", reason=REASON,
                                detail={"address": a}) for a in wanted.cc_remove]
    if wanted.files is not None:
        steps.append(Record("attachments", REASON, {"files": list(wanted.files) or "all"}))
    return tuple(steps)
