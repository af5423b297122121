"""Postfix configured from deploy/postfix hands the desk's mail to maildesk: over LMTP, and in the
other configuration through the pipe to `maildesk ingest`. The mail comes from a client outside
mynetworks, for a domain that is not in mydestination; while maildesk cannot take it, Postfix keeps
it queued, and delivers it once maildesk can."""

from __future__ import annotations

import contextlib
import shutil
import smtplib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from as_user import maildesk_for, run_as
from conftest import ServeProcess, free_port, make_mail, query, wait_for, write_config
from postfix import Postfix, example, private_postfix

from maildesk import config as maildesk_config

#: An address on the loopback network that is not in the private instance's mynetworks.
OUTSIDE = "127.0.0.2"


def _main() -> str:
    return example("main.cf.example", {"/etc/postfix/": "{conf}/"})


def _maps(transport: str, replace: dict[str, str]) -> dict[str, str]:
    return {"maildesk_recipients": example("maildesk_recipients.example", {}),
            "transport": example(transport, replace)}


@contextlib.contextmanager
def _outside_client(postfix: Postfix) -> Iterator[smtplib.SMTP]:
    """An SMTP session to the instance from OUTSIDE, as a server on the Internet would open one."""
    client = smtplib.SMTP(timeout=10, source_address=(OUTSIDE, 0))
    client.connect("127.0.0.1", postfix.port)
    client.ehlo("mail.client.example")
    try:
        yield client
    finally:
        client.quit()


def _send(postfix: Postfix, raw: bytes, mail_from: str = "bob@client.example") -> None:
    with _outside_client(postfix) as client:
        client.sendmail(mail_from, ["support@example.org"], raw)


def test_postfix_delivers_over_lmtp_and_keeps_the_mail_while_maildesk_is_down(
        serve: Callable[..., ServeProcess]) -> None:
    # Scenario: an outside server's mail for support@example.org is queued while maildesk is stopped, and lands once it runs and the queue is flushed.
    daemon = serve(smtp="lmtp = true\n")
    maps = _maps("transport.example", {"127.0.0.1:8024": f"127.0.0.1:{daemon.settings.smtp.port}"})
    with private_postfix(free_port(), _main(), "", maps) as postfix:
        with _outside_client(postfix) as client:
            client.mail("bob@client.example")
            assert client.rcpt("nobody@example.org")[0] == 550          # not one of the desk's addresses
            assert client.rcpt("someone@elsewhere.example")[0] == 454  # not an open relay
            assert client.rcpt("support@example.org")[0] == 250
            client.rset()
        _send(postfix, make_mail(message_id="via-postfix"))
        postfix.wait_for_log(r"to=<support@example\.org>, relay=none, .*status=deferred \(connect to 127\.0\.0\.1")
        assert postfix.queued() == 1
        assert query(daemon.settings, "SELECT count(*) FROM inbound") == [(0,)]
        daemon.start()
        postfix.flush()
        postfix.wait_for_log(r"to=<support@example\.org>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*status=sent "
                             r"\(250 2\.0\.0 ")
        assert postfix.queued() == 0
    wait_for(lambda: query(daemon.settings, "SELECT state FROM inbound") == [("done",)], 20, "the ticket")
    assert query(daemon.settings, "SELECT source, mail_from, rcpt_to, message_id FROM inbound") == [
        ("lmtp", "bob@client.example", '["support@example.org"]', "via-postfix@client.example")]


def test_postfix_pipes_to_ingest_defers_until_the_desk_is_ready_and_keeps_a_null_sender() -> None:
    # Scenario: through the pipe, mail waits in Postfix's queue while the desk has no database yet, lands once `maildesk init` ran; a bounce's empty sender arrives empty, not as MAILER-DAEMON.
    home = Path(tempfile.mkdtemp(prefix="maildesk-pipe-"))
    try:
        home.chmod(0o755)
        command = maildesk_for("mail", home)
        config = write_config(home)
        shutil.chown(home, "mail", "mail")
        shutil.chown(config, "mail", "mail")
        master = example("master.cf.pipe.example", {"/opt/maildesk/.venv/bin/maildesk": str(command),
                                                    "/etc/maildesk/maildesk.conf": str(config), "user=maildesk": "user=mail"})
        main = _main() + example("main.cf.pipe.example", {})
        with private_postfix(free_port(), main, master, _maps("transport.pipe.example", {})) as postfix:
            _send(postfix, make_mail(message_id="piped"))
            postfix.wait_for_log(r"relay=maildesk, .*status=deferred \(temporary failure\. Command output: "
                                 r"maildesk: database schema is at nothing")
            init = run_as("mail", command, "--config", str(config), "init")
            assert init.returncode == 0, init.stderr
            postfix.flush()
            # A stored mail prints nothing: Postfix's status is its own, with no log line of ours in it.
            postfix.wait_for_log(r"(?m)relay=maildesk, .*status=sent \(delivered via maildesk service\)$")
            _send(postfix, make_mail(sender="MAILER-DAEMON@mail.client.example", subject="Undelivered Mail",
                                     message_id="bounce"), mail_from="")
            wait_for(lambda: len(query(maildesk_config.load(config), "SELECT id FROM inbound")) == 2, 20, "the bounce")
        rows = query(maildesk_config.load(config), "SELECT source, mail_from, rcpt_to, message_id FROM inbound ORDER BY id")
        assert rows == [("pipe", "bob@client.example", '["support@example.org"]', "piped@client.example"),
                        ("pipe", "", '["support@example.org"]', "bounce@client.example")]
    finally:
        shutil.rmtree(home, ignore_errors=True)
