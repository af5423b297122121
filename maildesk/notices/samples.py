"""Sample values for every notice, so a template can be tried before it can hurt: `maildesk serve`
and `maildesk doctor` render each one (built-in and the admin's, in every language) with these, as
the code that sends it calls the notifier, and refuse a template that does not render
(maildesk.notices.check). The values take the richer branch of every {% if %} of the built-ins.

The extras are the ones the callers add, key for key: maildesk/sweep/sla.py (_remind, _close,
_escalate), maildesk/pipeline/status_request.py, maildesk/pipeline/third_party.py (forwards,
_tell_agents), maildesk/pipeline/attachments.py (notice), maildesk/pipeline/merge.py (merge, split).
A key added there must be added here and in templates/README.md (a test compares).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from maildesk.domain import Address
from maildesk.notices.notifier import Draft, MailSummary, Notifier, TicketSummary
from maildesk.notices.render import ContextValue

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
CAROL = Address("carol@client.example", "Carol Client")
DAN = Address("dan@client.example", "Dan")
ALICE = Address("alice@example.org", "Alice Agent")
BOB = Address("bob@example.org", "Bob Agent")
VENDOR = Address("help@vendor.example", "Vendor Help")
THREAD = ["<c1@client.example>", "<r1@maildesk.example.org>"]
MAIL = MailSummary(sender=CAROL, text="The printer on floor 2 shows E-42.", attachments=("display.jpg",),
                   message_id="<c1@client.example>", references=())
ARTICLES = [{"title": "Printer does not print", "url": "https://help.example.org/kb/en/printer"}]


def _line(what: str) -> dict[str, ContextValue]:
    return {"at": "2026-11-18 11:30 EET", "who": "Alice Agent", "what": what}


REMINDER: dict[str, ContextValue] = {"reminder": 1, "closes_at": "2026-11-27 10:00 EET"}
AUTOCLOSED: dict[str, ContextValue] = {"close_reason": "no_response",
                                      "agent_replies": [_line("Please send a photo.")],
                                      "actions": [_line("status: pending")]}
SLA: dict[str, ContextValue] = {"target": "first_response", "due": "2026-11-20 14:00 EET",
                               "policy": "standard", "queue": "services"}
STATUS_LIST: dict[str, ContextValue] = {
    "tickets": [{"tag": "[#42]", "subject": "Printer broken", "status": "open",
                 "updated": "2026-11-20 10:00 UTC"}],
    "more": True, "filter_label": "open since 2026-11-01"}
FORWARD: dict[str, ContextValue] = {"note": "Could you check the fuser?", "agent_name": "Alice Agent",
                                   "original_from": "Carol Client", "original_date": "2026-11-20 10:00 UTC",
                                   "original_text": "The printer on floor 2 shows E-42."}
FILES: dict[str, ContextValue] = {"files": [{"number": 1, "filename": "display.jpg", "size": "12.5 KiB"}],
                                 "left_out": [{"number": 2, "filename": "dump.zip", "size": "24.0 MiB"}],
                                 "limit": "10.0 MiB"}
#: The kinds of ticket a template may be particular to (`ack/incident`, `status_resolved/incident`).
KINDS = ("request", "incident")
THIRD_PARTY: dict[str, ContextValue] = {"text": "Replace the fuser.", "from_name": "Vendor Help",
                                       "from_email": "help@vendor.example"}


def summary(language: str, category: str = "hardware", status: str = "open") -> TicketSummary:
    """A sample ticket in `language`."""
    return TicketSummary(id=42, subject="Printer broken", status=status, priority="high", category=category,
                         language=language, requester=CAROL)


Send = Callable[[Notifier, str, str], Draft]
SENDS: dict[str, Send] = {
    "ack_neutral": lambda n, k, lang: n.neutral_acknowledgement(summary(lang), CAROL, "c1@client.example",
                                                                NOW, reply_to=CAROL),
    "how_to_close": lambda n, k, lang: n.how_to_close(summary(lang), CAROL, THREAD, NOW, reply_to=CAROL),
    "agent_new": lambda n, k, lang: n.agent_notice(k, summary(lang), ALICE, MAIL, NOW, reply_to=ALICE),
    "agent_reply": lambda n, k, lang: n.agent_notice(k, summary(lang), ALICE, MAIL, NOW, reply_to=ALICE),
    "reply": lambda n, k, lang: n.relay_reply(summary(lang), ALICE, [CAROL, DAN], "Please restart it.", (),
                                              THREAD, NOW, status_note=True),
    "agent_note": lambda n, k, lang: n.agent_note(summary(lang), BOB, ALICE, "Ordered a fuser.", NOW,
                                                  reply_to=BOB),
    "agent_error": lambda n, k, lang: n.agent_error(ALICE, "Re: [#42] Printer broken",
                                                    "line 1: #frobnicate: unknown command",
                                                    "<a1@example.org>", 42, NOW),
    "agent_attachments": lambda n, k, lang: n.agent_files(summary(lang), ALICE, FILES, (), ALICE, NOW),
    "merged": lambda n, k, lang: n.ticket_notice(k, summary(lang, status="closed"), [CAROL, DAN],
                                                 {"into_tag": "[#3]",
                                                  "into_subject": "Printers down"}, THREAD,
                                                 NOW),
    "split": lambda n, k, lang: n.ticket_notice(k, summary(lang), [CAROL], {"from_tag": "[#3]"}, THREAD, NOW),
    "ack_abusive": lambda n, k, lang: n.acknowledgement(summary(lang), MAIL, NOW, k),
    "abusive_lead": lambda n, k, lang: n.rule_notice(k, summary(lang), BOB, MAIL, NOW, BOB,
                                                     {"abuse": ["insult:idiot", "verb:smash"]}, kind=k),
    "survey": lambda n, k, lang: n.ticket_notice(k, summary(lang, status="resolved"), [CAROL], {}, THREAD,
                                                 NOW),
    "status_list": lambda n, k, lang: n.status_list(CAROL, lang, STATUS_LIST, "<c9@client.example>", NOW),
    "third_party_forward": lambda n, k, lang: n.third_party_forward(summary(lang), VENDOR, FORWARD, VENDOR,
                                                                    (), NOW),
    "third_party_reply": lambda n, k, lang: n.third_party_reply(summary(lang), ALICE, THIRD_PARTY, ALICE, (),
                                                                NOW),
    "reminder": lambda n, k, lang: n.ticket_notice(k, summary(lang, status="pending"), [CAROL, DAN], REMINDER,
                                                   THREAD, NOW),
    "autoclosed": lambda n, k, lang: n.ticket_notice(k, summary(lang, status="closed"), [CAROL, DAN],
                                                     AUTOCLOSED, THREAD, NOW),
    "sla_warning": lambda n, k, lang: n.ticket_notice(k, summary(lang), [ALICE], SLA, [], NOW,
                                                      reply_to=ALICE),
    "sla_breach": lambda n, k, lang: n.ticket_notice(k, summary(lang), [ALICE], SLA, [], NOW,
                                                     reply_to=ALICE),
}


def _particular(variant: str) -> tuple[str, str, str]:
    """(type, "/", category) named by a template variant: `incident`, `incident/hardware`, `hardware`."""
    head, _, rest = variant.partition("/")
    return (head, "/", rest) if head in KINDS else ("request", "/", variant)


def sample(notifier: Notifier, name: str, language: str) -> Draft:
    """Notice `name` rendered with sample values for a ticket in `language`, as its sender calls the
    notifier. Any other name is a notice a rule may send (`notify = { template = … }`)."""
    if name == "ack" or name.startswith("ack/"):
        kind, _, category = _particular(name.partition("/")[2])
        ticket = replace(summary(language, category or "other"), type=kind)
        return notifier.acknowledgement(ticket, MAIL, NOW, name, ARTICLES)
    if name.startswith("status_") and name != "status_list":
        status, _, particular = name.removeprefix("status_").partition("/")
        kind, _, category = _particular(particular)
        ticket = replace(summary(language, category or "hardware", status=status), type=kind)
        return notifier.status_notice(ticket, [CAROL, DAN], "you told us the problem is solved", THREAD, NOW)
    if name in SENDS:
        return SENDS[name](notifier, name, language)
    return notifier.rule_notice(name, summary(language), BOB, MAIL, NOW)
