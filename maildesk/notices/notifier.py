"""Notices rendered from the desk's templates into drafts, one per kind of mail the desk sends.

Nothing here touches the database or the network: the callers hand in what they loaded, and pass
the drafts to maildesk.outbound.gate in the same transaction as the ticket change (DESIGN.md
decisions 2 and 12); the gate composes the bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from maildesk.config import Settings
from maildesk.domain import Address
from maildesk.mail.compose import OutgoingAttachment, OutgoingMail, new_message_id
from maildesk.mail.tags import make_tag, tag_subject
from maildesk.notices.render import ContextValue, Renderer


@dataclass(frozen=True)
class Identity:
    """How the desk signs its mail, and how each queue that says so signs its own: queue name →
    (display name, signature)."""

    name: str
    address: str
    instance: str
    message_id_domain: str
    loop_token: str
    queues: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Identity:
        """The identity configured in [desk] and the queues' display names and signatures."""
        desk = settings.desk
        queues = {q.name: (q.display_name, q.signature.strip("\n")) for q in settings.routing.queues
                  if q.display_name or q.signature}
        return cls(name=desk.name, address=desk.address, instance=desk.instance, queues=queues,
                   message_id_domain=f"maildesk.{desk.domain}", loop_token=desk.address.lower())

    def of_queue(self, queue: str) -> tuple[str, str]:
        """The display name and signature a notice of `queue` goes out with."""
        name, signature = self.queues.get(queue, ("", ""))
        return name or self.name, signature


@dataclass(frozen=True)
class TicketSummary:
    """The ticket facts a notice may show."""

    id: int
    subject: str
    status: str
    priority: str
    category: str
    language: str
    requester: Address
    type: str = "request"  # request or incident: picks the acknowledgement and status templates
    queue: str = ""


def variant(renderer: Renderer, name: str, ticket: TicketSummary) -> str:
    """The most particular template for the ticket: `name/<type>/<category>`, `name/<type>`,
    `name/<category>`, then `name` itself; a variant counts when it exists in the ticket's language,
    the English fallback does not. The admin's folder comes first: an override of `ack` is the desk's
    acknowledgement even where a built-in variant (`ack/other`) would be more particular."""
    candidates = (f"{name}/{ticket.type}/{ticket.category}", f"{name}/{ticket.type}",
                  f"{name}/{ticket.category}")
    for candidate in (*candidates, name):
        if renderer.overridden(candidate, ticket.language):
            return candidate
    return next((c for c in candidates if renderer.exists(c, ticket.language)), name)


@dataclass(frozen=True)
class MailSummary:
    """The facts of one message a notice may quote: who wrote, what is new, what came with it."""

    sender: Address
    text: str
    attachments: tuple[str, ...]
    message_id: str
    references: tuple[str, ...]
    files: tuple[OutgoingAttachment, ...] = ()


@dataclass(frozen=True)
class Draft:
    """A rendered notice, not yet mail: the outbound gate (maildesk.outbound.gate) decides who of its
    recipients may have it, and only then composes the bytes."""

    kind: str
    mail: OutgoingMail

    @property
    def message_id(self) -> str:
        """Fixed now, so a retried delivery sends the same mail."""
        return self.mail.message_id

    @property
    def mail_from(self) -> str:
        """The envelope sender: the desk's address."""
        return self.mail.sender.email

    @property
    def recipients(self) -> tuple[Address, ...]:
        """To first, then Cc."""
        return (*self.mail.to, *self.mail.cc)

    @property
    def rcpt_to(self) -> tuple[str, ...]:
        """The envelope recipients, To first, then Cc."""
        return tuple(a.email for a in self.recipients)


