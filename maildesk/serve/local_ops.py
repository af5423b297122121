"""What a running daemon does for a command over its local socket (serve/local.py): store a piped
mail durably and queue it, as the SMTP listener does for a mail it answers 250 to; and answer
`tickets list` and `tickets show` with the same functions the commands call themselves."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from maildesk.admin import ticket_reads
from maildesk.admin.ticket_request import ListRequest
from maildesk.arrival.intake import WaveWriter
from maildesk.domain import Envelope
from maildesk.errors import MaildeskError, MessageRejected
from maildesk.runtime.wiring import Runtime
from maildesk.serve.local import EX_DATAERR, EX_TEMPFAIL, EX_USAGE, Answer
from maildesk.serve.local_server import Handler
from maildesk.serve.logs import fold

log = logging.getLogger(__name__)
_FALLBACK = Answer(0, fields={"fallback": True})


def handlers(runtime: Callable[[], Runtime], intake: WaveWriter,
             enqueue: Callable[[int], None]) -> dict[str, Handler]:
    """The ops of the local socket; `runtime` gives the current runtime (a reload replaces it)."""
    return {"ingest": partial(_ingest, intake, enqueue), "tickets.list": partial(_list, runtime),
            "tickets.show": partial(_show, runtime)}


def _ingest(intake: WaveWriter, enqueue: Callable[[int], None], request: dict[str, Any],
            body: bytes) -> Answer:
    """Commit the mail durably (exit 0 only after that), then queue it; the command's exit status
    as `maildesk ingest` storing it itself would end with."""
    mail_from, rcpt_to = request.get("mail_from"), request.get("rcpt_to", [])
    if not (mail_from is None or isinstance(mail_from, str)) or not isinstance(rcpt_to, list) \
            or not all(isinstance(r, str) for r in rcpt_to):
        return _FALLBACK
    try:
        accepted = intake.accept(body, Envelope(mail_from=mail_from, rcpt_to=tuple(rcpt_to), source="pipe"))
    except MessageRejected as exc:
        return Answer(EX_DATAERR, str(exc))
    except MaildeskError as exc:  # the store: temporary for the MTA, which keeps the mail queued
        return Answer(EX_TEMPFAIL, fold(str(exc)))
    except Exception as exc:  # whatever else failed before the commit, the MTA must keep the mail
        log.exception("could not store a piped message")
        return Answer(EX_TEMPFAIL, f"could not store the message: {fold(str(exc)) or type(exc).__name__}")
    try:
        enqueue(accepted.inbound_id)
    except Exception:  # stored is what counts; the sweep will queue it
        log.exception("inbound=%s stored but not queued; the sweep will pick it up", accepted.inbound_id)
    return Answer(0, fields={"inbound": accepted.inbound_id, "new": accepted.new})


def _list(runtime: Callable[[], Runtime], request: dict[str, Any], body: bytes) -> Answer:
    rt = runtime()
    return _read(lambda: ticket_reads.list_text(rt.db, rt.settings.desk.instance,
                                                ListRequest.from_json(request.get("list")),
                                                bool(request.get("json"))))


def _show(runtime: Callable[[], Runtime], request: dict[str, Any], body: bytes) -> Answer:
    rt = runtime()
    return _read(lambda: ticket_reads.show_text(rt.db, rt.settings.desk.instance, str(request.get("ticket")),
                                                bool(request.get("json"))))


def _read(read: Callable[[], str]) -> Answer:
    """The text a read prints, or its one-line error with status 2, as the command gives it."""
    try:
        return Answer(0, output=read().encode())
    except MaildeskError as exc:
        return Answer(EX_USAGE, str(exc))
