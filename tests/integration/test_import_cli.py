"""`maildesk import PATH`: an mbox or a Maildir backlog through the inbound path, idempotent."""

from __future__ import annotations

import mailbox
from collections.abc import Callable
from pathlib import Path

from conftest import ServeProcess, make_mail, query


def test_import_mbox_and_maildir_twice_creates_nothing_new(tmp_path: Path,
                                                           serve: Callable[..., ServeProcess]) -> None:
    # Scenario: an mbox and a Maildir are imported into tickets; importing both again creates nothing new.
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
        assert f"{total} messages: {total} new, 0 already stored".encode() in first.stdout
        again = daemon.cli("import", str(path))
        assert f"{total} messages: 0 new, {total} already stored".encode() in again.stdout
    assert query(daemon.settings, "SELECT count(*), min(source), max(state) FROM inbound") == [(8, "import", "done")]
    assert query(daemon.settings, "SELECT count(*) FROM tickets") == [(8,)]
    assert query(daemon.settings, "SELECT count(*) FROM outbox WHERE kind = 'ack'") == [(8,)]


def test_import_of_something_else_is_refused(tmp_path: Path, serve: Callable[..., ServeProcess]) -> None:
    # Scenario: a folder that is not a Maildir gives one clear line and exit status 2.
    daemon = serve()
    (tmp_path / "plain").mkdir()
    result = daemon.cli("import", str(tmp_path / "plain"))
    assert result.returncode == 2 and b"not a Maildir" in result.stderr
