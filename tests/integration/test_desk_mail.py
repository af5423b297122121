"""What requesters, agents and leads get from a running `maildesk serve`, mail in over SMTP, mail out of its
Maildir: one daemon for the module, each test on its own requesters and tickets."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from conftest import (
    ALICE,
    BOB,
    NOW,
    SECRET,
    ServeProcess,
    make_mail,
    open_desk,
    outbox_files,
    query,
    send_smtp,
    wait_for,
    write_config,
)

from maildesk.admin.agents import add_agent

CONFIG = """
[agents]
notify = "all"
"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """A running desk with agents Alice (1) and Bob (2), signing reply addresses with SECRET."""
    folder = tmp_path_factory.mktemp("desk")
    desk = ServeProcess(write_config(folder, CONFIG, secret=SECRET))
    rt = open_desk(desk.settings)
    for address, name in (ALICE, BOB):
        add_agent(rt.db, address, name, NOW)
    rt.db.dispose()
    desk.start()
    yield desk
    desk.stop()


def mails(desk: ServeProcess) -> list[EmailMessage]:
    """Everything the desk has sent, oldest first, as a mail client reads it."""
    return [message_from_bytes(raw, policy=policy.default) for raw in outbox_files(desk.settings)]  # type: ignore[misc]


def mail_to(desk: ServeProcess, who: str, count: int = 1) -> list[EmailMessage]:
    """Wait until `who` has `count` mails from the desk; return them."""
    def theirs() -> list[EmailMessage]:
        return [m for m in mails(desk) if who in str(m["To"])]
    wait_for(lambda: len(theirs()) >= count, 10, f"{count} mails to {who}")
    return theirs()


def ticket_of(desk: ServeProcess, requester: str) -> int:
    """The newest ticket `requester` opened."""
    rows = query(desk.settings, "select t.id from tickets t join contacts c on c.id = t.requester_id "
                                "where c.email = ? order by t.id desc", requester)
    return int(str(rows[0][0]))


def test_reply_shaped_mail_opens_a_ticket_without_the_prefixes(daemon: ServeProcess) -> None:
    # "Re: AW: Printer on floor 3" from someone with no ticket becomes "[#N] Printer on floor 3".
    send_smtp(daemon, make_mail(sender="Gus <gus@client.example>", subject="Re: AW: Printer on floor 3",
                                message_id="gus1"), "gus@client.example")
    (ack,) = mail_to(daemon, "gus@client.example")
    number = ticket_of(daemon, "gus@client.example")
    assert str(ack["Subject"]) == f"[#{number}] Printer on floor 3"
    assert query(daemon.settings, "select subject from tickets where id = ?", number) == [("Printer on floor 3",)]
