"""Delivery of outbox rows: through smtp:// to a real SMTP sink, retries, permanent failures, Maildir."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import NOW, Sink, free_port, make_mail, query, sink_server, write_config

from maildesk import config
from maildesk.arrival.intake import accept_raw
from maildesk.domain import Envelope, OutboxState
from maildesk.outbound.delivery import deliver
from maildesk.pipeline.process import process_inbound
from maildesk.runtime.wiring import Runtime
from maildesk.store import migrate
from maildesk.store.db import Database


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    with sink_server() as running:
        yield running


def _runtime(tmp_path: Path, port: int) -> Runtime:
    path = write_config(tmp_path, outbound=f'url = "smtp://127.0.0.1:{port}"\nmax_attempts = 3\n')
    settings = config.load(path)
    migrate.upgrade(Database(settings.database.url))
    return Runtime.build(settings)


def _one_ack(rt: Runtime) -> int:
    accepted = accept_raw(rt.db, make_mail(), Envelope("bob@client.example", ("support@example.org",), "t"),
                          NOW, 10**7)
    (outbox_id,) = process_inbound(rt.desk, accepted.inbound_id, NOW).outbox_ids
    return outbox_id


def test_smtp_relay_receives_the_acknowledgement(tmp_path: Path, sink: tuple[Sink, int]) -> None:
    # The acknowledgement goes through smtp:// to a real SMTP server, envelope and bytes intact.
    handler, port = sink
    rt = _runtime(tmp_path, port)
    outbox_id = _one_ack(rt)
    assert rt.deliver(outbox_id).state == OutboxState.SENT
    ((mail_from, rcpt, raw),) = handler.received
    assert (mail_from, rcpt) == ("support@example.org", ["bob@client.example"])
    assert b"Subject: [#1] Printer broken" in raw
    assert query(rt.settings, "select state, attempts from outbox") == [("sent", 1)]


def test_temporary_failure_is_retried_with_the_same_message_id(tmp_path: Path, sink: tuple[Sink, int]) -> None:
    # A 451 leaves the row pending with a backoff; the retry sends the very same message.
    handler, port = sink
    rt = _runtime(tmp_path, port)
    outbox_id = _one_ack(rt)
    handler.answers.append("451 4.3.0 try later")
    first = deliver(rt.db, rt.sender, rt.settings.outbound, outbox_id, NOW)
    assert first.state == OutboxState.PENDING
    (due,) = query(rt.settings, "select next_attempt_at from outbox")
    assert due[0] is not None
    assert deliver(rt.db, rt.sender, rt.settings.outbound, outbox_id, NOW).state is None  # not yet due
    later = NOW + timedelta(days=1)
    assert deliver(rt.db, rt.sender, rt.settings.outbound, outbox_id, later).state == OutboxState.SENT
    (stored_id,) = query(rt.settings, "select message_id from outbox")
    assert f"<{stored_id[0]}>".encode() in handler.received[0][2]


def test_permanent_failure_marks_the_row_failed(tmp_path: Path, sink: tuple[Sink, int]) -> None:
    # A 550 is final: no more attempts, the reason is kept.
    handler, port = sink
    rt = _runtime(tmp_path, port)
    outbox_id = _one_ack(rt)
    handler.answers.append("550 5.1.1 no such user")
    assert rt.deliver(outbox_id).state == OutboxState.FAILED
    ((state, error),) = query(rt.settings, "select state, last_error from outbox")
    assert state == "failed" and "550" in str(error)


def test_relay_down_gives_up_after_max_attempts(tmp_path: Path) -> None:
    # With nothing listening, each attempt is transient until max_attempts, then the row fails.
    rt = _runtime(tmp_path, free_port())
    outbox_id = _one_ack(rt)
    states = [deliver(rt.db, rt.sender, rt.settings.outbound, outbox_id, NOW + timedelta(days=i)).state
              for i in range(4)]
    assert states == [OutboxState.PENDING, OutboxState.PENDING, OutboxState.FAILED, None]


def test_maildir_delivery_is_exactly_once(runtime: Runtime) -> None:
    # Sending the same outbox message twice (a retry after a crash) leaves one file.
    accepted = accept_raw(runtime.db, make_mail(), Envelope("bob@client.example", ("s@x",), "t"), NOW, 10**7)
    (outbox_id,) = process_inbound(runtime.desk, accepted.inbound_id, NOW).outbox_ids
    ((raw, message_id),) = query(runtime.settings, "select raw, message_id from outbox")
    for _ in range(2):
        runtime.sender.send("support@example.org", ["bob@client.example"], raw, str(message_id))  # type: ignore[arg-type]
    outbox = Path(runtime.settings.outbound.url.removeprefix("maildir:")) / "new"
    assert len(list(outbox.iterdir())) == 1
    assert runtime.deliver(outbox_id).state == OutboxState.SENT
    assert len(list(outbox.iterdir())) == 1
