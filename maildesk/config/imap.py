"""`[[imap]]`: mailboxes to read, any number of them.

Beyond the declared keys, an account needs exactly one secret source fitting its `auth`, may speak
plain text only to this machine, and takes its port from `tls` when the port is 0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

from pydantic import with_config

from maildesk.config.faults import Faults
from maildesk.config.fields import (
    FORBID,
    Flag,
    NotNegativeNumber,
    PathOrNone,
    Port,
    Positive,
    PositiveNumber,
    expect,
)
from maildesk.config.secret import password_from_env

_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_PORT = {"imaps": 993, "starttls": 143, "plain": 143}
_SOURCES = {"password": ("password", "password_env", "password_file"),
            "xoauth2": ("oauth2_token_command", "oauth2_token_file")}
# The name travels in inbound.source ("imap:NAME", 32 characters at most).
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,27}")


@with_config(FORBID)
@dataclass(frozen=True, kw_only=True)
class ImapAccount:
    """One `[[imap]]` mailbox: where it is, how to log in, and what to do with mail once stored.

    Secrets from a file or a token helper are read at each login (so a rotated
    secret needs no restart); `password` holds a literal or $password_env value.
    """

    # Empty in the file: imap1, imap2, … by position.
    name: Annotated[str, expect(_NAME.fullmatch, "should be 1-27 letters, digits, . - or _")] = ""
    host: str
    # 0 in the file: 993 for imaps, 143 for starttls and plain.
    port: Port = 0
    tls: Literal["imaps", "starttls", "plain"] = "imaps"
    # CA certificates (PEM) to trust instead of the system's: a private CA, or a self-signed
    # certificate itself (Debian's snakeoil one). Read at every connection.
    ca_file: PathOrNone = None
    username: str
    auth: Literal["password", "xoauth2"] = "password"
    password: str = ""
    password_file: PathOrNone = None
    oauth2_token_command: str = ""
    oauth2_token_file: PathOrNone = None
    folder: str = "INBOX"
    after: Literal["move", "flag"] = "move"
    move_to: str = "maildesk/processed"
    queue: str = ""
    category: str = ""
    idle: Flag = True
    poll_interval_seconds: PositiveNumber = 60.0
    batch_size: Positive = 50
    timeout: PositiveNumber = 60.0
    alert_after_seconds: NotNegativeNumber = 1800.0


def imap_accounts(given: Any, env: Mapping[str, str], faults: Faults) -> tuple[ImapAccount, ...]:
    """The `[[imap]]` sections; what is faulty is left out and adds its lines to `faults`."""
    if not isinstance(given, list) or not all(isinstance(t, dict) for t in given):
        faults.add("imap must be written as [[imap]] sections")
        return ()
    accounts = [a for i, table in enumerate(given) if (a := _account(i, table, env, faults)) is not None]
    names = [a.name for a in accounts]
    for name in sorted({n for n in names if names.count(n) > 1}):
        faults.add(f"two [[imap]] sections are named {name!r}; give each a unique name")
    return tuple(accounts)


def _account(index: int, given: dict[str, Any], env: Mapping[str, str], faults: Faults) -> ImapAccount | None:
    key = f"imap[{index}]"
    table = dict(given)
    if table.get("name", "") == "":
        table["name"] = f"imap{index + 1}"
    password_from_env(table, key, env, faults)
    account = faults.check(ImapAccount, key, table)
    if account is None:
        return None
    sources = [k for k in _SOURCES[account.auth] if given.get(k)]
    if len(sources) != 1:
        wanted = " or ".join(", ".join(_SOURCES[account.auth]).rsplit(", ", 1))
        faults.add(f"{key}: set exactly one of {wanted} (auth = {account.auth!r})")
    if account.tls == "plain" and account.host not in _LOOPBACK:
        # Credentials in clear text over a network: only ever acceptable on this machine (tests).
        faults.add(f"{key}.tls = 'plain' is allowed only for a loopback host")
    if account.tls == "plain" and account.ca_file is not None:
        faults.add(f"{key}.ca_file is for tls = 'imaps' or 'starttls'; with 'plain' there is no certificate")
    return replace(account, port=account.port or _PORT[account.tls])
