"""The admin CLI: tickets list/show/set-status, agents, and one-line errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

from conftest import ServeProcess, make_mail, outbox_files


def _desk(serve: Callable[..., ServeProcess]) -> ServeProcess:
    daemon = serve()
    for i, who in enumerate(["bob@client.example", "eve@other.example"]):
        # As an MTA's pipe transport calls it, with the envelope sender.
        result = daemon.cli("ingest", "-f", who, stdin=make_mail(sender=who, subject=f"Problem {i}",
                                                                 body=f"text {i}"))
        assert result.returncode == 0, result.stderr
    return daemon


def test_tickets_list_json_and_filters(serve: Callable[..., ServeProcess]) -> None:
    # `tickets list --json` prints the documented fields; filters narrow by requester and text.
    daemon = _desk(serve)
    rows = json.loads(daemon.cli("tickets", "list", "--json").stdout)
    assert [r["id"] for r in rows] == [2, 1]
    assert set(rows[0]) >= {"id", "status", "priority", "category", "subject", "requester", "created", "updated"}
    only_bob = json.loads(daemon.cli("tickets", "list", "--json", "--requester", "bob@").stdout)
    assert [r["requester"] for r in only_bob] == ["bob@client.example"]
    by_text = json.loads(daemon.cli("tickets", "list", "--json", "--text", "TEXT 1").stdout)
    assert [r["id"] for r in by_text] == [2]
    none_closed = json.loads(daemon.cli("tickets", "list", "--json", "--status", "closed").stdout)
    assert none_closed == []
    future = json.loads(daemon.cli("tickets", "list", "--json", "--since", "2999-01-01").stdout)
    assert future == []


def test_tickets_show_json_has_thread_and_events(serve: Callable[..., ServeProcess]) -> None:
    # `tickets show --json` gives the ticket, its messages and its events.
    daemon = _desk(serve)
    shown = json.loads(daemon.cli("tickets", "show", "1", "--json").stdout)
    assert shown["subject"] == "Problem 0"
    assert [(m["from"], m["direction"], m["text"]) for m in shown["messages"]] == [
        ("bob@client.example", "inbound", "text 0")]
    assert [e["kind"] for e in shown["events"]] == ["created"]


def test_set_status_sends_the_notice(serve: Callable[..., ServeProcess]) -> None:
    # Resolving a ticket records the change and mails the requester the resolved template.
    daemon = _desk(serve)
    result = daemon.cli("tickets", "set-status", "1", "resolved", "--reason", "driver reinstalled")
    assert result.returncode == 0, result.stderr
    notices = [m for m in (message_from_bytes(b, policy=policy.default) for b in outbox_files(daemon.settings))
               if "is resolved" in m.get_body().get_content()]  # type: ignore[union-attr]
    assert len(notices) == 1
    assert notices[0]["Subject"] == "[#1] Problem 0" and notices[0]["To"] == "bob@client.example"
    assert "driver reinstalled" in notices[0].get_body().get_content()  # type: ignore[union-attr]
    shown = json.loads(daemon.cli("tickets", "show", "1", "--json").stdout)
    assert shown["status"] == "resolved"


def test_errors_are_one_line_exit_2(serve: Callable[..., ServeProcess]) -> None:
    # Unknown tickets, bad transitions and bad filters each give one clear line and exit 2.
    daemon = _desk(serve)
    assert daemon.cli("tickets", "set-status", "1", "open").returncode == 0
    cases = [(("tickets", "show", "99"), b"no ticket #99"),
             (("tickets", "set-status", "1", "new"), b"cannot go back to new"),
             (("tickets", "list", "--status", "lost"), b"unknown status 'lost'"),
             (("tickets", "list", "--since", "yesterday"), b"not a date"),
             (("agents", "remove", "nobody@example.org"), b"no agent nobody@example.org"),
             (("agents", "add", "not-an-address"), b"is not a mail address")]
    for args, message in cases:
        result = daemon.cli(*args)
        assert (result.returncode, result.stderr.count(b"\n")) == (2, 1), (args, result.stderr)
        assert message in result.stderr


def test_agents_add_list_remove(serve: Callable[..., ServeProcess]) -> None:
    # Agents are managed in the database and only active ones are notified.
    daemon = serve()
    assert daemon.cli("agents", "add", "Alice@Example.org", "--name", "Alice").returncode == 0
    assert daemon.cli("agents", "add", "bob@example.org").returncode == 0
    assert daemon.cli("agents", "remove", "bob@example.org").returncode == 0
    listed = json.loads(daemon.cli("agents", "list", "--json").stdout)
    assert [(a["email"], a["active"]) for a in listed] == [("alice@example.org", True), ("bob@example.org", False)]
    daemon.cli("ingest", stdin=make_mail())
    notices = [m for m in (message_from_bytes(b, policy=policy.default) for b in outbox_files(daemon.settings))
               if m["Auto-Submitted"] == "auto-generated"]
    assert [m["To"] for m in notices] == ["Alice <alice@example.org>"]


def test_missing_config_is_one_line(tmp_path: Path) -> None:
    # Without a config file the CLI says which file it looked for.
    result = subprocess.run([sys.executable, "-m", "maildesk", "--config", str(tmp_path / "x.conf"), "init"],
                            capture_output=True, timeout=60)
    assert result.returncode == 2 and b"x.conf: no such config file" in result.stderr
