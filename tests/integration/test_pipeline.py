"""The pipeline on a real SQLite store: tickets, threading, acknowledgements, idempotence, quarantine."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes, policy

from conftest import NOW, make_mail, query, receive

from maildesk.admin import agents, tickets
from maildesk.arrival.intake import accept_raw
from maildesk.domain import Envelope, InboundState, Status
from maildesk.pipeline.outcome import Outcome
from maildesk.pipeline.process import process_inbound
from maildesk.runtime.wiring import Runtime


def _receive(rt: Runtime, raw: bytes, mail_from: str | None = "bob@client.example",
             when: datetime = NOW) -> Outcome:
    """Receive `raw`, then deliver what the pipeline queued for it."""
    outcome = receive(rt, raw, mail_from, when=when)
    for outbox_id in outcome.outbox_ids:
        rt.deliver(outbox_id)
    return outcome


def _outbox(rt: Runtime, kind: str | None = None) -> list[tuple[object, ...]]:
    sql = "select kind, rcpt_to, message_id, raw from outbox"
    return [r for r in query(rt.settings, sql) if kind is None or r[0] == kind]


def test_new_mail_opens_ticket_and_acknowledges(runtime: Runtime) -> None:
    # A first mail opens ticket 1 (status new) and sends one tagged, threaded acknowledgement.
    agents.add_agent(runtime.db, "alice@example.org", "Alice", NOW)
    out = _receive(runtime, make_mail(message_id="first"))
    assert out.ticket_id == 1 and out.state == InboundState.DONE
    assert query(runtime.settings, "select status, subject from tickets") == [("new", "Printer broken")]
    (ack,) = _outbox(runtime, "ack")
    msg = message_from_bytes(ack[3], policy=policy.default)  # type: ignore[arg-type]
    assert msg["Subject"] == "[#1] Printer broken"
    assert msg["In-Reply-To"] == "<first@client.example>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["To"] == "Bob <bob@client.example>"
    (notice,) = _outbox(runtime, "agent_new")
    assert '"alice@example.org"' in str(notice[1]) or "alice@example.org" in notice[1]  # type: ignore[operator]


def test_reply_by_references_lands_on_ticket(runtime: Runtime) -> None:
    # The requester answers our acknowledgement without the tag: References find the ticket.
    _receive(runtime, make_mail(message_id="first"))
    ack_id = _outbox(runtime, "ack")[0][2]
    out = _receive(runtime, make_mail(subject="Re: Printer broken", message_id="second",
                                      In_Reply_To=f"<{ack_id}>", References=f"<first@client.example> <{ack_id}>"))
    assert out.ticket_id == 1
    assert len(_outbox(runtime, "ack")) == 1  # no second acknowledgement for a follow-up


def test_stranger_with_tag_gets_own_ticket(runtime: Runtime) -> None:
    # A mail with [#1] from someone not on ticket 1 and citing none of its mail opens ticket 2.
    _receive(runtime, make_mail(message_id="first"))
    out = _receive(runtime, make_mail(sender="mallory@evil.example", subject="Re: [#1] Printer broken"),
                   mail_from="mallory@evil.example")
    assert out.ticket_id == 2
    assert query(runtime.settings, "select count(*) from messages where ticket_id = 1") == [(1,)]


def test_cc_participant_may_reply(runtime: Runtime) -> None:
    # People the requester copied become participants whose replies land on the ticket.
    _receive(runtime, make_mail(message_id="first", Cc="Carol <carol@client.example>"))
    out = _receive(runtime, make_mail(sender="carol@client.example", subject="Re: [#1] Printer broken"),
                   mail_from="carol@client.example")
    assert out.ticket_id == 1


def test_requester_reply_reopens_pending(runtime: Runtime) -> None:
    # A reply to a pending ticket moves it back to open, with an event saying why.
    _receive(runtime, make_mail(message_id="first"))
    tickets.set_status(runtime.desk, 1, Status.PENDING, "agent:test", "need model", NOW)
    _receive(runtime, make_mail(subject="Re: [#1] Printer broken", body="It is an HP 1020.\n\n> old"))
    assert query(runtime.settings, "select status from tickets where id = 1") == [("open",)]
    detail = tickets.show_ticket(runtime.db, 1)
    assert detail.messages[-1].text == "It is an HP 1020."
    assert [e["kind"] for e in detail.events] == ["created", "status", "reply", "status"]


def test_reply_to_long_closed_ticket_links_new_one(runtime: Runtime) -> None:
    # Past the reopen window a reply opens ticket 2 linked to ticket 1.
    _receive(runtime, make_mail(message_id="first"))
    tickets.set_status(runtime.desk, 1, Status.CLOSED, "agent:test", "done", NOW)
    later = NOW + timedelta(days=30)
    out = _receive(runtime, make_mail(subject="Re: [#1] Printer broken"), when=later)
    assert out.ticket_id == 2
    assert query(runtime.settings, "select linked_ticket_id from tickets where id = 2") == [(1,)]


def test_processing_twice_changes_nothing(runtime: Runtime) -> None:
    # A redelivered queue message for a done row creates nothing.
    out = _receive(runtime, make_mail())
    again = process_inbound(runtime.desk, out.inbound_id, NOW)
    assert again.state is None
    assert query(runtime.settings, "select count(*) from tickets") == [(1,)]
    assert len(_outbox(runtime)) == 1


def test_same_bytes_twice_is_one_row(runtime: Runtime) -> None:
    # The MTA retrying after a lost 250 stores nothing new.
    raw = make_mail()
    env = Envelope("bob@client.example", ("support@example.org",), "smtp")
    a = accept_raw(runtime.db, raw, env, NOW, 10**7)
    b = accept_raw(runtime.db, raw, env, NOW, 10**7)
    assert a.inbound_id == b.inbound_id and (a.new, b.new) == (True, False)


def test_same_message_id_other_bytes_is_duplicate(runtime: Runtime) -> None:
    # The same mail arriving by a second route (other Received lines) does not make a second ticket.
    raw = make_mail(message_id="twice")
    _receive(runtime, raw)
    out = _receive(runtime, b"Received: from relay2\r\n" + raw)
    assert out.state == InboundState.DUPLICATE and out.ticket_id == 1
    assert query(runtime.settings, "select count(*) from tickets") == [(1,)]


def test_auto_submitted_mail_gets_no_acknowledgement(runtime: Runtime) -> None:
    # An auto-reply is stored as a ticket entry but never answered.
    out = _receive(runtime, make_mail(Auto_Submitted="auto-replied"))
    assert out.ticket_id == 1 and _outbox(runtime) == []


def test_null_reverse_path_gets_no_acknowledgement(runtime: Runtime) -> None:
    # A bounce-like mail from the null sender is never answered.
    _receive(runtime, make_mail(), mail_from="")
    assert _outbox(runtime) == []


def test_our_own_mail_returning_is_not_a_ticket(runtime: Runtime) -> None:
    # Our acknowledgement delivered back to us is ignored, not turned into ticket 2.
    _receive(runtime, make_mail())
    ack = _outbox(runtime, "ack")[0][3]
    out = _receive(runtime, ack, mail_from="support@example.org")  # type: ignore[arg-type]
    assert out.state == InboundState.IGNORED
    assert query(runtime.settings, "select count(*) from tickets") == [(1,)]


def test_mail_without_any_sender_is_quarantined(runtime: Runtime) -> None:
    # No From: and no envelope sender: kept raw, quarantined with the reason, nothing sent.
    raw = b"Subject: who am I\r\nMessage-ID: <anon@x>\r\n\r\nbody\r\n"
    out = _receive(runtime, raw, mail_from=None)
    assert out.state == InboundState.QUARANTINED
    assert query(runtime.settings, "select state, error, raw from inbound") == [
        ("quarantined", "no sender: neither a From: address nor an envelope sender", raw)]


def test_attachments_are_stored_by_content(runtime: Runtime) -> None:
    # An attachment's bytes go to the blob store under their hash, never under the mail's file name.
    raw = (b"From: bob@client.example\r\nSubject: log\r\nMessage-ID: <att@x>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee\r\n"
           b"--B\r\nContent-Type: text/plain; name=\"../x.txt\"\r\nContent-Disposition: attachment; "
           b"filename=\"../x.txt\"\r\n\r\nLOG LINE\r\n--B--\r\n")
    _receive(runtime, raw)
    ((name, digest, size),) = query(runtime.settings, "select filename, sha256, size from attachments")
    assert name == "x.txt" and size == len(b"LOG LINE")  # the terminal component only (RFC 2183 2.3)
    assert runtime.desk.blobs.get(str(digest)) == b"LOG LINE"
