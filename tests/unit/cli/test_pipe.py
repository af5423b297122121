"""The command lines `maildesk ingest`'s fast path takes (cli/pipe.py): exactly those click would read as a
plain ingest, nothing else."""

from __future__ import annotations

import pytest

from maildesk.cli.pipe import parse


def test_the_forms_click_accepts_are_read_the_same() -> None:
    # Long, long=, short and glued short options give the values click would give, the last -f winning.
    assert parse(["--config", "/etc/m.conf", "ingest", "-f", "a@x", "--recipient=s@y", "-rt@y"]) == {
        "config": ["/etc/m.conf"], "mail_from": ["a@x"], "rcpt_to": ["s@y", "t@y"]}
    assert parse(["ingest"]) == {"config": [], "mail_from": [], "rcpt_to": []}
    assert parse(["--config=c", "ingest", "--sender", "", "-f", "b@x"]) == {
        "config": ["c"], "mail_from": ["", "b@x"], "rcpt_to": []}


@pytest.mark.parametrize("argv", [[], ["tickets", "list"], ["ingest", "--help"], ["ingest", "-h"],
                                  ["--help", "ingest"], ["ingest", "-f"], ["--config"], ["ingest", "extra"],
                                  ["ingest", "--sendr", "a@x"], ["--version"], ["-f", "a@x", "ingest"],
                                  ["ingest", "--", "-f"], ["import", "x.mbox"]])
def test_anything_else_is_left_to_click(argv: list[str]) -> None:
    # Another command, help, a missing value, an unknown option or an argument: click decides.
    assert parse(argv) is None
