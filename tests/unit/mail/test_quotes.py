"""Table-driven tests for maildesk.mail.quotes.split_reply (all cases written for maildesk)."""

from __future__ import annotations

import dataclasses

import pytest

from maildesk.mail.quotes import ReplyParts, split_reply

# (case id, body, expected new_text, expected reason)
CUTS = [
    # --- '>' quoting, as typed or as emitted by the HTML converter for <blockquote> ---
    ("prefix-plain", "Thanks, that fixed it.\n\n> Did you restart the service?\n> Kim\n",
     "Thanks, that fixed it.", "quote-prefix"),
    ("prefix-nested", "Agreed.\n>> older\n> newer\n", "Agreed.", "quote-prefix"),
    ("prefix-indented", "Yes.\n   > indented quote\n", "Yes.", "quote-prefix"),
    # --- Gmail attributions ---
    ("gmail-en", "Works now.\n\nOn Tue, 4 Mar 2025 at 10:12, Ana Silva <ana@example.org> wrote:\n> old\n",
     "Works now.", "gmail-attribution"),
    ("gmail-en-wrapped",
     "Works now.\n\nOn Tue, Mar 4, 2025 at 10:12 AM Ana Silva from Support Team <\n"
     "ana@example.org> wrote:\n\n> old\n", "Works now.", "gmail-attribution"),
    ("gmail-uk", "Дякую, працює.\n\nвт, 4 бер. 2025 р. о 10:12 Олена <olena@example.org> пише:\n> старе\n",
     "Дякую, працює.", "gmail-attribution"),
    ("gmail-ru-verbless",
     "Спасибо, работает.\n\nвт, 4 мар. 2025 г. в 10:12, Олег <oleg@example.org>:\n> старое\n",
     "Спасибо, работает.", "gmail-attribution"),
    ("gmail-de", "Danke, geht.\n\nAm Di., 4. März 2025 um 10:12 Uhr schrieb Jan <jan@example.org>:\n> alt\n",
     "Danke, geht.", "gmail-attribution"),
    ("gmail-no-quote-prefix",
     "Noted.\n\nOn Tue, 4 Mar 2025 at 10:12, Ana <ana@example.org> wrote:\n\nold text\n",
     "Noted.", "gmail-attribution"),
    # --- Apple Mail ---
    ("apple-en", "Sure.\n\nOn 4 Mar 2025, at 10:12, Ana Silva wrote:\n\n> old\n", "Sure.",
     "apple-mail-attribution"),
    ("apple-quoted-attribution", "Sure.\n> On 4 Mar 2025, at 10:12, Ana <ana@example.org> wrote:\n>\n> old\n",
     "Sure.", "quote-prefix"),
    # --- Thunderbird ---
    ("thunderbird-en", "Fine by me.\n\nOn 04/03/2025 10:12, Ana Silva wrote:\n> old\n", "Fine by me.",
     "thunderbird-attribution"),
    ("thunderbird-undated", "Fine by me.\n\nAna Silva wrote:\n> old\n", "Fine by me.",
     "thunderbird-attribution"),
    ("thunderbird-de", "Passt.\n\nAm 04.03.2025 um 10:12 schrieb Jan Meier:\n> alt\n", "Passt.",
     "thunderbird-attribution"),
    ("thunderbird-ru", "Хорошо.\n\n04.03.2025 10:12, Олег Петров пишет:\n> старое\n", "Хорошо.",
     "thunderbird-attribution"),
    ("thunderbird-uk", "Добре.\n\n04.03.2025 10:12, Олена Коваль пише:\n> старе\n", "Добре.",
     "thunderbird-attribution"),
    # --- Outlook separators and header blocks ---
    ("outlook-original-en", "See attached.\n\n-----Original Message-----\nFrom: Ana\nSent: Tuesday\n\nold\n",
     "See attached.", "original-message"),
    ("outlook-original-de", "Anbei.\n\n-----Ursprüngliche Nachricht-----\nVon: Jan\n\nalt\n", "Anbei.",
     "original-message"),
    ("outlook-original-ru", "Во вложении.\n\n-------- Исходное сообщение --------\nстарое\n", "Во вложении.",
     "original-message"),
    ("outlook-original-uk", "У вкладенні.\n\n-------- Оригінальне повідомлення --------\nстаре\n",
     "У вкладенні.", "original-message"),
    ("outlook-header-en",
     "Done.\n\nFrom: Ana Silva <ana@example.org>\nSent: Tuesday, March 4, 2025 10:12 AM\nTo: Desk\n"
     "Subject: Printer\n\nold\n", "Done.", "outlook-header-en"),
    ("outlook-header-uk",
     "Готово.\n\nВід: Олена Коваль <olena@example.org>\nНадіслано: 4 березня 2025 р. 10:12\nКому: Desk\n"
     "Тема: Принтер\n\nстаре\n", "Готово.", "outlook-header-uk"),
    ("outlook-header-ru",
     "Готово.\n\nОт: Олег Петров <oleg@example.org>\nОтправлено: 4 марта 2025 г. 10:12\nКому: Desk\n"
     "Тема: Принтер\n\nстарое\n", "Готово.", "outlook-header-ru"),
    ("outlook-header-de",
     "Erledigt.\n\nVon: Jan Meier [mailto:jan@example.org]\nGesendet: Dienstag, 4. März 2025 10:12\n"
     "An: Desk\nBetreff: Drucker\n\nalt\n", "Erledigt.", "outlook-header-de"),
    ("outlook-underscores",
     "Done.\n\n________________________________\nFrom: Ana Silva\nSent: Tuesday\nTo: Desk\n"
     "Subject: x\n\nold\n",
     "Done.", "outlook-header-en"),
    ("outlook-web-bold", "Done.\n\n*From:* Ana Silva\n*Sent:* Tuesday\n*To:* Desk\n*Subject:* x\n\nold\n",
     "Done.", "outlook-header-en"),
    ("outlook-web-one-line", "Done.\n\nFrom: Ana Silva <ana@example.org> Sent: Tuesday To: Desk Subject: x\n",
     "Done.", "outlook-header-en"),
    ("outlook-from-to-subject", "Done.\n\nFrom: Ana Silva\nTo: Desk\nSubject: Printer\n\nold\n", "Done.",
     "outlook-header-en"),
    ("forward-gmail", "FYI\n\n---------- Forwarded message ---------\nFrom: Ana\nDate: Tue\n\nold\n", "FYI",
     "forwarded-message"),
    ("forward-apple", "FYI\n\nBegin forwarded message:\n\nFrom: Ana\n", "FYI", "forwarded-message"),
    # --- Signatures ---
    ("signature-only", "Thanks!\n\n-- \nAna Silva\nSupport lead\n", "Thanks!", "signature-dashes"),
    ("signature-no-space", "Thanks!\n--\nAna\n", "Thanks!", "signature-dashes"),
    ("signature-then-quote", "Thanks!\n-- \nAna\n\nOn 4 Mar 2025, at 10:12, Kim wrote:\n> old\n", "Thanks!",
     "apple-mail-attribution"),
    # --- Nothing to cut ---
    ("plain", "Hello,\nthe printer is broken.\n", "Hello,\nthe printer is broken.", "none"),
    ("crlf", "Hello\r\n\r\n> old\r\n", "Hello", "quote-prefix"),
]

