"""Person or machine: the precedence chain of maildesk.mail.machine.classify over hand-written headers."""

from __future__ import annotations

import pytest
from machine_samples import AUTO, HUMAN, LIST, OWN, OWN_KIND, mail

from maildesk.mail.machine import LOOP_HEADER, MailKind, OwnIdentity, Verdict, classify

# --- header-only signals ---------------------------------------------------------------------------------

HEADER_CASES = [
    # RFC 3834: every value but "no" is automatic; case, comments, parameters and folding tolerated.
    ("as-replied", ["Auto-Submitted: auto-replied"], AUTO, "auto-submitted:auto-replied"),
    ("as-generated", ["Auto-Submitted: auto-generated"], AUTO, "auto-submitted:auto-generated"),
    ("as-notified", ["Auto-Submitted: auto-notified"], AUTO, "auto-submitted:auto-notified"),
    ("as-upper", ["Auto-Submitted: AUTO-GENERATED"], AUTO, "auto-submitted:auto-generated"),
    ("as-comment", ["Auto-Submitted: Auto-Replied (vacation)"], AUTO, "auto-submitted:auto-replied"),
    ("as-lead-comment", ["Auto-Submitted: (robot) auto-replied"], AUTO, "auto-submitted:auto-replied"),
    (
        "as-param",
        ['Auto-Submitted: auto-generated; owner-email="x@y"'],
        AUTO,
        "auto-submitted:auto-generated",
    ),
    (
        "as-param-comment",
        ["Auto-Submitted: auto-replied; x=1 (comment)"],
        AUTO,
        "auto-submitted:auto-replied",
    ),
    ("as-folded", ["Auto-Submitted:\r\n\tauto-replied"], AUTO, "auto-submitted:auto-replied"),
    ("as-custom", ["Auto-Submitted: x-custom"], AUTO, "auto-submitted:x-custom"),
    ("as-empty", ["Auto-Submitted: "], AUTO, "auto-submitted:empty"),
    ("as-name-case", ["auto-submitted: auto-replied"], AUTO, "auto-submitted:auto-replied"),
    ("as-dup", ["Auto-Submitted: no", "Auto-Submitted: auto-replied"], AUTO, "auto-submitted:auto-replied"),
    ("as-no", ["Auto-Submitted: no"], HUMAN, "auto-submitted:no"),
    ("as-no-comment", ["Auto-Submitted: No (comment)"], HUMAN, "auto-submitted:no"),
    ("as-no-upper-param", ["Auto-Submitted: NO; reason=x"], HUMAN, "auto-submitted:no"),
    # Vendor headers.
    ("xars-all", ["X-Auto-Response-Suppress: All"], AUTO, "x-auto-response-suppress:all"),
    ("xars-oof", ["X-Auto-Response-Suppress: DR, OOF"], AUTO, "x-auto-response-suppress:oof"),
    ("xars-autoreply", ["X-Auto-Response-Suppress: AutoReply"], AUTO, "x-auto-response-suppress:autoreply"),
    ("xars-receipts-only", ["X-Auto-Response-Suppress: RN, NRN"], HUMAN, None),
    ("x-autoreply", ["X-Autoreply: yes"], AUTO, "x-autoreply"),
    ("x-autoreply-case", ["x-AUTOREPLY: True"], AUTO, "x-autoreply"),
    ("x-autoreply-no", ["X-Autoreply: no"], HUMAN, None),
    ("x-autorespond", ["X-Autorespond: Thanks, we got it"], AUTO, "x-autorespond"),
    ("x-loop", ["X-Loop: helpdesk@other.test"], AUTO, "x-loop"),
    ("prec-auto-reply", ["Precedence: auto_reply"], AUTO, "precedence:auto_reply"),
    # Precedence and list headers.
    ("prec-bulk", ["Precedence: bulk"], LIST, "precedence:bulk"),
    ("prec-junk", ["Precedence: junk"], LIST, "precedence:junk"),
    ("prec-list", ["Precedence: list"], LIST, "precedence:list"),
    ("prec-upper-comment", ["Precedence: BULK (newsletter)"], LIST, "precedence:bulk"),
    ("prec-first-class", ["Precedence: first-class"], HUMAN, None),
    ("list-id", ["List-Id: Printers <printers.lists.customer.test>"], LIST, "list-id"),
    ("list-unsub", ["List-Unsubscribe: <mailto:leave@lists.customer.test>"], LIST, "list-unsubscribe"),
    ("list-post", ["List-Post: <mailto:printers@lists.customer.test>"], LIST, "list-post"),
    # Our own loop header: only our instance counts.
    ("own-loop", [f"{LOOP_HEADER}: md-7f3a"], OWN_KIND, "own:loop-header"),
    ("own-loop-case", ["x-maildesk-loop:  MD-7F3A "], OWN_KIND, "own:loop-header"),
    ("foreign-loop", [f"{LOOP_HEADER}: other-desk"], HUMAN, None),
    (
        "own-beats-auto",
        [f"{LOOP_HEADER}: md-7f3a", "Auto-Submitted: auto-replied"],
        OWN_KIND,
        "own:loop-header",
    ),
    # Precedence between kinds.
    ("auto-beats-list", ["Auto-Submitted: auto-generated", "Precedence: bulk"], AUTO, "precedence:bulk"),
]


