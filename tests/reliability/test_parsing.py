"""RELIABILITY.md B.4, P1-P7: size, long lines, deep MIME, pathological content, archives, broken
encodings and connection abuse. A message past a limit is quarantined with its reason; others flow."""

from __future__ import annotations

import gzip
import io
import smtplib
import socket
import time
import zipfile
from email.message import EmailMessage

from conftest import make_mail, query
from kit import count, listener, raw_session, receive

from maildesk.admin import quarantine
from maildesk.domain import InboundState
from maildesk.runtime.wiring import Runtime


def test_P1_oversized_message(runtime: Runtime) -> None:
    # EHLO advertises SIZE; a declared size over it gets 552 at MAIL; 3x the limit streamed gets 552 at the dot.
    with listener(runtime, max_size=100_000) as address, smtplib.SMTP(*address, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("size") and client.esmtp_features["size"] == "100000"
        assert client.mail("bob@client.example", ["SIZE=100001"])[0] == 552
        client.rset()
        client.mail("bob@client.example")
        client.rcpt("support@example.org")
        assert client.data(make_mail(body="y" * 300_000))[0] == 552
        assert client.noop()[0] == 250
        client.sendmail("bob@client.example", ["support@example.org"], make_mail(body="small"))
    assert count(runtime, "select count(*) from inbound") == 1


def test_P2_long_lines_and_header_floods(runtime: Runtime) -> None:
    # A 2,000-char body line and a bare-LF message are stored (not bounced); a 600-byte command gets 500
    # and the session goes on; a 1 MB header line and 20,000 header fields are quarantined with the reason.
    with listener(runtime) as address, smtplib.SMTP(*address, timeout=10) as client:
        client.sendmail("bob@client.example", ["support@example.org"], make_mail(body="z" * 2000))
        bare = make_mail(subject="bare LF").replace(b"\r\n", b"\n")
        client.sendmail("bob@client.example", ["support@example.org"], bare)
        assert client.docmd("NOOP " + "x" * 600)[0] == 500
        assert client.noop()[0] == 250
    assert count(runtime, "select count(*) from inbound") == 2
    floods = [b"X-Big: " + b"h" * 1_000_000 + b"\r\n" + make_mail(subject="one-line header"),
              b"".join(b"X-F%d: v\r\n" % i for i in range(20_000)) + make_mail(subject="many fields")]
    for raw in floods:
        started = time.monotonic()
        out = receive(runtime, raw)
        assert out.state == InboundState.QUARANTINED and "header section" in out.reason
        assert time.monotonic() - started < 5


def _nested(depth: int) -> bytes:
    head = b"From: bob@client.example\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    opening = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(depth))
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return head + opening + b"Content-Type: text/plain\r\n\r\ninner\r\n" + closing


def test_P3_deep_mime_nesting(runtime: Runtime) -> None:
    # multipart nested 200 deep, message/rfc822 nested 50 deep, a 2,000-char boundary: no RecursionError,
    # quarantined at the depth cap (or processed flat), in bounded time.
    rfc822 = make_mail(subject="innermost")
    for _ in range(50):
        rfc822 = (b"From: bob@client.example\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
                  b"Content-Type: message/rfc822\r\n\r\n" + rfc822)
    boundary = b"q" * 2000
    long_b = (b"From: bob@client.example\r\nSubject: long boundary\r\nMIME-Version: 1.0\r\n"
              b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--' + boundary +
              b"\r\nContent-Type: text/plain\r\n\r\nx\r\n--" + boundary + b"--\r\n")
    for raw in (_nested(200), rfc822, long_b):
        started = time.monotonic()
        out = receive(runtime, raw)
        assert out.state in (InboundState.DONE, InboundState.QUARANTINED), out.reason
        assert time.monotonic() - started < 10
    assert "MIME nesting deeper than 100" in str(query(runtime.settings, "select error from inbound where id = 1"))
    assert receive(runtime, make_mail()).state == InboundState.DONE


def test_P4_pathological_content(runtime: Runtime) -> None:
    # 10,000 tiny parts: quarantined by the part limit; 20,000 URLs and a 5 MB word: processed in bounded time.
    parts = b"".join(b"--P\r\nContent-Type: text/plain\r\n\r\np\r\n" for _ in range(10_000))
    many = (b"From: bob@client.example\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=P\r\n\r\n" + parts + b"--P--\r\n")
    out = receive(runtime, many)
    assert out.state == InboundState.QUARANTINED and "MIME parts" in out.reason
    for body in (" ".join(f"https://x{i}.example/p" for i in range(20_000)), "w" * 5_000_000):
        started = time.monotonic()
        assert receive(runtime, make_mail(subject="heavy", body=body)).state == InboundState.DONE
        assert time.monotonic() - started < 30


def test_P5_archive_bombs(runtime: Runtime) -> None:
    # A zip that expands to 100 MB, a gzip bomb and zip-in-zip are stored opaquely, byte for byte.
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\0" * 100_000_000)
    bomb = z.getvalue()
    nested = bomb
    for i in range(10):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(f"layer{i}.zip", nested)
        nested = buf.getvalue()
    gz = gzip.compress(b"\0" * 50_000_000)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = ("bob@client.example", "support@example.org",
                                                                   "archives", "<zip@client.example>")
    msg.set_content("attached")
    for name, data in (("bomb.zip", bomb), ("nested.zip", nested), ("bomb.gz", gz)):
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    assert receive(runtime, msg.as_bytes()).state == InboundState.DONE
    stored = {str(n): str(d) for n, d in query(runtime.settings, "select filename, sha256 from attachments")}
    for name, data in (("bomb.zip", bomb), ("nested.zip", nested), ("bomb.gz", gz)):
        assert runtime.desk.blobs.get(stored[name]) == data


def test_P6_broken_encodings(runtime: Runtime) -> None:
    # 8-bit headers, unknown charset, broken base64/QP, uuencode, mixed line ends, RFC 2231 out of order:
    # no crash, the raw bytes export identical, attachments byte-identical.
    samples = [
        "From: Jürgen <j@client.example>\r\nSubject: Grüße\r\n\r\nbody\r\n".encode("latin-1"),
        b"From: a@client.example\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n\xff\xfe text\r\n",
        b"From: a@client.example\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64===\r\n",
        b"From: a@client.example\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=\r\n=4\r\n",
        b"From: a@client.example\r\nSubject: uu\r\n\r\nbegin 644 x.txt\r\n#86)C\r\n`\r\nend\r\n",
        b"From: a@client.example\nSubject: mixed\r\n\nline\r\nline\n",
        (b"From: a@client.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
         b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*1=\"b.txt\"; "
         b"filename*0=\"a\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--B--\r\n"),
    ]
    for raw in samples:
        out = receive(runtime, raw, mail_from="a@client.example")
        assert out.state in (InboundState.DONE, InboundState.QUARANTINED)
        _, exported = quarantine.show(runtime.db, out.inbound_id)
        assert exported == raw
    digests = [str(d) for (d,) in query(runtime.settings, "select sha256 from attachments")]
    assert any(runtime.desk.blobs.get(d) == b"\x00\x01\x02\x03" for d in digests)


def test_P7_connection_abuse(runtime: Runtime) -> None:
    # Past the session cap the excess hears 421; an idle client is cut off; 150 unknown commands end the
    # session; a well-behaved client on another connection still gets its mail stored meanwhile.
    with listener(runtime, idle_timeout=1.0, max_sessions=5) as address:
        held = [raw_session(address) for _ in range(5)]
        extra = socket.create_connection(address, timeout=5)
        assert extra.recv(1024).startswith(b"421")
        extra.close()
        time.sleep(1.5)  # the five idle sessions time out and are closed by the server
        for sock in held:
            sock.settimeout(5)
            assert b"" in (sock.recv(1024), b"")
            sock.close()
        junk = raw_session(address)
        junk.sendall(b"".join(b"XJUNK%d\r\n" % i for i in range(150)))
        junk.settimeout(5)
        seen = b""
        while chunk := junk.recv(65536):
            seen += chunk
        assert b"502 5.5.1" in seen and seen.count(b"\r\n") < 150
        with smtplib.SMTP(*address, timeout=10) as client:
            started = time.monotonic()
            client.sendmail("bob@client.example", ["support@example.org"], make_mail())
            assert time.monotonic() - started < 5
    assert count(runtime, "select count(*) from inbound") == 1