# Text that looks a little like a marker but is ordinary prose: nothing may be cut.
NO_CUT = [
    ("from-in-paragraph", "We moved offices.\nFrom: the old address we still forward mail.\nThanks\n"),
    ("from-and-subject-only", "Notes\nFrom: the sales team\nSubject: pricing is next week\nBye\n"),
    ("wrote-in-prose", "As the manual wrote:\nrestart the service first.\n"),
    ("underscores-before-disclaimer", "Regards\nAna\n____________________\nThis e-mail is confidential.\n"),
    ("dashes-in-text", "Step one -- open the lid.\nStep two.\n"),
    ("smtp-transcript", "Delivery failed.\n>>> RCPT To:<a@example.org>\n<<< 550 unknown user\n"),
    ("date-line", "Meeting\nDate: Tuesday 10:00\nRoom 4\n"),
    ("greater-than-midline", "Sizes: a > b and c > d.\n"),
]

# Whole-mail quotes: a forward with no comment, or a bottom-posted reply.
ALL_QUOTED = [
    ("forward-only", "-----Original Message-----\nFrom: Ana\nSent: Tue\n\nold text\n", "",
     "all-quoted:original-message"),
    ("bottom-posted", "On 04/03/2025 10:12, Ana Silva wrote:\n> old question\n\nMy answer.\n", "My answer.",
     "all-quoted:thunderbird-attribution"),
    ("only-quote-lines", "> one\n> two\n", "", "all-quoted:quote-prefix"),
    ("headers-only-de", "Von: Jan\nGesendet: Di\nAn: Desk\nBetreff: x\n\nalt\n", "",
     "all-quoted:outlook-header-de"),
]


