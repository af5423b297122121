"""Deliver into a local Maildir: the default when no relay is configured.

The file name is derived from the Message-ID, so delivering the same outbox
row twice (a retry after a crash) finds the file already there and writes
nothing: each message appears exactly once.
"""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

from maildesk.errors import PermanentDeliveryError, TransientDeliveryError
from maildesk.mail.addresses import is_addr_spec


class MaildirSender:
    """Writes each message to `new/` via `tmp/`, as the Maildir convention asks."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)
        self._host = socket.gethostname().replace("/", "_").replace(":", "_")
        self._made = False  # tmp/, new/ and cur/ exist (checked once per process, not per mail)

    def send(self, mail_from: str, rcpt_to: list[str], raw: bytes, message_id: str) -> None:
        """Write `raw` once; envelope fields go into a Return-Path/Delivered-To prefix."""
        for address in (mail_from, *rcpt_to):
            if not is_addr_spec(address):  # it becomes header text below: no line breaks (S9)
                raise PermanentDeliveryError(f"not a single mail address: {address!r}")
        name = f"maildesk.{hashlib.sha256(message_id.encode()).hexdigest()[:32]}.{self._host}"
        try:
            if not self._made:
                for sub in ("tmp", "new", "cur"):
                    (self.root / sub).mkdir(parents=True, exist_ok=True)
                self._made = True
            final = self.root / "new" / name
            if final.exists() or (self.root / "cur" / f"{name}:2,").exists():
                return
            tmp = self.root / "tmp" / name
            envelope = f"Return-Path: <{mail_from}>\r\n" + "".join(f"Delivered-To: {r}\r\n" for r in rcpt_to)
            with open(tmp, "wb") as fh:
                fh.write(envelope.encode("utf-8") + raw)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except OSError as exc:
            self._made = False  # someone may have removed the directories: make them again next time
            raise TransientDeliveryError(f"cannot write to maildir {self.root}: {exc}") from exc

    def check(self) -> str:
        """The Maildir's folder (or, before the first mail, the nearest folder it will be made in) is
        writable by this user. Nothing is created: a check run as root must not leave root's folders."""
        existing = self.root
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            raise TransientDeliveryError(f"cannot write to maildir {self.root}: "
                                         f"{existing} is not a writable folder")
        later = "" if existing == self.root else " (made at the first mail)"
        return f"no relay: mail is written to the Maildir {self.root}{later}"
