"""Mail to the desk's admin about the desk itself, through the ordinary outbox."""

from __future__ import annotations

import logging
from datetime import datetime

from maildesk.config import Settings
from maildesk.domain import Address
from maildesk.mail.compose import OutgoingMail, compose, new_message_id
from maildesk.notices.notifier import Identity
from maildesk.store.db import Database
from maildesk.store.repo import add_outbox

log = logging.getLogger(__name__)


def queue_admin_alert(db: Database, settings: Settings, subject: str, text: str, now: datetime) -> int | None:
    """Store an alert for `[desk] admin` as an outbox row and return its id; None when no admin is set."""
    admin = settings.desk.admin
    if not admin:
        log.warning("no [desk] admin address: alert only logged: %s", subject)
        return None
    identity = Identity.from_settings(settings)
    message_id = new_message_id(identity.message_id_domain)
    raw = compose(OutgoingMail(
        sender=Address(identity.address, identity.name), to=(Address(admin),),
        subject=f"[maildesk] {subject}", text=text, message_id=message_id, date=now,
        loop_token=identity.loop_token, auto_submitted="auto-generated"))
    with db.transaction() as session:
        outbox_id = add_outbox(session, None, "admin_alert", message_id, identity.address, (admin,), raw, now)
    log.info("outbox=%s alert queued for admin %s: %s", outbox_id, admin, subject)
    return outbox_id
