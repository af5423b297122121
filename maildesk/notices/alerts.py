"""Mail to the desk's admin about the desk itself (a mailbox failing for too long), as a draft."""

from __future__ import annotations

import logging
from datetime import datetime

from maildesk.config import Settings
from maildesk.domain import Address
from maildesk.mail.compose import OutgoingMail, new_message_id
from maildesk.notices.notifier import Draft, Identity

log = logging.getLogger(__name__)


def admin_alert(settings: Settings, subject: str, text: str, now: datetime,
                kind: str = "admin_alert") -> Draft | None:
    """An alert for `[desk] admin` (outbox kind `kind`); None (and a log line) when no admin address
    is set."""
    admin = settings.desk.admin
    if not admin:
        log.warning("no [desk] admin address: alert only logged: %s", subject)
        return None
    identity = Identity.from_settings(settings)
    return Draft(kind, OutgoingMail(
        sender=Address(identity.address,
                       identity.name), to=(Address(admin),), subject=f"[maildesk] {subject}",
        text=text, message_id=new_message_id(identity.message_id_domain), date=now,
        loop_token=identity.loop_token, auto_submitted="auto-generated"))
