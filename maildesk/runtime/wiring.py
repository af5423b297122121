"""Build the pieces one process needs from the settings: store, notifier, sender, queue."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from maildesk.config import Settings, resolve_secret
from maildesk.domain import OutboxId
from maildesk.notices.alerts import admin_alert
from maildesk.notices.notifier import Identity, Notifier
from maildesk.notices.render import Renderer
from maildesk.outbound import Sender, make_sender
from maildesk.outbound.delivery import DeliveryOutcome, deliver, deliver_many
from maildesk.outbound.gate import Posting, admit
from maildesk.pipeline.context import Desk
from maildesk.pipeline.outcome import Outcome
from maildesk.pipeline.process import process_batch, process_inbound
from maildesk.policy.brakes import brake_limits
from maildesk.store import revision
from maildesk.store.blobs import BlobStore
from maildesk.store.db import Database

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


@dataclass
class Runtime:
    """The wired-up desk of this process."""

    settings: Settings
    desk: Desk
    sender: Sender

    @classmethod
    def build(cls, settings: Settings, require_schema: bool = True) -> Runtime:
        """Open the store (checking its schema is current) and build the rest."""
        db = Database(settings.database.url)
        if require_schema:
            revision.check(db)
        return cls(settings=settings, desk=_desk(settings, db), sender=make_sender(settings.outbound))

    def reload(self, settings: Settings) -> None:
        """Rebuild the desk and the sender from `settings` on the same store (SIGHUP). When they do
        not compile this raises and the runtime stays as it was; work in progress finishes on the
        desk it started with."""
        desk, sender = _desk(settings, self.db), make_sender(settings.outbound)
        self.settings, self.desk, self.sender = settings, desk, sender

    @property
    def db(self) -> Database:
        """The store."""
        return self.desk.db

    def alert_admin(self, subject: str, text: str, now: datetime) -> OutboxId | None:
        """Queue mail about the desk itself for `[desk] admin`, through the outbound gate; its row's id."""
        draft = admin_alert(self.settings, subject, text, now)
        if draft is None:
            return None
        with self.db.transaction() as session:
            ids = admit(session, self.desk.gate, [Posting(None, draft)], now)
        if ids:
            log.info("outbox=%s alert queued for admin %s: %s", ids[0], self.settings.desk.admin, subject)
        return ids[0] if ids else None

    def process(self, inbound_id: int) -> Outcome:
        """Process one inbound row now."""
        return process_inbound(self.desk, inbound_id, utcnow())

    def deliver(self, outbox_id: int) -> DeliveryOutcome:
        """Deliver one outbox row now."""
        return deliver(self.db, self.sender, self.settings.outbound, outbox_id, utcnow())

    def process_many(self, inbound_ids: Sequence[int]) -> list[Outcome]:
        """Process several inbound rows now, in one transaction."""
        return process_batch(self.desk, inbound_ids, utcnow())

    def deliver_many(self, outbox_ids: Sequence[int]) -> list[DeliveryOutcome]:
        """Deliver several outbox rows now (one claiming and one recording transaction)."""
        return deliver_many(self.db, self.sender, self.settings.outbound, outbox_ids, utcnow())


def _desk(settings: Settings, db: Database) -> Desk:
    notifier = Notifier(Renderer(settings.desk.templates_dir), Identity.from_settings(settings))
    desk = Desk(db=db, settings=settings, notifier=notifier,
                blobs=BlobStore(settings.desk.data_dir / "blobs"),
                today=utcnow().date(), secret=resolve_secret(settings),
                brake_limits=brake_limits(settings.brakes))
    # Compile routing now: a bad calendar or notice template must stop start-up (or a reload),
    # not fail (and finally quarantine) the first mail.
    _ = desk.routing
    return desk
