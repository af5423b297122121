"""How tests/integration/test_same_rows.py drives a desk: the one place that names the package's
entry points, so the scenarios and their recorded rows stay the same when the code moves."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from click.testing import CliRunner
from conftest import query

from maildesk import config
from maildesk.admin import agents, tickets
from maildesk.arrival.intake import accept_raw
from maildesk.cli.app import main
from maildesk.domain import Envelope, Status
from maildesk.mail.tokens import reply_address
from maildesk.pipeline.process import process_inbound
from maildesk.runtime.wiring import Runtime
from maildesk.store import migrate
from maildesk.store.db import Database
from maildesk.sweep.sla import sweep_tickets

SECRET = "test-secret"


class Driver:
    """A fresh desk on SQLite, acted on at explicit instants."""

    def __init__(self, config_path: Path, runner: CliRunner) -> None:
        self.config_path = config_path
        self.settings = config.load(config_path)
        migrate.upgrade(Database(self.settings.database.url))
        self.runtime = Runtime.build(self.settings)
        self.runner = runner
        self.count = 0

    def close(self) -> None:
        self.runtime.db.dispose()

    def add_agent(self, email: str, name: str, now: datetime) -> None:
        agents.add_agent(self.runtime.db, email, name, now)

    def receive(self, raw: bytes, mail_from: str, now: datetime, rcpt: str = "support@example.org") -> None:
        accepted = accept_raw(self.runtime.db, raw, Envelope(mail_from, (rcpt,), "test"), now, 10**7)
        process_inbound(self.runtime.desk, accepted.inbound_id, now)

    def agent(self, ticket: int, agent: int, body: str, now: datetime, **headers: str) -> None:
        """Agent `agent` (1 Alice, 2 Bob) answers the notice of `ticket` through its signed Reply-To."""
        who = {1: "Alice <alice@example.org>", 2: "Bob <bob@example.org>"}[agent]
        self.count += 1
        msg = EmailMessage()
        msg["From"], msg["To"] = who, reply_address("support@example.org", SECRET, ticket, agent)
        msg["Subject"] = f"Re: [#{ticket}] notice"
        msg["Message-ID"] = f"<agent{self.count}@example.org>"
        for name, value in headers.items():
            msg[name.replace("_", "-")] = value
        msg.set_content(body)
        self.receive(msg.as_bytes(), who.split("<")[1].rstrip(">"), now)

    def third_party_answer(self, ticket: int, party: str, body: str, now: datetime) -> None:
        """`party` answers the forward of `ticket` through the Reply-To it carried."""
        raw = query(self.settings, "select raw from outbox where kind = 'third_party_forward' and ticket_id = ?",
                    ticket)[0][0]
        assert isinstance(raw, bytes)
        found = re.search(rb"Reply-To: .*<([^>]+)>", raw)
        assert found is not None
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = party, found.group(1).decode(), f"Re: [#{ticket}] forward"
        msg["Message-ID"] = "<vendor1@printers.example>"
        msg.set_content(body)
        self.receive(msg.as_bytes(), party, now)

    def bounce_first(self, kind: str, now: datetime) -> None:
        """A delivery report saying the first outbox row of `kind` failed for good."""
        message_id, rcpt = query(self.settings, "select message_id, recipient from outbox where kind = ? "
                                                "order by id limit 1", kind)[0]
        raw = ("From: Mail Delivery System <MAILER-DAEMON@mx.client.example>\r\nTo: support@example.org\r\n"
               "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.client.example>\r\n"
               "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=R"
               "\r\n\r\n--R\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
               "--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.client.example\r\n"
               f"\r\nFinal-Recipient: rfc822; {rcpt}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--R\r\n"
               f"Content-Type: text/rfc822-headers\r\n\r\nFrom: support@example.org\r\nTo: {rcpt}\r\n"
               f"Message-ID: <{message_id}>\r\nSubject: [#1] Printer\r\n\r\n--R--\r\n").encode()
        self.receive(raw, "", now)

    def set_status(self, ticket: int, status: str, reason: str, now: datetime) -> None:
        """What `maildesk tickets set-status` does, at `now`."""
        tickets.set_status(self.runtime.desk, ticket, Status(status), "admin:cli", reason, now)

    def sweep(self, now: datetime) -> None:
        sweep_tickets(self.runtime.desk, now)

    def admin_alert(self, subject: str, text: str, now: datetime) -> None:
        admin = dataclasses.replace(self.settings.desk, admin="admin@example.org")
        runtime = dataclasses.replace(self.runtime, settings=dataclasses.replace(self.settings, desk=admin))
        runtime.alert_admin(subject, text, now)

    def cli(self, *args: str) -> str:
        result = self.runner.invoke(main, ["--config", str(self.config_path), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

