"""Agent commands at the top of a reply."""

from __future__ import annotations

import pytest

from maildesk.domain import Priority, Status
from maildesk.policy.commands import (
    Assign,
    ChangeCc,
    Note,
    SetCategory,
    SetPriority,
    SetStatus,
    parse_commands,
)

CATEGORIES = {"other", "printing", "access"}


def test_commands_are_removed_from_the_text() -> None:
    # Several commands, a blank line, then the answer: the answer alone is left.
    parsed = parse_commands("#status pending\n#priority HIGH\n\nPlease send the model.\n#not a command",
                            CATEGORIES)
    assert parsed.error is None
    assert parsed.commands == (SetStatus(Status.PENDING), SetPriority(Priority.HIGH))
    assert parsed.text == "Please send the model.\n#not a command"


@pytest.mark.parametrize(("line", "command"), [
    ("#pending", SetStatus(Status.PENDING)), ("#resolve", SetStatus(Status.RESOLVED)),
    ("#close", SetStatus(Status.CLOSED)), ("#status canceled", SetStatus(Status.CANCELED)),
    ("#category Printing", SetCategory("printing")), ("#assign me", Assign("me")),
    ("#assign bob@example.org", Assign("bob@example.org")), ("#assign none", Assign("none")),
    ("#cc add <Eve@Client.example>", ChangeCc(True, "eve@client.example")),
    ("#cc remove eve@client.example", ChangeCc(False, "eve@client.example")), ("#note", Note()),
])
def test_each_command(line: str, command: object) -> None:
    # Every documented command parses into its value.
    assert parse_commands(line + "\ntext", CATEGORIES).commands == (command,)


@pytest.mark.parametrize(("text", "line_no", "reason"), [
    ("#staus pending\nhi", 1, "unknown command #staus"),
    ("#status later\nhi", 1, "#status needs one of"),
    ("#pending\n#priority critical\nhi", 2, "#priority needs one of"),
    ("#category coffee\nhi", 1, "#category needs one of"),
    ("#cc add not-an-address\nhi", 1, "is not a mail address"),
    ("#cc invite eve@x.org\nhi", 1, "#cc needs 'add' or 'remove'"),
    ("#assign\nhi", 1, "#assign needs"),
])
def test_bad_command_is_an_error_naming_the_line(text: str, line_no: int, reason: str) -> None:
    # A typo stops everything: no command is returned, the line and the reason are.
    parsed = parse_commands(text, CATEGORIES)
    assert parsed.commands == () and parsed.error is not None
    assert parsed.error.line_no == line_no and reason in parsed.error.reason


@pytest.mark.parametrize(("text", "note"), [
    ("#note handing over to Bob", "handing over to Bob"),
    ("#note handing over\nHe knows the printer.", "handing over\nHe knows the printer."),
    ("#pending\n#note  waiting for the part  \n\nOrdered on Monday.", "waiting for the part\nOrdered on Monday."),
])
def test_note_text_may_follow_on_its_line(text: str, note: str) -> None:
    # "#note handing over" on one line is a note whose text starts there, not a refusal.
    parsed = parse_commands(text, CATEGORIES)
    assert parsed.error is None and parsed.is_note and parsed.text == note


def test_hash_number_is_text() -> None:
    # "#42 is fixed" starts the text; it is not a command.
    parsed = parse_commands("#42 is fixed now", CATEGORIES)
    assert parsed.commands == () and parsed.error is None and parsed.text == "#42 is fixed now"


def test_only_commands_leaves_empty_text() -> None:
    # A reply that is only "#close" changes the status and has no text to relay.
    parsed = parse_commands("#close\n", CATEGORIES)
    assert parsed.commands == (SetStatus(Status.CLOSED),) and parsed.text == ""
