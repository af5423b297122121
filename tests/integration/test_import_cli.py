"""`maildesk import PATH`: an mbox or a Maildir backlog through the inbound path, idempotent, mailing
nobody unless asked, dated by each mail's own Date:, in date order, with a progress bar on a terminal
that log lines do not break."""

from __future__ import annotations

import mailbox
import os
import pty
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from conftest import ServeProcess, make_mail, query

ORIGINAL = "Tue, 05 Mar 2024 09:15:00 +0100"
REPLY = "Wed, 06 Mar 2024 14:30:00 +0000"


def _dated(raw: bytes, date: str) -> bytes:
    """`raw` (from make_mail) with another Date:."""
    return raw.replace(b"Date: Fri, 20 Nov 2026 10:00:00 +0000", f"Date: {date}".encode())


def _thread_mbox(path: Path, reply_text: str = "Any news?") -> Path:
    """An original request and the requester's reply, the reply first in the file (as an export
    sorted by subject holds them)."""
    box = mailbox.mbox(path)
    box.add(_dated(make_mail(subject="Re: Printer broken", body=reply_text, message_id="reply",
                             In_Reply_To="<orig@client.example>", References="<orig@client.example>"), REPLY))
    box.add(_dated(make_mail(message_id="orig"), ORIGINAL))
    box.close()
    return path


def test_import_mbox_and_maildir_twice_creates_nothing_new(tmp_path: Path,
                                                           serve: Callable[..., ServeProcess]) -> None:
    # Scenario: an mbox and a Maildir are imported into tickets, mailing nobody; importing both again creates nothing new.
    daemon = serve()
    box = mailbox.mbox(tmp_path / "backlog.mbox")
    for i in range(5):
        box.add(make_mail(sender=f"m{i}@client.example", message_id=f"mbox{i}"))
    box.close()
    maildir = mailbox.Maildir(tmp_path / "backlog.maildir")
    for i in range(3):
        maildir.add(make_mail(sender=f"d{i}@client.example", message_id=f"maildir{i}"))
    for path, total in ((tmp_path / "backlog.mbox", 5), (tmp_path / "backlog.maildir", 3)):
        first = daemon.cli("import", str(path))
        assert first.returncode == 0, first.stderr
        assert f"{total} messages: {total} new, 0 already stored, 0 refused; {total} tickets opened".encode() in first.stdout
        again = daemon.cli("import", str(path))
        assert f"{total} messages: 0 new, {total} already stored, 0 refused; 0 tickets opened".encode() in again.stdout
    assert query(daemon.settings, "SELECT count(*), min(source), max(state) FROM inbound") == [(8, "import", "done")]
    assert query(daemon.settings, "SELECT count(*) FROM tickets") == [(8,)]
    assert query(daemon.settings, "SELECT count(*) FROM outbox") == [(0,)]


def test_import_mails_nobody_and_keeps_the_dates(tmp_path: Path, serve: Callable[..., ServeProcess]) -> None:
    # Scenario: a request and its reply (stored before it in the mbox) make one ticket dated by their Date:, and neither the requester nor the agent hears of it.
    daemon = serve('[[sla]]\nname = "standard"\nfirst_response = "8h"\nresolution = "36h"\n')
    assert daemon.cli("agents", "add", "alice@example.org", "--name", "Alice").returncode == 0
    result = daemon.cli("import", str(_thread_mbox(tmp_path / "backlog.mbox")))
    assert result.returncode == 0, result.stderr
    assert b"2 messages: 2 new, 0 already stored, 0 refused; 1 tickets opened" in result.stdout
    assert query(daemon.settings, "SELECT count(*) FROM outbox") == [(0,)]
    tickets = query(daemon.settings, "SELECT id, status, created_at, updated_at, first_response_due FROM tickets")
    assert [t[:4] for t in tickets] == [(1, "new", "2024-03-05 08:15:00.000000", "2024-03-06 14:30:00.000000")]
    assert str(tickets[0][4]) == "2024-03-05 16:15:00.000000"  # the SLA clock runs from the mail's date
    assert query(daemon.settings, "SELECT message_id, created_at FROM messages ORDER BY id") == [
        ("orig@client.example", "2024-03-05 08:15:00.000000"), ("reply@client.example", "2024-03-06 14:30:00.000000")]
    assert query(daemon.settings, "SELECT count(*) FROM events WHERE kind = 'suppressed' AND reason = "
                                  "'imported: no mail sent'") == [(2,)]


