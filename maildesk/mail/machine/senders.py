"""Who sent a mail, as far as the headers and the envelope tell, and which robot roles the sender plays.

The roles are read from the local part of From: and of the reverse-path (the SMTP envelope, else the
topmost Return-Path): MTA daemons and postmasters, no-reply addresses, root / abuse, and the robots
of mailing lists (``owner-*``, ``*-request``, ``*-bounces``, LISTSERV, majordomo). Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from maildesk.mail.machine.headers import first_address, header_value, header_values, local_part

_DAEMON_LOCAL = re.compile(r"^(?:mailer[-_]?daemon|mail[-_]daemon)$")
_NOREPLY_LOCAL = re.compile(r"^(?:no|do[-_.]?not|dont)[-_.]?reply(?:$|[-+_.0-9])")
_LIST_ROBOT_LOCAL = re.compile(r"^(?:owner-.+|.+-(?:request|owner|bounces?)|listserv|majordomo|mailman)$")
_DAEMON_DISPLAY = re.compile(r"mail delivery (?:sub)?system|mailer[-_ ]daemon|mail administrator", re.I)


@dataclass(frozen=True)
class Sender:
    """Who sent it, as far as the headers and the envelope tell."""

    from_addr: str
    from_display: str
    from_present: bool
    reverse_path: str | None  # None: unknown; "": the null reverse-path
    path_source: str  # "envelope" or "return-path": which one gave reverse_path


def sender_of(msg: Message, mail_from: str | None) -> Sender:
    """The sender of `msg`; `mail_from` is the SMTP reverse-path (None when there was no envelope)."""
    from_values = header_values(msg, "From")
    display, addr = first_address(from_values[0]) if from_values else ("", "")
    path: str | None
    if mail_from is not None:
        path, source = mail_from.strip().strip("<>").lower(), "envelope"
    else:
        # IMAP and pipes have no envelope; the topmost Return-Path is the delivering MTA's record of it.
        return_path = header_value(msg, "Return-Path")
        path = first_address(return_path)[1] if return_path else None
        if return_path and path == "" and "<" not in return_path:
            path = None  # a garbled Return-Path is not evidence of a null path
        source = "return-path"
    return Sender(addr, display, bool(from_values), path, source)


def _robot_role(addr: str) -> str | None:
    local = local_part(addr)
    if _DAEMON_LOCAL.match(local):
        return "mailer-daemon"
    if local in ("postmaster", "root", "abuse"):
        return local
    if _NOREPLY_LOCAL.match(local):
        return "no-reply"
    if _LIST_ROBOT_LOCAL.match(local):
        return "list-robot"
    return None


def sender_roles(sender: Sender) -> list[tuple[str, str]]:
    """(where, role) for each robot-looking sender address."""
    roles = []
    for where, addr in (("from", sender.from_addr), (sender.path_source, sender.reverse_path or "")):
        role = _robot_role(addr) if addr else None
        # root@ in the envelope is a local .forward or cron re-sending someone's mail: only From: counts.
        if role and not (where != "from" and role in ("root", "abuse")):
            roles.append((where, role))
    return roles


def null_path_reason(sender: Sender) -> str | None:
    """The reason for a null reverse-path, named after where it was seen; None for any other path."""
    if sender.reverse_path != "":
        return None
    return "null-reverse-path" if sender.path_source == "envelope" else "return-path:null"


def daemon_like(sender: Sender) -> bool:
    """Looks like an MTA speaking: what a plain-text bounce needs before its text is believed."""
    if sender.reverse_path == "" or (sender.from_present and not sender.from_addr):
        return True
    if _DAEMON_DISPLAY.search(sender.from_display):
        return True
    return any(role in ("mailer-daemon", "postmaster") for _, role in sender_roles(sender))
