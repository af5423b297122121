"""`maildesk tickets …` run in-process on a real SQLite desk: what admins see of a ticket and change on it."""

from __future__ import annotations

from click.testing import CliRunner, Result
from conftest import DeskFactory, make_mail, plain_text, query, receive, sent

from maildesk.cli.app import main
from maildesk.runtime.wiring import Runtime


def cli(rt: Runtime, *args: str) -> Result:
    """`maildesk --config … ARGS` in this process, as an admin types it."""
    return CliRunner().invoke(main, ["--config", str(rt.settings.path), *args], catch_exceptions=False)


def test_open_notice_says_again_only_for_a_ticket_that_was_open_before(make_desk: DeskFactory) -> None:
    # A new ticket taken up is "open"; one that comes back from pending is "open again".
    rt = make_desk()
    receive(rt, make_mail(message_id="b1"))
    for status in ("open", "pending", "open"):
        assert cli(rt, "tickets", "set-status", "1", status).exit_code == 0
    first, again = (plain_text(m) for m in sent(rt, "status_open"))
    assert "[#1] is open." in first and "again" not in first
    assert "[#1] is open again." in again


def test_sweep_at_a_future_instant_only_previews(make_desk: DeskFactory) -> None:
    # `sweep --at` next year refuses to act (one line, exit 2) and writes nothing; with --dry-run it previews.
    rt = make_desk()
    receive(rt, make_mail(message_id="b1"))
    refused = cli(rt, "sweep", "--at", "2999-01-01")
    assert refused.exit_code == 2 and refused.output.count("\n") == 1
    assert "is in the future: only --dry-run may look ahead" in refused.output
    assert query(rt.settings, "select count(*) from events where actor = 'system:sweep'") == [(0,)]
    preview = cli(rt, "sweep", "--at", "2999-01-01", "--dry-run")
    assert preview.exit_code == 0 and "would take" in preview.output