@pytest.mark.parametrize(("body", "new_text", "reason"), [c[1:] for c in CUTS], ids=[c[0] for c in CUTS])
def test_cuts_at_client_marker(body: str, new_text: str, reason: str) -> None:
    # Scenario: each client style and language is cut at its marker, the new text kept.
    parts = split_reply(body)
    assert (parts.new_text, parts.reason) == (new_text, reason)


@pytest.mark.parametrize("body", [c[1] for c in NO_CUT], ids=[c[0] for c in NO_CUT])
def test_prose_is_not_cut(body: str) -> None:
    # Scenario: marker-like prose (false positives) leaves the whole text as new text.
    parts = split_reply(body)
    assert parts.reason == "none"
    assert parts.new_text == body.strip("\n")
    assert parts.quoted == ""


@pytest.mark.parametrize(("body", "new_text", "reason"), [c[1:] for c in ALL_QUOTED],
                         ids=[c[0] for c in ALL_QUOTED])
def test_whole_mail_quoted(body: str, new_text: str, reason: str) -> None:
    # Scenario: nothing precedes the first marker; new text is what is left without quotes.
    parts = split_reply(body)
    assert (parts.new_text, parts.reason) == (new_text, reason)


def test_quoted_part_holds_history() -> None:
    # Scenario: the history from the marker on is returned in `quoted`.
    parts = split_reply("Yes.\n\nOn 04/03/2025 10:12, Ana wrote:\n> question?\n")
    assert parts.quoted == "On 04/03/2025 10:12, Ana wrote:\n> question?"
    assert parts.signature == ""


def test_signature_is_separated() -> None:
    # Scenario: a '-- ' signature goes to `signature`, not to the new text or the quote.
    parts = split_reply("Thanks!\n\n-- \nAna Silva\n+1 555 0100\n\n> old\n")
    assert parts.new_text == "Thanks!"
    assert parts.signature == "Ana Silva\n+1 555 0100"
    assert parts.quoted == "> old"


def test_leading_signature_delimiter_keeps_text() -> None:
    # Scenario: a mail that starts with '--' is not emptied by the signature rule.
    parts = split_reply("--\nAna Silva\n")
    assert parts.new_text == "--\nAna Silva"
    assert parts.reason == "none"


def test_never_empty_when_text_precedes_marker() -> None:
    # Scenario: real text before the first marker always survives, even one word.
    for body in ("Ok\n> q\n", "Ok\n-----Original Message-----\nx\n", "Ok\nOn 1 May 2025, Ana wrote:\n> q\n"):
        assert split_reply(body).new_text == "Ok"


def test_empty_and_blank_input() -> None:
    # Scenario: empty or blank bodies give empty parts and reason "none".
    assert split_reply("") == ReplyParts("", "", "", "none")
    assert split_reply("\n  \n") == ReplyParts("", "", "", "none")


def test_result_is_frozen() -> None:
    # Scenario: ReplyParts is immutable so it can be shared safely.
    parts = split_reply("Hi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        parts.new_text = "changed"  # type: ignore[misc]