@pytest.mark.parametrize(
    ("headers", "expected", "reason"), [c[1:] for c in HEADER_CASES], ids=[c[0] for c in HEADER_CASES]
)
def test_header_signals(headers: list[str], expected: MailKind, reason: str | None) -> None:
    # Scenario: each header-only signal gives its kind and names itself in the reasons.
    verdict = classify(mail(*headers), "alice@customer.test", OWN)
    assert verdict.kind is expected, verdict.reasons
    assert verdict.machine is (expected is not HUMAN)
    if reason is not None:
        assert reason in verdict.reasons
    if expected is HUMAN and reason is None:
        assert verdict.reasons == ()


OWN_CASES = [
    ("own-message-id", {"message_id": "<md.abc123@md.example.org>"}, "own:message-id-domain"),
    ("own-message-id-case", {"message_id": "<md.abc123@MD.Example.ORG>"}, "own:message-id-domain"),
    ("own-from", {"sender": "Example Support <support@example.org>"}, "own:from-address"),
    ("own-from-case", {"sender": "Billing@Example.ORG"}, "own:from-address"),
]


@pytest.mark.parametrize(("fields", "reason"), [c[1:] for c in OWN_CASES], ids=[c[0] for c in OWN_CASES])
def test_own_mail_returning(fields: dict[str, str], reason: str) -> None:
    # Scenario: our Message-ID domain or one of our addresses in From: marks our own mail coming back.
    verdict = classify(mail(**fields), None, OWN)
    assert verdict.kind is OWN_KIND
    assert reason in verdict.reasons


def test_own_ack_coming_back_is_own_not_auto_reply() -> None:
    # Our acknowledgements carry Auto-Submitted themselves; coming back they are a loop, not a robot.
    msg = mail("Auto-Submitted: auto-replied", message_id="<md.ack1@md.example.org>")
    verdict = classify(msg, None, OWN)
    assert verdict.kind is OWN_KIND
    assert verdict.original_message_id == "md.ack1@md.example.org"


def test_subdomain_of_own_message_id_domain_is_not_own() -> None:
    # Scenario: a look-alike domain ending in ours is someone else's.
    assert classify(mail(message_id="<x@evil.md.example.org.test>"), None, OWN).kind is HUMAN


def test_empty_identity_never_matches() -> None:
    # Scenario: an empty own identity matches nothing, not even empty values.
    nobody = OwnIdentity(instance="", addresses=frozenset(), message_id_domain="")
    assert classify(mail(f"{LOOP_HEADER}: ", message_id="<x@>"), None, nobody).kind is HUMAN


# --- the weak subject signal ----------------------------------------------------------------------------

REPLYING = ["In-Reply-To: <md.ack42@md.example.org>", "References: <md.ack42@md.example.org>"]

