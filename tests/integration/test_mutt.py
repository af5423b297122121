"""A real mail client: mutt, in batch mode, answers an agent notice over SMTP to the running daemon."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import ServeProcess, make_mail, outbox_files, send_smtp, wait_for


def _mutt() -> str:
    found = shutil.which("mutt")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but mutt is not installed (.ci/run installs it)")
    pytest.skip("mutt is not installed (apt-get install mutt)")


def _mails(daemon: ServeProcess) -> list[EmailMessage]:
    return [message_from_bytes(raw, policy=policy.default) for raw in outbox_files(daemon.settings)]  # type: ignore[misc]


def _draft(notice: EmailMessage, body_quote: str) -> str:
    """What mutt's reply editor would hold: headers from the notice, command and answer on top, quote below."""
    quoted = "\n".join(f"> {line}" for line in body_quote.splitlines())
    return (f"From: Alice <alice@example.org>\nTo: {notice['Reply-To'].addresses[0].addr_spec}\n"
            f"Subject: Re: {notice['Subject']}\nIn-Reply-To: {notice['Message-ID']}\n"
            f"References: {notice['References']} {notice['Message-ID']}\n\n"
            f"#pending\nWhich printer model is it, and which room?\n\n"
            f"On Fri, 20 Nov 2026, Example Support wrote:\n{quoted}\n")


def test_mutt_reply_is_relayed_threaded_with_attachment(serve: Callable[..., ServeProcess], tmp_path: Path) -> None:
    # Alice replies from mutt with a command and a file: the requester gets text and file, threaded on the ack.
    mutt = _mutt()
    daemon = serve().start()
    assert daemon.cli("agents", "add", "alice@example.org", "--name", "Alice").returncode == 0
    send_smtp(daemon, make_mail(message_id="bob1"))
    wait_for(lambda: len(_mails(daemon)) == 2, 5, "the acknowledgement and Alice's notice")
    ack = next(m for m in _mails(daemon) if m["Auto-Submitted"] == "auto-replied")
    notice = next(m for m in _mails(daemon) if m["Auto-Submitted"] == "auto-generated")
    body = notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    draft, attachment, muttrc = tmp_path / "draft", tmp_path / "screen.png", tmp_path / "muttrc"
    draft.write_text(_draft(notice, body), encoding="utf-8")
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # binary: must arrive byte for byte
    attachment.write_bytes(picture)
    muttrc.write_text(
        f'set smtp_url="smtp://{daemon.settings.smtp.host}:{daemon.settings.smtp.port}/"\n'
        "set ssl_starttls=no\nset ssl_force_tls=no\nset use_from=yes\nset from=\"alice@example.org\"\n"
        "set realname=\"Alice\"\nset charset=\"utf-8\"\nset send_charset=\"utf-8\"\nset record=\"\"\n"
        "set copy=no\nset edit_headers=yes\n", encoding="utf-8")
    result = subprocess.run([mutt, "-n", "-F", str(muttrc), "-H", str(draft), "-a", str(attachment)],
                            stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                            env={**os.environ, "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    wait_for(lambda: any(m["From"] and "via" in str(m["From"]) for m in _mails(daemon)), 10, "the relayed reply")
    relayed = next(m for m in _mails(daemon) if "via" in str(m["From"]))
    assert str(relayed["To"]) == "Bob <bob@client.example>"
    assert str(relayed["In-Reply-To"]) == str(ack["Message-ID"])
    assert str(ack["Message-ID"]) in str(relayed["References"])
    text = relayed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("Which printer model is it, and which room?")
    assert "#pending" not in text and "> " not in text and "My printer does not print" not in text
    files = {a.get_filename(): a.get_payload(decode=True) for a in relayed.iter_attachments()}
    assert files == {"screen.png": picture}
    shown = daemon.cli("tickets", "show", "1", "--json").stdout
    assert b'"status": "pending"' in shown
