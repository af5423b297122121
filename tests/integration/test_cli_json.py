"""`--json` on every command that reads: each one, run on a small desk with data, prints one JSON value
with the facts its text shows; and a walk of the command tree fails when a command that reads has no
`--json` (the commands that change or run something are named below, each with why)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from conftest import NOW, REPO, free_port, make_mail, open_desk, receive, write_config

from maildesk import config
from maildesk.admin.agents import add_agent
from maildesk.cli.app import main
from maildesk.pipeline import kb

#: The commands that have no --json, and why: they change the desk, run it, or print what is not data.
NOT_READS = {
    "init": "creates or upgrades the database",
    "serve": "runs the daemon",
    "worker": "runs the workers",
    "ingest": "stores a mail (an MTA reads its exit status)",
    "import": "stores a backlog",
    "tickets set-status": "changes a ticket",
    "tickets assign": "changes a ticket",
    "tickets merge": "changes two tickets",
    "tickets split": "changes a ticket and opens one",
    "tickets attachment": "writes a file's bytes",
    "agents add": "adds an agent",
    "agents remove": "removes an agent",
    "quarantine retry": "processes a message again",
    "quarantine drop": "gives a message up",
    "kb index": "rebuilds the index",
    "completion": "prints a shell script for the shell to load",
}

def leaves(group: click.Group = main, prefix: str = "") -> dict[str, click.Command]:
    """Every command that runs something, by its path under `maildesk` ("tickets list")."""
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found |= leaves(command, path + " ")
        else:
            found[path] = command
    return found


def has_json(command: click.Command) -> bool:
    return any("--json" in p.opts for p in command.params if isinstance(p, click.Option))


@dataclass(frozen=True)
class Desk:
    """The config file of the shared desk, and the mail file `rules test` reads."""

    config_path: Path
    mail_file: Path

    def json(self, *args: str, status: int = 0) -> Any:
        """`maildesk ARGS --json`, run in this process (a process each would cost seconds of imports):
        its exit status checked, its stdout parsed."""
        result = CliRunner().invoke(main, ["--config", str(self.config_path), *args, "--json"])
        assert result.exit_code == status, (args, result.output, result.exception)
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """Agent Alice, two tickets (one about the printer), one quarantined mail, the sample knowledge base,
    one macro, and an IMAP mailbox nothing listens for."""
    tmp = tmp_path_factory.mktemp("json-desk")
    (tmp / "macros").mkdir()
    (tmp / "macros" / "printer.txt.j2").write_text("Please follow the printer article.\n", encoding="utf-8")
    imap = (f'[[imap]]\nname = "inbox"\nhost = "127.0.0.1"\nport = {free_port()}\ntls = "plain"\n'
            'username = "support@example.org"\npassword = "x"\ntimeout = 2\n')
    extra = f'[kb]\npath = "{REPO / "examples" / "kb"}"\n[macros]\npath = "{tmp / "macros"}"\n{imap}'
    rt = open_desk(config.load(write_config(tmp, extra)))
    try:
        add_agent(rt.db, "alice@example.org", "Alice", NOW)
        kb.rebuild(rt.db, rt.settings.selfservice)
        receive(rt, make_mail(subject="Printer broken", body="The printer does not print.", message_id="p1"))
        receive(rt, make_mail(sender="eve@other.example", subject="VPN down", message_id="v1"))
        receive(rt, b"Subject: who am I\r\nMessage-ID: <anon@x>\r\n\r\nbody\r\n", None)
    finally:
        rt.db.dispose()
    mail_file = tmp / "request.eml"
    mail_file.write_bytes(make_mail(subject="Printer broken"))
    yield Desk(rt.settings.path, mail_file)


def _agents(desk: Desk) -> None:
    assert [(a["email"], a["name"], a["active"]) for a in desk.json("agents", "list")] == [
        ("alice@example.org", "Alice", True)]


def _doctor(desk: Desk) -> None:
    report = desk.json("doctor", status=1)  # the mailbox cannot log in: a failure, exit 1
    states = {c["name"]: c["state"] for c in report["checks"]}
    assert report["ok"] is False and states["config"] == states["database"] == "ok"
    assert states["imap inbox"] == "fail"


def _kb_search(desk: Desk) -> None:
    found = desk.json("kb", "search", "the printer does not print")
    assert set(found[0]) == {"score", "title", "url", "shown"}
    assert found[0]["title"] == "The printer does not print" and found[0]["shown"] is True


def _macros(desk: Desk) -> None:
    assert desk.json("macros", "list") == ["printer"]


def _mailboxes(desk: Desk) -> None:
    (inbox,) = desk.json("mailboxes", "status")
    assert (inbox["account"], inbox["host"], inbox["last_success_at"]) == ("inbox", "127.0.0.1", None)


def _quarantine_list(desk: Desk) -> None:
    (row,) = desk.json("quarantine", "list")
    assert (row["id"], row["state"], row["mail_from"]) == (3, "quarantined", "")
    assert row["reason"].startswith("no sender")


def _quarantine_show(desk: Desk) -> None:
    row = desk.json("quarantine", "show", "3")
    assert (row["id"], row["state"], row["message_id"], row["ticket_id"]) == (3, "quarantined", "anon@x", None)


def _report(desk: Desk) -> None:
    doc = desk.json("report", "--since", "2026-11-01")
    summary = {row["metric"]: row["value"] for row in doc["summary"]}
    assert (summary["opened"], summary["closed"]) == (2, 0)
    assert {(r["dimension"], r["name"], r["opened"]) for r in doc["volume"]} >= {("queue", "-", 2)}  # no queue set


def _rules_check(desk: Desk) -> None:
    assert desk.json("rules", "check") == {"ok": True, "problems": []}


def _rules_test(desk: Desk) -> None:
    run = desk.json("rules", "test", str(desk.mail_file))
    assert {"queue", "category", "priority", "type", "acknowledgement", "rules"} <= set(run)
    assert run["spam"] is False and run["language"] == "en"


def _status(desk: Desk) -> None:
    # Two acknowledgements and two notices to Alice, queued at NOW (days ago) and never delivered: stuck, exit 1.
    status = desk.json("status", status=1)
    assert (status["quarantined"], status["inbound"]["waiting"], status["outbox"]["waiting"]) == (1, 0, 4)
    assert status["stuck"] is True and status["last_sweep"] is None


def _sweep(desk: Desk) -> None:
    plan = desk.json("sweep", "--dry-run")
    assert (plan["dry_run"], plan["recovered"], plan["notices_queued"]) == (True, None, None)
    assert isinstance(plan["checked"], int) and isinstance(plan["actions"], list)


def _tickets_list(desk: Desk) -> None:
    rows = desk.json("tickets", "list")
    assert [(r["id"], r["subject"], r["requester"]) for r in rows] == [
        (2, "VPN down", "eve@other.example"), (1, "Printer broken", "bob@client.example")]


def _tickets_show(desk: Desk) -> None:
    shown = desk.json("tickets", "show", "#1")
    assert (shown["subject"], shown["status"]) == ("Printer broken", "new")
    assert [m["from"] for m in shown["messages"]] == ["bob@client.example"]


#: Each command that reads, and how its --json output is checked.
READS: dict[str, Callable[[Desk], None]] = {
    "agents list": _agents, "doctor": _doctor, "kb search": _kb_search, "macros list": _macros,
    "mailboxes status": _mailboxes, "quarantine list": _quarantine_list, "quarantine show": _quarantine_show,
    "report": _report, "rules check": _rules_check, "rules test": _rules_test, "status": _status, "sweep": _sweep,
    "tickets list": _tickets_list, "tickets show": _tickets_show,
}


@pytest.mark.parametrize("command", sorted(READS))
def test_each_read_prints_json(desk: Desk, command: str) -> None:
    # `maildesk COMMAND --json` on a desk with data prints one JSON value holding what the desk has.
    READS[command](desk)


@pytest.mark.parametrize("command", sorted(set(leaves()) - set(NOT_READS)))
def test_every_command_that_reads_has_json(command: str) -> None:
    # A command not named in NOT_READS reads, so it has --json: a new read command without it fails here.
    assert has_json(leaves()[command]), f"`maildesk {command}` reads but has no --json"


def test_the_lists_name_the_commands_there_are() -> None:
    # Every command is either a read checked above or named with why it has no --json; no name is stale.
    commands = set(leaves())
    assert set(NOT_READS) <= commands, set(NOT_READS) - commands
    assert commands - set(NOT_READS) == set(READS)


def test_quarantine_show_without_json_prints_the_facts_as_lines(desk: Desk) -> None:
    # Like every other read, `quarantine show` prints text unless --json is given: one fact per line.
    result = subprocess.run([sys.executable, "-m", "maildesk", "--config", str(desk.config_path), "quarantine",
                             "show", "3"], capture_output=True, timeout=120, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "inbound:         3" and "from:            <>" in lines
    assert "reason:          no sender: neither a From: address nor an envelope sender" in lines
    assert lines[-1] == "ticket:          -"