SUBJECT_CASES = [
    ("en-ooo", "Out of Office: Printer on floor 3", "en"),
    ("en-automatic", "Automatic reply: [#42] We received your request", "en"),
    ("de-abwesend", "Abwesenheitsnotiz: [#42] Ihre Anfrage", "de"),
    ("de-automatisch", "Automatische Antwort: [#42] Ihre Anfrage", "de"),
    ("uk", "=?utf-8?b?0JDQstGC0L7QstGW0LTQv9C+0LLRltC00Yw6IFsjNDJd?=", "uk"),  # "Автовідповідь: [#42]"
    ("ru", "=?utf-8?b?0JDQstGC0L7QvtGC0LLQtdGCOiBbIzQyXQ==?=", "ru"),  # "Автоответ: [#42]"
]


@pytest.mark.parametrize(
    ("subject", "lang"), [c[1:] for c in SUBJECT_CASES], ids=[c[0] for c in SUBJECT_CASES]
)
def test_ooo_subject_alone_is_only_noted(subject: str, lang: str) -> None:
    # Scenario: an out-of-office subject alone leaves the mail HUMAN and is only recorded.
    verdict = classify(mail(subject=subject), "alice@customer.test", OWN)
    assert verdict.kind is HUMAN
    assert verdict.reasons == (f"subject:out-of-office:{lang}",)


@pytest.mark.parametrize(
    ("subject", "lang"), [c[1:] for c in SUBJECT_CASES], ids=[c[0] for c in SUBJECT_CASES]
)
def test_ooo_subject_on_an_unprefixed_reply_is_auto_reply(subject: str, lang: str) -> None:
    # Scenario: an out-of-office subject on a reply without Re: is an auto-reply.
    verdict = classify(mail(*REPLYING, subject=subject), "alice@customer.test", OWN)
    assert verdict.kind is AUTO
    assert verdict.reasons == (f"subject:out-of-office:{lang}", "subject:unprefixed-reply")
    assert verdict.original_message_id == "md.ack42@md.example.org"


def test_domino_auto_prefix_plus_ooo_is_auto_reply() -> None:
    # Scenario: Domino's 'AUTO:' prefix plus an absence subject is an auto-reply.
    msg = mail(subject="AUTO: Smith, John is out of the office (returning 05/01/2026)")
    assert classify(msg, "john@customer.test", OWN).kind is AUTO


def test_auto_prefix_alone_is_not_enough() -> None:
    # RFC 3834 §3.1.5: "Auto:" SHOULD NOT be taken to mean the message is automated.
    assert classify(mail(subject="Auto: lease renewal for car #12"), None, OWN).kind is HUMAN


def test_person_replying_about_an_absence_is_human() -> None:
    # Scenario: 'Re: Out of office' is a person talking about an absence.
    msg = mail(*REPLYING, subject="Re: Out of office: Printer on floor 3")
    verdict = classify(msg, "alice@customer.test", OWN)
    assert (verdict.kind, verdict.reasons) == (HUMAN, ())


# --- people ---------------------------------------------------------------------------------------------


def test_plain_new_request_is_human() -> None:
    # Scenario: an ordinary new request is HUMAN with no reasons.
    verdict = classify(mail(), "alice@customer.test", OWN)
    assert verdict == Verdict(HUMAN)
    assert not verdict.machine


def test_reply_with_re_is_human() -> None:
    # Scenario: an ordinary reply with Re: is HUMAN with no reasons.
    msg = mail(*REPLYING, subject="Re: [#42] We received your request", body="Thanks, it works now.\n")
    verdict = classify(msg, "alice@customer.test", OWN)
    assert (verdict.kind, verdict.reasons) == (HUMAN, ())


def test_body_mentioning_out_of_office_is_human() -> None:
    # Scenario: bodies are never read for absence wording.
    body = "I was out of office last week; automatic reply was on. Is my ticket still open?\n"
    verdict = classify(mail(subject="Ticket status?", body=body), "alice@customer.test", OWN)
    assert (verdict.kind, verdict.reasons) == (HUMAN, ())


def test_loop_header_name_matches_compose() -> None:
    # Scenario: the loop header we look for is the one compose writes.
    compose = pytest.importorskip("maildesk.mail.compose")
    assert compose.LOOP_HEADER == LOOP_HEADER

