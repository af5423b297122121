"""The Dovecot example (deploy/dovecot) end to end: Dovecot on the example's configuration (TLS only,
a certificate made the way Debian makes its own: self-signed, for the machine's name), and maildesk's
IMAP fetcher configured from the example's maildesk.conf lines, trusting that certificate through
`[[imap]] ca_file`."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, ServeProcess, free_port, make_mail, query, wait_for
from dovecot import PRIVATE_STATS_AND_USERS, Dovecot, mail_owner, require_dovecot, start_with
from imapclient import IMAPClient

EXAMPLE = REPO / "deploy" / "dovecot" / "maildesk-imap.conf.example"
#: The template Debian's ssl-cert package makes the snakeoil certificate from (dovecot-core needs it).
SNAKEOIL_TEMPLATE = Path("/usr/share/ssl-cert/ssleay.cnf")
NAME = "localhost"

#: What only a private test instance needs; the rest is the example as shipped.
TEST_ONLY = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = maildesk-example-{port}
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_uid = {uid}
mail_gid = {gid}
auth_mechanisms = plain login
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
  }}
}}
""" + PRIVATE_STATS_AND_USERS


def _replaced(text: str, replace: dict[str, str], what: str) -> str:
    for old, new in replace.items():
        assert old in text, f"{what} no longer has {old!r}"
        text = text.replace(old, new)
    return text


def _snakeoil(root: Path) -> tuple[Path, Path]:
    """A certificate and key for NAME made as make-ssl-cert makes Debian's snakeoil pair: from its
    template, self-signed, CA:FALSE, the name as subject and subjectAltName."""
    openssl = shutil.which("openssl")
    if openssl is None or not SNAKEOIL_TEMPLATE.exists():
        message = "openssl or the ssl-cert template is missing (both come with dovecot-core)"
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but " + message)
        pytest.skip(message)
    (root / "ssleay.cnf").write_text(SNAKEOIL_TEMPLATE.read_text().replace("@HostName@", NAME)
                                     .replace("@SubjectAltName@", f"DNS:{NAME}"))
    cert, key = root / "ssl-cert-snakeoil.pem", root / "ssl-cert-snakeoil.key"
    subprocess.run([openssl, "req", "-config", str(root / "ssleay.cnf"), "-new", "-x509", "-days", "30", "-nodes",
                    "-sha256", "-out", str(cert), "-keyout", str(key)], check=True, capture_output=True, timeout=60)
    return cert, key


def _imap_section(server: Dovecot, ca_file: Path | None, password_file: Path) -> str:
    """The example's maildesk.conf lines, uncommented, pointed at the test's server."""
    commented = EXAMPLE.read_text().split("# maildesk.conf:\n", 1)[1]
    section = "".join(line[2:] for line in commented.splitlines(keepends=True) if line.startswith("# "))
    section = _replaced(section, {'host = "mail.example.org"': f'host = "{NAME}"', "port = 993": f"port = {server.port}",
                                  'username = "support@example.org"': f'username = "{server.user}"',
                                  '"/etc/maildesk/imap-support.password"': f'"{password_file}"'}, "the example")
    ca = 'ca_file = "/etc/ssl/certs/ssl-cert-snakeoil.pem"\n'
    return "\n" + _replaced(section, {ca: f'ca_file = "{ca_file}"\n' if ca_file else ""}, "the example")


def test_dovecot_example_with_its_own_certificate_feeds_the_desk(serve: Callable[..., ServeProcess],
                                                                  tmp_path: Path) -> None:
    # Scenario: without ca_file maildesk refuses Dovecot's self-signed certificate; with it, a mail in INBOX becomes a ticket and moves to Processed.
    require_dovecot()
    root = Path(tempfile.mkdtemp(prefix="maildesk-dovecot-example-"))
    try:
        root.chmod(0o755)
        cert, key = _snakeoil(root)
        port = free_port()
        example = _replaced(EXAMPLE.read_text(), {"</etc/ssl/certs/ssl-cert-snakeoil.pem": f"<{cert}",
                                                  "</etc/ssl/private/ssl-cert-snakeoil.key": f"<{key}"}, "the example")
        server = start_with(root, port, TEST_ONLY.format(root=root, port=port, **mail_owner()) + example)
        try:
            with IMAPClient(NAME, port, ssl=True, ssl_context=ssl.create_default_context(cafile=cert)) as client:
                client.login(server.user, server.password)
                client.append("INBOX", make_mail(message_id="via-dovecot"))
            (tmp_path / "imap.password").write_text(server.password + "\n")
            untrusted = serve(_imap_section(server, None, tmp_path / "imap.password")).cli("doctor")
            assert untrusted.returncode == 1
            assert "FAIL imap support: connect failed" in untrusted.stdout.decode()
            assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stdout.decode()
            daemon = serve(_imap_section(server, cert, tmp_path / "imap.password"))
            doctor = daemon.cli("doctor")
            assert "ok   imap support: 1 messages in INBOX" in doctor.stdout.decode(), doctor.stdout
            daemon.start()
            wait_for(lambda: query(daemon.settings, "SELECT state FROM inbound") == [("done",)], 30, "the ticket")
            assert query(daemon.settings, "SELECT source, message_id FROM inbound") == [
                ("imap:support", "via-dovecot@client.example")]
            with IMAPClient(NAME, port, ssl=True, ssl_context=ssl.create_default_context(cafile=cert)) as client:
                client.login(server.user, server.password)
                wait_for(lambda: client.folder_status("Processed", [b"MESSAGES"])[b"MESSAGES"] == 1, 20,
                         "the mail moved to Processed")
                assert client.folder_status("INBOX", [b"MESSAGES"])[b"MESSAGES"] == 0
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
