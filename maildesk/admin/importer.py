"""`maildesk import PATH`: a backlog from an mbox file or a Maildir, through the ordinary inbound path.

Each message is committed with `accept_raw` (so the content hash makes a second
run store nothing new) and, with the embedded broker, processed at once like
`maildesk ingest` does; anything that fails to process is left for the sweep.
"""

from __future__ import annotations

import logging
import mailbox
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from maildesk.arrival.intake import accept_raw
from maildesk.domain import Envelope
from maildesk.errors import ConfigError, MaildeskError, MessageRejected
from maildesk.mail.mailbox_sync import return_path
from maildesk.runtime.wiring import Runtime, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backlog:
    """An opened mbox or Maildir: how many messages it holds, and a way to read them in order."""

    kind: str
    box: mailbox.Mailbox[mailbox.Message]
    keys: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.keys)

    def messages(self) -> Iterator[bytes]:
        """The raw bytes of each message (an mbox's "From " separator line excluded)."""
        for key in self.keys:
            yield self.box.get_bytes(key)


def open_backlog(path: Path) -> Backlog:
    """A Maildir when `path` is a folder with cur/ and new/, else an mbox file; ConfigError otherwise."""
    if path.is_dir():
        if not ((path / "cur").is_dir() and (path / "new").is_dir()):
            raise ConfigError(f"{path}: a folder, but not a Maildir (no cur/ and new/)")
        box: mailbox.Mailbox[mailbox.Message] = mailbox.Maildir(path, factory=None, create=False)
        kind = "Maildir"
    elif path.is_file():
        box = mailbox.mbox(path, create=False)
        kind = "mbox"
    else:
        raise ConfigError(f"{path}: no such mbox file or Maildir")
    try:
        keys = tuple(sorted(box.keys()) if kind == "Maildir" else box.keys())
    except (OSError, mailbox.Error) as exc:
        raise ConfigError(f"{path}: cannot read the {kind}: {exc}") from exc
    return Backlog(kind, box, keys)


@dataclass
class ImportTally:
    """What an import did, message by message."""

    new: int = 0
    duplicate: int = 0
    refused: int = 0
    deferred: int = 0


def import_one(runtime: Runtime, raw: bytes, tally: ImportTally) -> None:
    """Store one message (source "import") and, with the embedded broker, process it now."""
    settings = runtime.settings
    envelope = Envelope(mail_from=return_path(raw), rcpt_to=(settings.desk.address,), source="import")
    try:
        accepted = accept_raw(runtime.db, raw, envelope, utcnow(), settings.smtp.max_message_size)
    except MessageRejected as exc:
        log.warning("import: message refused: %s", exc)
        tally.refused += 1
        return
    if not accepted.new:
        tally.duplicate += 1
        return
    tally.new += 1
    if settings.broker.url != "embedded":
        return  # A separate worker exists; the daemon's sweep queues the stored row.
    try:
        for outbox_id in runtime.process(accepted.inbound_id).outbox_ids:
            runtime.deliver(outbox_id)
    except MaildeskError as exc:
        log.warning("inbound=%s imported, processing deferred to the sweep: %s", accepted.inbound_id, exc)
        tally.deferred += 1
