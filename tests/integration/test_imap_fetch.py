"""IMAP fetching against a real Dovecot: every message stored once, then moved or flagged, never lost."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import ServeProcess, make_mail, outbox_files, query, wait_for
from dovecot import Dovecot, dovecot_fixture, imap_block  # noqa: F401 (fixture)

TOTAL = 500
PROCESSED = "maildesk/processed"

pytestmark = pytest.mark.slow


def _mails(prefix: str, n: int) -> list[bytes]:
    return [make_mail(sender=f"{prefix}{i}@client.example", subject=f"Request {prefix}{i}",
                      message_id=f"{prefix}{i}") for i in range(n)]


def _inbound(daemon: ServeProcess) -> int:
    return int(query(daemon.settings, "SELECT count(*) FROM inbound")[0][0])  # type: ignore[call-overload]


def test_500_messages_appended_while_serving(dovecot: Dovecot, serve: Callable[..., ServeProcess]) -> None:
    # Scenario: 500 messages appended to INBOX while `maildesk serve` runs become 500 tickets, all moved.
    daemon = serve(extra=imap_block(dovecot, batch_size="100")).start()
    dovecot.append(_mails("live", TOTAL))
    wait_for(lambda: dovecot.count(PROCESSED) == TOTAL, 180, "all 500 messages moved to the processed folder")
    assert dovecot.count("INBOX") == 0
    wait_for(lambda: len(outbox_files(daemon.settings)) >= TOTAL, 240, "500 acknowledgements delivered")
    assert query(daemon.settings, "SELECT count(*), count(DISTINCT message_id), min(source) FROM inbound") == [
        (TOTAL, TOTAL, "imap:support")]
    assert query(daemon.settings, "SELECT count(*) FROM tickets") == [(TOTAL,)]
    assert query(daemon.settings, "SELECT count(*) FROM outbox WHERE kind = 'ack'") == [(TOTAL,)]
    assert daemon.stop() == 0
