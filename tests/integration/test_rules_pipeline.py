"""Rules through the real pipeline on SQLite, and `maildesk rules test|check` on the shipped example."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ALICE, REPO, DeskFactory, make_mail, query, receive, write_config

from maildesk import config
from maildesk.admin import tickets
from maildesk.cli.app import main
from maildesk.pipeline.outcome import Outcome
from maildesk.runtime.wiring import Runtime
from maildesk.store import migrate
from maildesk.store.db import Database

SATURDAY_NIGHT = datetime(2026, 11, 21, 21, 30, tzinfo=UTC)  # 23:30 in Kyiv
TUESDAY_MORNING = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 10:00 in Kyiv

ROUTING = """
[calendars.office]
tz = "Europe/Kyiv"
hours = { "mon-fri" = "09:00-18:00" }

[[queues]]
name = "general"
addresses = ["support@example.org"]

[[queues]]
name = "billing"
addresses = ["billing@example.org"]
agents = ["bill@example.org"]
default_category = "billing"

[[queues]]
name = "services"
addresses = ["services@example.org"]
calendar = "office"

[[categories]]
name = "hardware"

[[categories]]
name = "billing"

[[rules]]
name = "spam"
when = { field = "header", header = "X-Spam-Flag", match = "yes" }
then = { spam = true }
stop = true

[[rules]]
name = "ukrainian"
when = { field = "text", regex = '[іїєґ]' }
then = { language = "uk" }

[[rules]]
name = "printer"
when = { field = "text", regex = 'принтер|printer' }
then = { category = "hardware", assignee = "alice@example.org" }

[[rules]]
name = "urgent-night"
when = { all = [{ field = "text", regex = 'не\\s+працю|urgent' }, { field = "hours", match = "outside" }] }
[rules.then]
priority = "urgent"
type = "incident"
tags = ["night"]
notify = { to = "oncall@example.org", template = "notify_oncall" }

[[rules]]
name = "robots"
when = { field = "from_domain", match = "robot.example" }
then = { suppress_ack = true, assignee = "ghost@example.org" }

[[rules]]
name = "vip"
when = { field = "from_domain", match = "bigclient.example" }
then = { tier = "gold" }
on_followups = true
"""


@pytest.fixture
def rt(make_desk: DeskFactory) -> Runtime:
    """A migrated SQLite desk with the routing above, and agents alice and bill."""
    return make_desk(ROUTING, agents=[ALICE, ("bill@example.org", "Bill")], since=SATURDAY_NIGHT)


def _receive(rt: Runtime, raw: bytes, rcpt: tuple[str, ...], when: datetime) -> Outcome:
    """Receive `raw` as its sender's MTA hands it over (the envelope sender is its From:)."""
    return receive(rt, raw, rcpt=rcpt, when=when)


def _outbox(rt: Runtime) -> list[tuple[str, str]]:
    rows = query(rt.settings, "select kind, rcpt_to from outbox order by id")
    return [(str(kind), str(rcpt)) for kind, rcpt in rows]


def _body(rt: Runtime, kind: str) -> str:
    (raw,) = [r for k, r in query(rt.settings, "select kind, raw from outbox") if k == kind]
    msg = message_from_bytes(raw, policy=policy.default)  # type: ignore[arg-type]
    return str(msg.get_body().get_content())  # type: ignore[union-attr]


def test_urgent_ukrainian_mail_outside_hours(rt: Runtime) -> None:
    # An urgent Ukrainian printer mail to services@ on Saturday night: urgent incident, uk guidance, on call.
    raw = make_mail("Оксана <oksana@school.example>", "services@example.org", "Не працює принтер",
                    "Принтер у бухгалтерії не працює.")
    out = _receive(rt, raw, ("services@example.org",), SATURDAY_NIGHT)
    row = query(rt.settings, "select queue, category, priority, type, language, tags, assignee_id, spam "
                             "from tickets where id = ?", out.ticket_id)
    assert row == [("services", "hardware", "urgent", "incident", "uk", '["night"]', 1, 0)]
    kinds = [k for k, _ in _outbox(rt)]
    assert kinds.count("ack") == 1 and kinds.count("rule_notify") == 1
    # An incident is acknowledged as one (uk/ack/incident), whatever its category.
    assert "як інцидент [#1]" in _body(rt, "ack") and "модель пристрою" not in _body(rt, "ack")
    assert "Принтер у бухгалтерії" in _body(rt, "rule_notify")
    detail = tickets.show_ticket(rt.db, out.ticket_id or 0)
    assert [h["rule"] for h in detail.rule_hits] == ["ukrainian", "printer", "urgent-night"]
    assert detail.as_json()["rules"][2]["set"]["priority"] == "urgent"


def test_same_mail_inside_hours_is_not_paged(rt: Runtime) -> None:
    # The same mail on Tuesday morning gets no on-call notice and keeps its queue's default priority.
    raw = make_mail("Оксана <oksana@school.example>", "services@example.org", "Не працює принтер", "Принтер.")
    out = _receive(rt, raw, ("services@example.org",), TUESDAY_MORNING)
    assert query(rt.settings, "select priority from tickets where id = ?", out.ticket_id) == [("normal",)]
    assert "rule_notify" not in [k for k, _ in _outbox(rt)]
    assert "модель пристрою" in _body(rt, "ack")  # a request: the uk/ack/hardware template


