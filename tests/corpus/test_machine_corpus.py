"""maildesk.mail.machine over real-world mail from ../shared/corpus (see its README.md and MANIFEST.tsv).

The corpus is not shipped with maildesk: without it these tests skip, except under CI=true, where a
missing corpus is a failure. MANIFEST tags were computed by simple heuristics and are a guide, not
ground truth; the exceptions we accept are listed below with the reason for each.
"""

from __future__ import annotations

import email
import os
from pathlib import Path

import pytest

from maildesk.mail.machine import MailKind, OwnIdentity, Verdict, classify

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
MANIFEST = CORPUS / "MANIFEST.tsv"

OWN = OwnIdentity(instance="md-corpus", addresses=frozenset({"support@md.test"}), message_id_domain="md.test")

# Tags that mean "a machine wrote this" (README.md, tag glossary).
MACHINE_TAGS = frozenset(
    {"bounce", "autoreply", "auto-generated", "mailing-list", "precedence-bulk", "precedence-junk",
     "precedence-list", "arf", "mdn"}
)  # fmt: skip
NOT_A_MESSAGE = frozenset({"expected-result"})

# Messages the tagger saw as ordinary mail that the classifier calls machine mail, each checked by hand.
KNOWN_MACHINE_AMONG_UNTAGGED = {
    "zammad/mail019.box": "spam with Return-Path: <> and an empty From address (null reverse-path)",
    "zammad/mail035.box": "loan spam with Return-Path: <> (null reverse-path)",
    "zammad/mail026.box": "invoice notification; envelope sender noreply@bounce.gate.de",
    "zammad/mail094.box": "order notification from noreply@example.com",
    "zammad/mail098.box": "notification from noreply@example.org",
    "zammad/mail099.box": "notification from noreply@example.org",
    "zammad/mail078-content_transfer_encoding_x_uuencode.box": "list post: Return-Path owner-rrga-l@list...",
    "mikel-mail/error_emails/content_transfer_encoding_x_uuencode.eml": "same list post: owner-rrga-l@...",
    "mail-parser/mail_test_15": "phishing sent through do-not-reply@ncs.gov.ng",
    "mikel-mail/error_emails/encoding_madness.eml": "CRM notification from no-reply@crm...",
    "mikel-mail/plain_emails/raw_email_trailing_dot.eml": "forum notification from noreply@rubyforge.org",
}


def _rows() -> list[tuple[str, frozenset[str]]]:
    if not MANIFEST.is_file():
        return []
    rows = []
    for line in MANIFEST.read_text(encoding="utf-8").splitlines()[1:]:
        path, _source, tags = [*line.split("\t"), "", ""][:3]
        tag_set = frozenset(t for t in tags.split(",") if t)
        if path and not tag_set & NOT_A_MESSAGE:
            rows.append((path, tag_set))
    return rows


ROWS = _rows()
MACHINE_ROWS = [(path, tags) for path, tags in ROWS if tags & MACHINE_TAGS]
UNTAGGED_ROWS = [(path, tags) for path, tags in ROWS if not tags & MACHINE_TAGS]


def _classify(path: str) -> Verdict:
    msg = email.message_from_bytes((CORPUS / path).read_bytes())
    return classify(msg, None, OWN)  # as from IMAP: no envelope, Return-Path is all we have


def test_corpus_is_present() -> None:
    if ROWS:
        return
    reason = f"shared mail corpus not found at {CORPUS} (it is not part of the maildesk repository)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true requires it")
    pytest.skip(reason)


@pytest.mark.parametrize(("path", "tags"), MACHINE_ROWS, ids=[p for p, _ in MACHINE_ROWS])
def test_tagged_machine_mail_is_machine(path: str, tags: frozenset[str]) -> None:
    verdict = _classify(path)
    assert verdict.machine, (path, sorted(tags), verdict.reasons)
    if "bounce" in tags:
        assert verdict.kind is MailKind.BOUNCE, verdict.reasons
    if "arf" in tags:
        assert verdict.kind is MailKind.FEEDBACK, verdict.reasons
    if "mdn" in tags:
        assert verdict.kind is MailKind.READ_RECEIPT, verdict.reasons


def test_untagged_mail_is_mostly_human(capsys: pytest.CaptureFixture[str]) -> None:
    if not UNTAGGED_ROWS:
        test_corpus_is_present()
    verdicts = {path: _classify(path) for path, _ in UNTAGGED_ROWS}
    machine = {path: v for path, v in verdicts.items() if v.machine}
    with capsys.disabled():
        print(f"\n{len(machine)} of {len(UNTAGGED_ROWS)} untagged corpus messages classified as machine:")
        for path, verdict in sorted(machine.items()):
            print(f"  {path}: {verdict.kind.value} {', '.join(verdict.reasons)}")
    unexpected = sorted(set(machine) - set(KNOWN_MACHINE_AMONG_UNTAGGED))
    assert not unexpected, {p: machine[p].reasons for p in unexpected}


def test_no_corpus_message_trips_the_classifier() -> None:
    if not ROWS:
        test_corpus_is_present()
    verdicts = {path: _classify(path) for path, _ in ROWS}
    errors = {
        path: v.reasons for path, v in verdicts.items() if any(r.startswith("error:") for r in v.reasons)
    }
    assert not errors