def test_import_with_notify_mails_as_live_mail_would(tmp_path: Path, serve: Callable[..., ServeProcess]) -> None:
    # Scenario: with --notify the same backlog acknowledges the request and tells the agent of both mails.
    daemon = serve()
    assert daemon.cli("agents", "add", "alice@example.org", "--name", "Alice").returncode == 0
    result = daemon.cli("import", "--notify", str(_thread_mbox(tmp_path / "backlog.mbox")))
    assert result.returncode == 0, result.stderr
    assert query(daemon.settings, "SELECT kind, state FROM outbox ORDER BY id") == [
        ("ack", "sent"), ("agent_new", "sent"), ("agent_reply", "sent")]
    assert query(daemon.settings, "SELECT DISTINCT source FROM inbound") == [("import+notify",)]


def test_import_status_closed_files_tickets_at_their_last_mail(tmp_path: Path,
                                                                serve: Callable[..., ServeProcess]) -> None:
    # Scenario: --status closed closes each imported ticket at its last mail's date; a later sweep mails nobody about them.
    daemon = serve()
    result = daemon.cli("import", "--status", "closed", str(_thread_mbox(tmp_path / "backlog.mbox")))
    assert result.returncode == 0, result.stderr
    assert b"1 tickets opened, 1 filed as closed" in result.stdout
    assert query(daemon.settings, "SELECT status, closed_at, close_reason, next_check_at FROM tickets") == [
        ("closed", "2024-03-06 14:30:00.000000", "imported", None)]
    assert daemon.cli("sweep").returncode == 0
    assert query(daemon.settings, "SELECT count(*) FROM outbox") == [(0,)]
    refused = daemon.cli("import", "--status", "pending", str(tmp_path / "backlog.mbox"))
    assert refused.returncode == 2 and b"'pending' is not one of 'open', 'closed', 'canceled'" in refused.stderr


def test_a_solved_reply_in_an_import_closes_its_ticket_without_a_notice(tmp_path: Path,
                                                                         serve: Callable[..., ServeProcess]) -> None:
    # Scenario: the requester's "solved" in the backlog closes the ticket; the status notice it would send is held back and recorded.
    daemon = serve()
    result = daemon.cli("import", str(_thread_mbox(tmp_path / "backlog.mbox", reply_text="solved")))
    assert result.returncode == 0, result.stderr
    assert query(daemon.settings, "SELECT status, closed_at FROM tickets") == [("closed", "2024-03-06 14:30:00.000000")]
    assert query(daemon.settings, "SELECT count(*) FROM outbox") == [(0,)]
    held = query(daemon.settings, "SELECT detail FROM events WHERE kind = 'suppressed' ORDER BY id")
    assert '"status_closed"' in str(held[-1][0])


def test_import_of_something_else_is_refused(tmp_path: Path, serve: Callable[..., ServeProcess]) -> None:
    # Scenario: a folder that is not a Maildir gives one clear line and exit status 2.
    daemon = serve()
    (tmp_path / "plain").mkdir()
    result = daemon.cli("import", str(tmp_path / "plain"))
    assert result.returncode == 2 and b"not a Maildir" in result.stderr


def _screen(output: str) -> list[str]:
    """The lines a terminal shows for `output`: a carriage return goes back to the start of the
    line, ESC[K clears the rest of it, a newline moves on."""
    lines, line, column = [], "", 0
    for token in re.split(r"(\r|\n|\x1b\[K)", output):
        if token == "\r":
            column = 0
        elif token == "\n":
            lines.append(line)
            line, column = "", 0
        elif token == "\x1b[K":
            line = line[:column]
        elif token:
            line = line[:column] + token + line[column + len(token):]
            column += len(token)
    return [*lines, line] if line else lines


def test_progress_bar_and_log_lines_share_the_terminal(tmp_path: Path, serve: Callable[..., ServeProcess]) -> None:
    # Scenario: on a terminal, every log line of an import stands on its own line and the bar ends whole below them.
    daemon = serve()
    box = mailbox.mbox(tmp_path / "backlog.mbox")
    for i in range(150):
        box.add(make_mail(sender=f"u{i}@client.example", message_id=f"tty{i}"))
    box.close()
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "maildesk", "--config", str(daemon.config_path), "import",
                             str(tmp_path / "backlog.mbox")], stdin=secondary, stdout=secondary, stderr=secondary,
                            env=os.environ | {"COLUMNS": "120"})
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the other side is closed: the command is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    assert proc.wait(60) == 0
    screen = _screen(b"".join(chunks).decode())
    bars = [line for line in screen if line.startswith("importing mbox [")]
    logs = [line for line in screen if "inbound=" in line]
    assert len(logs) >= 300  # stored and processed, each message
    assert all("importing mbox" not in line for line in logs)  # no log line glued to the bar
    assert len(bars) == 1 and re.fullmatch(r"importing mbox \[#+\] 100% 150/150 \d+/s", bars[0]), bars
    assert screen.index(bars[0]) == len(screen) - 2  # the bar stays last, under the logs, then the summary
    assert screen[-1].startswith("150 messages: 150 new")