def test_two_support_addresses_make_one_ticket(rt: Runtime) -> None:
    # Mail to billing@ and services@: one ticket in billing, only billing's agent told, services recorded.
    raw = make_mail(to="billing@example.org, services@example.org", subject="Invoice", body="Invoice 12")
    out = _receive(rt, raw, ("services@example.org", "billing@example.org"), TUESDAY_MORNING)
    assert query(rt.settings, "select count(*), queue, category from tickets") == [(1, "billing", "billing")]
    events = tickets.show_ticket(rt.db, out.ticket_id or 0).events
    (rules_event,) = [e for e in events if e["kind"] == "rules"]
    assert rules_event["queue"] == "billing" and rules_event["other_queues"] == ["services"]
    notices = [rcpt for kind, rcpt in _outbox(rt) if kind == "agent_new"]
    assert notices == ['["bill@example.org"]']


def test_spam_is_stored_unanswered_and_hidden(rt: Runtime) -> None:
    # A spam-flagged mail becomes a spam ticket: no ack, no agent notice, listed only with spam=True.
    out = _receive(rt, make_mail(X_Spam_Flag="YES"), ("support@example.org",), TUESDAY_MORNING)
    assert query(rt.settings, "select spam from tickets where id = ?", out.ticket_id) == [(1,)]
    assert _outbox(rt) == []
    assert tickets.list_tickets(rt.db, tickets.TicketFilter()) == []
    (row,) = tickets.list_tickets(rt.db, tickets.TicketFilter(spam=True))
    assert row.spam and row.id == out.ticket_id


def test_suppressed_ack_and_unknown_assignee(rt: Runtime) -> None:
    # A rule suppresses the acknowledgement (agents still hear) and names a non-agent, which is recorded.
    out = _receive(rt, make_mail(sender="bot@robot.example"), ("support@example.org",), TUESDAY_MORNING)
    kinds = [k for k, _ in _outbox(rt)]
    assert "ack" not in kinds and kinds.count("agent_new") == 2
    events = tickets.show_ticket(rt.db, out.ticket_id or 0).events
    assert any(e["kind"] == "suppressed" for e in events)
    unassigned = [e["unassigned"] for e in events if e["kind"] == "rules"]
    assert unassigned == ["ghost@example.org is not an active agent"]


def test_followup_meets_on_followups_rules_only(rt: Runtime) -> None:
    # A reply tagged with the ticket runs the vip rule (on_followups) but not the printer rule.
    first = _receive(rt, make_mail(sender="mark@bigclient.example", subject="Hello", body="hi"),
                     ("support@example.org",), TUESDAY_MORNING)
    assert query(rt.settings, "select tier, category from tickets") == [("gold", "other")]
    reply = make_mail(sender="mark@bigclient.example", subject=f"Re: [#{first.ticket_id}] Hello",
                      body="my printer too")
    _receive(rt, reply, ("support@example.org",), TUESDAY_MORNING)
    assert query(rt.settings, "select count(*), category from tickets") == [(1, "other")]
    hits = [h["rule"] for h in tickets.show_ticket(rt.db, first.ticket_id or 0).rule_hits]
    assert hits == ["vip", "vip"]


def test_cli_rules_test_on_example_mail() -> None:
    # `maildesk rules test` on the shipped example mail shows queue, category, priority, ack and on-call.
    result = CliRunner().invoke(main, ["--config", str(REPO / "maildesk.conf.example"), "rules", "test",
                                       str(REPO / "examples" / "urgent-uk-services.eml"),
                                       "--rcpt", "services@example.org", "--at", "2026-11-21T23:30+02:00"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(":", 1) for line in result.output.splitlines() if not line.startswith(" "))
    assert lines["queue"].strip() == "services" and lines["category"].strip() == "hardware"
    assert lines["priority"].strip() == "urgent" and lines["acknowledgement"].strip() == "uk/ack/incident"
    assert "oncall@example.org (notify_oncall)" in lines["notify"]
    assert "  urgent-outside-hours: tags=after-hours" in result.output


def test_cli_rules_check(tmp_path: Path) -> None:
    # `rules check` says ok for the example, and lists one line per faulty rule otherwise.
    ok = CliRunner().invoke(main, ["--config", str(REPO / "maildesk.conf.example"), "rules", "check"])
    assert ok.exit_code == 0 and ok.output.strip() == "rules ok"
    bad = write_config(tmp_path, '[[rules]]\nname = "a"\nwhen = { field = "body", regex = "[" }\n'
                                 'then = { spam = true }\n[[rules]]\nname = "b"\nthen = { queue = "x" }\n')
    result = CliRunner().invoke(main, ["--config", str(bad), "rules", "check"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 2 and "rule 'a'" in lines[0] and "rule 'b'" in lines[1]


def test_cli_rules_check_names_unknown_agents(tmp_path: Path) -> None:
    # An assignee who is not an agent in the database is one line naming the rule.
    path = write_config(tmp_path, '[[rules]]\nname = "to-carol"\nthen = { assignee = "carol@example.org" }\n')
    settings = config.load(path)
    db = Database(settings.database.url)
    migrate.upgrade(db)
    db.dispose()
    result = CliRunner().invoke(main, ["--config", str(path), "rules", "check"])
    assert result.exit_code == 1
    assert result.output.strip() == ("rule 'to-carol': assignee carol@example.org is not an active agent "
                                     "(maildesk agents add carol@example.org)")
