"""Authentication-Results from trusted hosts only."""

from __future__ import annotations

from maildesk.mail.authres import passes_for, trusted_results

OURS = ("Authentication-Results",
        "mx.example.org; dkim=pass (2048-bit key; unprotected) header.d=Example.org header.s=s1; "
        "spf=pass (sender SPF authorized) smtp.mailfrom=alice@example.org; dmarc=fail header.from=example.org")
FORGED = ("Authentication-Results", "mx.example.org; dkim=pass header.d=evil.example")


def test_topmost_trusted_header_counts() -> None:
    # Our MTA's header is read; a look-alike lower down is ignored.
    results = trusted_results([OURS, ("Received", "from x"), FORGED], {"mx.example.org"})
    assert passes_for(results, "example.org", {"dkim"}) == "dkim"
    assert passes_for(results, "example.org", {"spf"}) == "spf"
    assert passes_for(results, "evil.example", {"dkim"}) is None


def test_untrusted_host_is_ignored() -> None:
    # A header from a host we do not trust gives nothing.
    assert trusted_results([("Authentication-Results", "attacker.example; dkim=pass header.d=example.org")],
                           {"mx.example.org"}) == ()


def test_fail_is_not_pass() -> None:
    # dmarc=fail never counts as a pass.
    results = trusted_results([OURS], {"mx.example.org"})
    assert passes_for(results, "example.org", {"dmarc"}) is None


def test_a_quoted_string_is_a_value_not_a_result() -> None:
    # RFC 8601 quoting: "; dkim=pass header.d=…" inside a quoted reason does not read as a pass.
    header = ("Authentication-Results",
              'mx.example.org; dkim=fail header.d=evil.example reason="; dkim=pass header.d=example.org"')
    results = trusted_results([header], {"mx.example.org"})
    assert passes_for(results, "example.org", {"dkim"}) is None
    assert [(r.method, r.result) for r in results] == [("dkim", "fail")]


def test_an_unparsable_header_gives_nothing() -> None:
    # Junk after a trusted authserv-id is no result at all, never a pass.
    assert trusted_results([("Authentication-Results", "mx.example.org; dkim=pass (unclosed")],
                           {"mx.example.org"}) == ()
