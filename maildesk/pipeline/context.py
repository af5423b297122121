"""The desk as processing sees it: one bag, built once per process, passed to every handler."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from maildesk.config import Settings
from maildesk.domain import Address
from maildesk.mail.limits import MailLimits
from maildesk.mail.machine import OwnIdentity
from maildesk.mail.tokens import reply_address
from maildesk.notices.notifier import Notifier
from maildesk.outbound.gate import Gate
from maildesk.pipeline.routing import Routing
from maildesk.policy import requester
from maildesk.policy.brakes import BrakeLimits
from maildesk.store.blobs import BlobStore
from maildesk.store.db import Database
from maildesk.tickets.apply import TicketWriter
from maildesk.tickets.clock import TicketClock

#: How long an address that bounced our mail for good gets nothing (Zammad's 60-day block, #4459).
UNDELIVERABLE_FOR = timedelta(days=60)


@dataclass(frozen=True)
class Desk:
    """What processing works with: the store, the settings, the notifier, the blobs and the secret,
    and what is compiled from them once (routing, the clock, the ticket writer, the outbound gate).

    `today` fixes which years of public holidays the calendars hold; it is given, never read."""

    db: Database
    settings: Settings
    notifier: Notifier
    blobs: BlobStore
    today: date
    secret: str = ""
    limits: MailLimits = field(default_factory=MailLimits)
    brake_limits: BrakeLimits = field(default_factory=BrakeLimits)
    undeliverable_for: timedelta = UNDELIVERABLE_FOR

    @functools.cached_property
    def routing(self) -> Routing:
        """Queues, calendars and rules compiled from the settings, once per process."""
        return Routing.from_settings(self.settings, self.notifier.renderer, self.today)

    @functools.cached_property
    def clock(self) -> TicketClock:
        """SLA due times and the auto-close clock, counted in the queues' calendars."""
        return TicketClock.from_settings(self.settings, self.routing.calendars)

    @functools.cached_property
    def writer(self) -> TicketWriter:
        """The one way a ticket changes."""
        return TicketWriter(self.clock)

    @functools.cached_property
    def gate(self) -> Gate:
        """The one way mail goes out."""
        return Gate(self.writer, self.brake_limits)

    @property
    def own(self) -> OwnIdentity:
        """Our identity as the machine-mail classifier needs it."""
        return OwnIdentity(instance=self.notifier.identity.loop_token,
                           addresses=self.settings.desk.own_addresses,
                           message_id_domain=self.notifier.identity.message_id_domain)

    @property
    def status_address(self) -> str:
        """Where requesters ask for their tickets."""
        return requester.status_address(self.settings.selfservice.status_address, self.settings.desk.address)

    def wall_clock(self, at: datetime, queue: str) -> str:
        """`at` as notices write it: on the wall clock of `queue`'s calendar, naming its zone."""
        return f"{at.astimezone(self.clock.calendar_for(queue).zone):%Y-%m-%d %H:%M %Z}"

    def reply_to(self, ticket_id: int, agent_id: int) -> Address:
        """The signed Reply-To that lets this agent act on this ticket by answering a notice."""
        return Address(reply_address(self.settings.desk.address, self.secret, ticket_id, agent_id),
                       self.settings.desk.name)

    def requester_reply_to(self, ticket_id: int, requester_id: int) -> Address:
        """The signed Reply-To of every notice to a ticket's requester: their answer to it proves it
        answers our mail, so "solved" or "#cancel" in it is carried out."""
        address = reply_address(self.settings.desk.address, self.secret, ticket_id, requester_id, kind="r")
        return Address(address, self.settings.desk.name)

    def party_reply_to(self, ticket_id: int, party_id: int) -> Address:
        """The signed address a third party answers a forward to."""
        return Address(reply_address(self.settings.desk.address, self.secret, ticket_id, party_id, kind="x"),
                       self.settings.desk.name)
