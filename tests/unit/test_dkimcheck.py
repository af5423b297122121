"""DKIM verification with a key served by a test resolver (the edge of the world: DNS)."""

from __future__ import annotations

import base64
from typing import Any

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from maildesk.pipeline.proofs import verified_domains

MAIL = (b"From: Alice <alice@example.org>\r\nTo: support+t1.a1.x@example.org\r\nSubject: Re: [#1] x\r\n"
        b"Message-ID: <a1@example.org>\r\n\r\nDone.\r\n")


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def _resolver(record: bytes) -> Any:
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"s1._domainkey.example.org." else None
    return lookup


def test_signed_mail_verifies_for_its_domain(keys: tuple[bytes, bytes]) -> None:
    # A mail signed for example.org verifies and names example.org.
    private, record = keys
    signed = dkim.sign(MAIL, b"s1", b"example.org", private) + MAIL
    assert verified_domains(signed, _resolver(record)) == frozenset({"example.org"})


def test_tampered_mail_does_not_verify(keys: tuple[bytes, bytes]) -> None:
    # Changing the body after signing breaks the signature.
    private, record = keys
    signed = dkim.sign(MAIL, b"s1", b"example.org", private) + MAIL.replace(b"Done.", b"#close")
    assert verified_domains(signed, _resolver(record)) == frozenset()


def test_unsigned_and_garbage_mail() -> None:
    # No signature, or bytes dkimpy cannot read: no verified domain, no exception.
    assert verified_domains(MAIL, _resolver(b"")) == frozenset()
    assert verified_domains(b"\x00\xff garbage", _resolver(b"")) == frozenset()
