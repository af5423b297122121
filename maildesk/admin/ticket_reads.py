"""Ticket queries for the CLI, values out: `tickets list` and `tickets show` as values and as the text
they print, and which agent a name on the command line means. Only the store (and the ticket tag's
grammar): a command that reads tickets loads no pipeline, templates or broker, and a running daemon
answers the same request with the same function (serve/local_ops.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from maildesk.admin import ticket_text
from maildesk.admin.ticket_request import ListRequest
from maildesk.errors import TicketNotFound, UsageProblem
from maildesk.mail.tags import ticket_number
from maildesk.store import contacts, reads
from maildesk.store.db import Database, Session
from maildesk.store.reads import TicketDetail, TicketFilter, TicketRow


@dataclass(frozen=True)
class Admin:
    """Who runs the command: their name as the events record it (`admin:NAME`), and as an agent's
    name, address or local part for "me"."""

    name: str

    @property
    def actor(self) -> str:
        """The events' actor."""
        return f"admin:{self.name}"


def list_tickets(db: Database, flt: TicketFilter, assignee: str = "",
                 admin: Admin | None = None) -> list[TicketRow]:
    """Tickets matching `flt`, newest first; `assignee` is an agent (address, local part or name), "me"
    (the agent `admin` is) or "none" (unassigned)."""
    with db.reading() as session:
        if assignee.lower() == "none":
            flt = replace(flt, unassigned=True)
        elif assignee:
            flt = replace(flt, assignee_id=agent_named(session, assignee, admin)[0])
        return reads.ticket_rows(session, flt)


def show_ticket(db: Database, ticket_id: int) -> TicketDetail:
    """Ticket `ticket_id` with its owner, SLA, files, thread and events; raises TicketNotFound."""
    with db.reading() as session:
        found = reads.ticket_detail(session, ticket_id)
    if found is None:
        raise TicketNotFound(f"no ticket #{ticket_id}")
    return found


def agent_named(session: Session, wanted: str, admin: Admin | None, active: bool = False) -> tuple[int, str]:
    """The agent `wanted` names ("me": the acting admin), among the active ones, or among all when
    listing (a former agent's tickets are still theirs); UsageProblem when none or several match."""
    name = admin.name if wanted.lower() == "me" and admin is not None else wanted
    key = name.strip().lower()
    agents = contacts.all_agents(session)
    hits = [(i, email) for i, email, agent_name, on in agents
            if (on or not active) and key in (email, email.partition("@")[0], agent_name.lower())]
    if len(hits) != 1:
        what = "several agents match" if hits else f"no {'active ' if active else ''}agent"
        me = " (\"me\" is the agent named like --as)" if wanted.lower() == "me" else ""
        raise UsageProblem(f"{what} {name!r}{me}")
    return hits[0]


def list_text(db: Database, instance: str, request: ListRequest, json_wanted: bool) -> str:
    """What `tickets list` prints for `request` on the desk whose tags carry `instance`."""
    flt = TicketFilter(status=request.status, category=request.category, type=request.type,
                       requester=request.requester, text=request.text,
                       text_ticket=ticket_number(request.text, instance) if request.text else None,
                       since=request.since, until=request.until, limit=request.limit, spam=request.spam,
                       breached=request.breached, due_before=request.due_before)
    rows = list_tickets(db, flt, request.assignee, Admin(request.admin) if request.admin else None)
    return ticket_text.list_output(rows, json_wanted)


def show_text(db: Database, instance: str, ticket: str, json_wanted: bool) -> str:
    """What `tickets show TICKET` prints: TICKET as the requester sees it (`[ACME #12]`, `#12`, `12`)."""
    number = ticket_number(ticket, instance)
    if number is None:
        raise UsageProblem(f"{ticket!r} is not a ticket number of this desk (like 12, #12 or [#12])")
    return ticket_text.show_output(show_ticket(db, number), json_wanted)
