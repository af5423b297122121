"""One plain mail address (an addr-spec), as maildesk accepts it wherever it reads or writes one."""

from __future__ import annotations

import pytest

from maildesk.mail.addresses import is_addr_spec


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("bob@example.org", id="plain"),
        pytest.param("Bob.Smith+tickets@mail.example.org", id="dots-plus-and-subdomain"),
        pytest.param("o'brien@example.org", id="apostrophe"),
        pytest.param("postmaster@localhost", id="single-label-domain"),
        pytest.param("иван@пример.рф", id="internationalised"),
    ],
)
def test_valid_addr_specs(value: str) -> None:
    # Scenario: ordinary addresses, including ones people really have, are accepted.
    assert is_addr_spec(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("bob", id="no-at"),
        pytest.param("@example.org", id="no-local-part"),
        pytest.param("bob@", id="no-domain"),
        pytest.param("bob@@example.org", id="two-ats"),
        pytest.param("bob@example.org@evil.test", id="two-domains"),
        pytest.param(".bob@example.org", id="leading-dot"),
        pytest.param("bob@example..org", id="empty-domain-label"),
        pytest.param("bob smith@example.org", id="space"),
        pytest.param('"bob"@example.org', id="quoted-local-part"),
        pytest.param("<bob@example.org>", id="angle-brackets"),
        pytest.param("Bob <bob@example.org>", id="display-name"),
        pytest.param("bob@example.org, eve@example.org", id="two-addresses"),
        pytest.param("bob@example.org;", id="semicolon"),
        pytest.param("bob@[192.0.2.1]", id="address-literal"),
        pytest.param("bob@example.org\r\nBcc: eve@evil.test", id="header-injection"),
        pytest.param("bob@example.org\n", id="trailing-newline"),
        pytest.param("bob@example.org\r\n", id="trailing-crlf"),
        pytest.param("\nbob@example.org", id="leading-newline"),
        pytest.param("bob\x00@example.org", id="nul"),
        pytest.param("bob@example.org\x7f", id="delete-character"),
    ],
)
def test_invalid_addr_specs(value: str) -> None:
    # Scenario: anything but one plain address is refused, above all a line break that would end a
    # header or an SMTP command.
    assert not is_addr_spec(value)
