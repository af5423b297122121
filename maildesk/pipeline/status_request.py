"""Mail to the status address: answered with the sender's own tickets, never a ticket itself.

The list goes to the From: address and only there (never Reply-To, never Cc), and names only tickets
that address opened: a forged From: sends the owner their own list, nobody else's.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time

from maildesk.domain import Address, InboundState, Status
from maildesk.mail.tags import make_tag
from maildesk.notices.render import ContextValue
from maildesk.pipeline.context import Desk
from maildesk.pipeline.outcome import Handled
from maildesk.pipeline.prepare import Arrival
from maildesk.pipeline.turn import Turn
from maildesk.policy import requester
from maildesk.policy.kb.text import guess_language
from maildesk.store import tickets
from maildesk.store.db import Session

log = logging.getLogger(__name__)
#: A status reply lists at most this many tickets, most recently updated first.
STATUS_LIST_LIMIT = 50


def is_status_request(t: Turn) -> bool:
    """Whether the mail was sent to the status address (envelope, To or Cc)."""
    wanted = t.desk.status_address
    headers = (x.email for x in (*t.mail.parsed.to, *t.mail.parsed.cc))
    return any(a.strip().lower() == wanted for a in (*t.row.rcpt_to, *headers))


def take(t: Turn) -> Handled:
    """Answer a status request; an auto-reply to the status address is dropped (never answer a machine)."""
    if t.mail.verdict.machine:
        return Handled(InboundState.IGNORED, None, (), "machine mail to the status address: " +
                       ", ".join(t.mail.verdict.reasons))
    sender = t.mail.sender
    wanted = requester.parse_status_filter(t.mail.parsed.subject)
    since = datetime.combine(wanted.since, time(0), UTC) if wanted.since else None
    found = tickets.requested_by(t.session, sender.key, [s.value for s in wanted.statuses()], since,
                                 STATUS_LIST_LIMIT + 1)
    listed: list[ContextValue] = [
        {"tag": make_tag(f.id, t.desk.settings.desk.instance), "subject": f.subject or "(no subject)",
         "status": f.status, "updated": t.desk.wall_clock(f.updated_at, f.queue)}
        for f in found[:STATUS_LIST_LIMIT]]
    log.info("status request from %s: %d tickets listed", sender.key, len(listed))
    extra: dict[str, ContextValue] = {"tickets": listed, "more": len(found) > STATUS_LIST_LIMIT,
                                      "filter_label": wanted.label()}
    draft = t.desk.notifier.status_list(Address(sender.email, sender.name), _language(t.desk, t.session,
                                                                                      t.mail),
                                        extra, t.mail.parsed.message_id, t.now)
    return Handled(InboundState.DONE, None, (draft,), "status request answered")


def _language(desk: Desk, session: Session, mail: Arrival) -> str:
    """The language of the sender's latest ticket, else a guess from the mail, else the desk's."""
    default = desk.settings.desk.language
    latest = tickets.requested_by(session, mail.sender.key, [s.value for s in Status], None, 1)
    if latest:
        found = tickets.language_of(session, latest[0].id)
        if found is not None:
            return found
    text = mail.parsed.text
    return guess_language(f"{mail.parsed.subject}\n{text}", default) if text.strip() else default
