"""#macro and #forward in an agent's reply."""

from __future__ import annotations

from maildesk.policy.commands import Forward, Note, ParsedCommands, UseMacro, forward_problem, parse_commands


def test_macro_and_forward_parse() -> None:
    # Both commands parse with their argument; the text below them stays.
    parsed = parse_commands("#macro Printer-Driver\n#forward <Vendor@Example.com>\nPlease check.", ())
    assert parsed.commands == (UseMacro("printer-driver"), Forward("vendor@example.com"))
    assert parsed.text == "Please check."


def test_bad_arguments_are_refused() -> None:
    # A missing or malformed argument refuses the mail, naming the line.
    for text, needle in (("#macro", "macro name"), ("#macro a b", "macro name"), ("#forward", "mail address"),
                         ("#forward not-an-address", "mail address")):
        parsed = parse_commands(text, ())
        assert parsed.error is not None and needle in parsed.error.reason


def test_forward_to_ourselves_is_a_problem() -> None:
    # Forwarding to the desk (or a +detail of it) would loop.
    own = frozenset({"support@example.org"})
    assert forward_problem(ParsedCommands((Forward("support+x@example.org"),), ""), own)
    assert forward_problem(ParsedCommands((Forward("vendor@example.com"), Note()), ""), own) == ""