class Notifier:
    """Renders the desk's templates into drafts; one per recipient so each can be retried alone."""

    def __init__(self, renderer: Renderer, identity: Identity) -> None:
        self.renderer = renderer
        self.identity = identity

    def acknowledgement(self, ticket: TicketSummary, mail: MailSummary, now: datetime,
                        template: str = "ack", articles: Sequence[Mapping[str, str]] = (),
                        reply_to: Address | None = None) -> Draft:
        """The acknowledgement to the requester of a new ticket, threaded on their mail.

        `template` may name a category's own acknowledgement (`ack/<category>`); `articles` are
        knowledge-base suggestions ({"title", "url"}) it lists."""
        context = self._context(ticket, mail) | {"articles": [dict(a) for a in articles]}
        return self._draft("ack", ticket, (ticket.requester,), context, now,
                           in_reply_to=mail.message_id, references=(*mail.references, mail.message_id),
                           auto_submitted="auto-replied", template=template, reply_to=reply_to)

    def neutral_acknowledgement(self, ticket: TicketSummary, to: Address, in_reply_to: str, now: datetime,
                                reply_to: Address | None = None) -> Draft:
        """An acknowledgement that carries none of the sender's text: no subject, no name, no words of
        their mail; only that a request with this number was opened (template `ack_neutral`)."""
        bare = TicketSummary(id=ticket.id, subject="", status=ticket.status, priority=ticket.priority,
                             category=ticket.category, language=ticket.language, requester=Address(to.email))
        return self._draft("ack", bare, (Address(to.email),), self._context(bare, None), now,
                           in_reply_to=in_reply_to, references=(in_reply_to,), auto_submitted="auto-replied",
                           template="ack_neutral", reply_to=reply_to)

    def how_to_close(self, ticket: TicketSummary, to: Address, thread: Sequence[str], now: datetime,
                     reply_to: Address) -> Draft:
        """To the requester whose "solved" or "#cancel" nothing proved was theirs: the mail was kept as
        a reply, and answering this notice (its Reply-To is their signed address) closes the request."""
        return self._draft("how_to_close", ticket, (to,), self._context(ticket, None), now,
                           in_reply_to=thread[-1] if thread else "", references=tuple(thread),
                           auto_submitted="auto-replied", reply_to=reply_to)

    def rule_notice(self, template: str, ticket: TicketSummary, to: Address, mail: MailSummary,
                    now: datetime, reply_to: Address | None = None,
                    extra: Mapping[str, ContextValue] | None = None, kind: str = "rule_notify") -> Draft:
        """A notice about a mail a rule asked for (e.g. the on-call address for an urgent mail at
        night), or an abusive mail raised to its queue's lead; `reply_to` is set when `to` is an
        agent, so answering it acts on the ticket."""
        context = self._context(ticket, mail) | dict(extra or {})
        return self._draft(kind, ticket, (to,), context, now, in_reply_to=mail.message_id,
                           references=(mail.message_id,), auto_submitted="auto-generated", template=template,
                           reply_to=reply_to)

    def agent_notice(self, kind: str, ticket: TicketSummary, agent: Address, mail: MailSummary,
                     now: datetime, reply_to: Address | None = None,
                     files: tuple[OutgoingAttachment, ...] = ()) -> Draft:
        """A new-ticket (`agent_new`) or requester-reply (`agent_reply`) notice to one agent.

        `reply_to` is the agent's signed address for this ticket, so answering the notice acts on it."""
        return self._draft(kind, ticket, (agent,), self._context(ticket, mail), now,
                           in_reply_to=mail.message_id, references=(mail.message_id,),
                           auto_submitted="auto-generated", reply_to=reply_to, files=files or mail.files)

    def relay_reply(self, ticket: TicketSummary, agent: Address, people: Sequence[Address], text: str,
                    files: tuple[OutgoingAttachment, ...], thread: Sequence[str], now: datetime,
                    status_note: bool = False, reply_to: Address | None = None) -> Draft:
        """An agent's answer as the requester (To) and the other participants (Cc) receive it.

        It comes from the support address under the agent's name and threads on the conversation;
        `reply_to` is the requester's signed address (replies go back to the desk like any requester
        mail, and the requester's proves it answers our mail)."""
        context = self._context(ticket, None) | {
            "text": text, "agent_name": agent.name or agent.email, "status_note": status_note}
        via = f"{agent.name or agent.email.partition('@')[0]} via {self.identity.of_queue(ticket.queue)[0]}"
        return self._draft("reply", ticket, tuple(people[:1]), context, now, cc=tuple(people[1:]),
                           in_reply_to=thread[-1] if thread else "", references=tuple(thread),
                           auto_submitted="", sender_name=via, files=files, reply_to=reply_to)

    def agent_note(self, ticket: TicketSummary, to: Address, author: Address, text: str, now: datetime,
                   reply_to: Address) -> Draft:
        """An internal note from `author`, for another agent only."""
        context = self._context(ticket, None) | {"text": text, "agent_name": author.name or author.email}
        return self._draft("agent_note", ticket, (to,), context, now, in_reply_to="", references=(),
                           auto_submitted="auto-generated", reply_to=reply_to)

    def agent_error(self, agent: Address, subject: str, problem: str, message_id: str, ticket_id: int | None,
                    now: datetime, reply_to: Address | None = None) -> Draft:
        """Why an agent's mail changed nothing, sent back to that agent; `reply_to` is the agent's
        signed address (for the ticket, or for none), so answering it is answering as that agent."""
        summary = TicketSummary(id=ticket_id or 0, subject=subject, status="", priority="", category="",
                                language="en", requester=agent)
        context = self._context(summary, None) | {"problem": problem, "has_ticket": ticket_id is not None}
        return self._draft("agent_error", summary, (agent,), context, now, in_reply_to=message_id,
                           references=(message_id,), auto_submitted="auto-replied", reply_to=reply_to)

    def agent_files(self, ticket: TicketSummary, agent: Address, extra: Mapping[str, ContextValue],
                    files: tuple[OutgoingAttachment, ...], reply_to: Address, now: datetime) -> Draft:
        """The ticket's files an agent asked for with `#attachments`, attached, to that agent only."""
        context = self._context(ticket, None) | dict(extra)
        return self._draft("agent_attachments", ticket, (agent,), context, now, in_reply_to="", references=(),
                           auto_submitted="auto-generated", reply_to=reply_to, files=files)

    def third_party_forward(self, ticket: TicketSummary, to: Address, extra: Mapping[str, ContextValue],
                            reply_to: Address, files: tuple[OutgoingAttachment, ...], now: datetime) -> Draft:
        """A ticket's request forwarded to a third party; `reply_to` is their signed address."""
        context = self._context(ticket, None) | dict(extra)
        return self._draft("third_party_forward", ticket, (to,), context, now, in_reply_to="", references=(),
                           auto_submitted="", reply_to=reply_to, files=files)

    def third_party_reply(self, ticket: TicketSummary, agent: Address, extra: Mapping[str, ContextValue],
                          reply_to: Address, files: tuple[OutgoingAttachment, ...], now: datetime) -> Draft:
        """A third party's answer, shown to one agent (it never reaches the requester by itself)."""
        context = self._context(ticket, None) | dict(extra)
        return self._draft("third_party_reply", ticket, (agent,), context, now, in_reply_to="", references=(),
                           auto_submitted="auto-generated", reply_to=reply_to, files=files)

    def status_list(self, to: Address, language: str, extra: Mapping[str, ContextValue], in_reply_to: str,
                    now: datetime) -> Draft:
        """The answer to a mail to the status address: a list of the sender's tickets, to `to` only."""
        summary = TicketSummary(id=0, subject="", status="", priority="", category="", language=language,
                                requester=to)
        context = self._context(summary, None) | dict(extra)
        return self._draft("status_list", summary, (to,), context, now, in_reply_to=in_reply_to,
                           references=(in_reply_to,), auto_submitted="auto-replied")

    def status_notice(self, ticket: TicketSummary, to: Sequence[Address], reason: str,
                      thread: Sequence[str], now: datetime, previous: str = "",
                      reply_to: Address | None = None) -> Draft:
        """The status-update notice for the status the ticket is now in; `previous` is the status it
        left ("" when unknown): a ticket leaving `new` is open, not "open again". `reply_to` is the
        requester's signed address, so their answer to it proves it answers our mail."""
        context = self._context(ticket, None) | {"reason": reason, "reopened": previous not in ("", "new")}
        return self._draft(f"status_{ticket.status}", ticket, tuple(to), context, now,
                           in_reply_to=thread[-1] if thread else "", references=tuple(thread),
                           auto_submitted="auto-generated", reply_to=reply_to,
                           template=variant(self.renderer, f"status_{ticket.status}", ticket))

    def ticket_notice(self, kind: str, ticket: TicketSummary, to: Sequence[Address],
                      extra: Mapping[str, ContextValue], thread: Sequence[str], now: datetime,
                      reply_to: Address | None = None) -> Draft:
        """An automatic notice about a ticket from template `kind`: the first of `to` in To, the rest
        in Cc (reminders and closure to the requester; SLA warnings and breaches to one agent)."""
        context = self._context(ticket, None) | dict(extra)
        return self._draft(kind, ticket, tuple(to[:1]), context, now, cc=tuple(to[1:]),
                           in_reply_to=thread[-1] if thread else "", references=tuple(thread),
                           auto_submitted="auto-generated", reply_to=reply_to)

    def _context(self, ticket: TicketSummary, mail: MailSummary | None) -> dict[str, ContextValue]:
        # An allow-list: templates see these values and nothing else.
        tag = make_tag(ticket.id, self.identity.instance)
        name, signature = self.identity.of_queue(ticket.queue)
        context: dict[str, ContextValue] = {
            "desk_name": name,
            "signature": signature,
            "ticket_id": ticket.id,
            "tag": tag,
            "subject": ticket.subject or "(no subject)",
            "tagged_subject": tag_subject(ticket.subject, ticket.id, self.identity.instance),
            "status": ticket.status,
            "priority": ticket.priority,
            "category": ticket.category,
            "requester_name": ticket.requester.name,
            "requester_email": ticket.requester.email,
            "reason": "",
            "articles": [],
        }
        if mail is not None:
            context |= {"from_name": mail.sender.name or mail.sender.email, "from_email": mail.sender.email,
                        "text": mail.text, "attachments": list(mail.attachments)}
        return context

    def _draft(self, kind: str, ticket: TicketSummary, to: tuple[Address, ...],
               context: dict[str, ContextValue], now: datetime, *, in_reply_to: str,
               references: tuple[str, ...], auto_submitted: str, template: str = "",
               reply_to: Address | None = None, cc: tuple[Address, ...] = (), sender_name: str = "",
               files: tuple[OutgoingAttachment, ...] = ()) -> Draft:
        rendered = self.renderer.render(template or kind, ticket.language, context)
        desk = Address(self.identity.address, self.identity.of_queue(ticket.queue)[0])
        return Draft(kind, OutgoingMail(
            sender=Address(self.identity.address, sender_name) if sender_name else desk,
            to=to, cc=cc, subject=rendered.subject, text=rendered.body,
            message_id=new_message_id(self.identity.message_id_domain), date=now,
            loop_token=self.identity.loop_token, reply_to=reply_to or desk, in_reply_to=in_reply_to,
            references=tuple(r for r in references if r), auto_submitted=auto_submitted, attachments=files,
        ))
