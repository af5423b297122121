"""Commands at the top of an agent's reply (``#status pending``, ``#assign bob``, ``#note``). Pure.

Commands are lines starting with ``#word`` before the first line of text;
blank lines between them are allowed. A line like ``#42 is fixed`` is text,
not a command. Any unknown or malformed command makes the whole mail a
refusal: nothing is changed and nothing is relayed, so a typo can never send
half an intention to a customer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from maildesk.domain import Priority, Status

_COMMAND = re.compile(r"^#(?P<name>[a-z][a-z_-]*)\b\s*(?P<args>.*)$", re.IGNORECASE)
_ADDRESS = re.compile(r"^[^@\s<>\"(),;:\\\[\]]+@[^@\s<>\"(),;:\\\[\]]+\.[^@\s<>\"(),;:\\\[\]]+$")
SHORTCUTS = {"pending": Status.PENDING, "resolve": Status.RESOLVED, "close": Status.CLOSED,
             "open": Status.OPEN, "cancel": Status.CANCELED}


@dataclass(frozen=True)
class SetStatus:
    status: Status


@dataclass(frozen=True)
class SetPriority:
    priority: Priority


@dataclass(frozen=True)
class SetCategory:
    category: str


@dataclass(frozen=True)
class Assign:
    """`agent` is an agent's address or name as typed, 'me', or 'none'."""

    agent: str


@dataclass(frozen=True)
class ChangeCc:
    add: bool
    address: str


@dataclass(frozen=True)
class Note:
    """The whole reply is internal; `text` is what follows `#note` on its own line, if anything
    (``#note handing over to Bob``), and opens the note."""

    text: str = ""


@dataclass(frozen=True)
class UseMacro:
    """Insert canned reply `name` (a template in `[macros] path`) into the relayed text."""

    name: str


@dataclass(frozen=True)
class Forward:
    """Send the requester's last message to a third party, whose replies come back internal."""

    address: str


@dataclass(frozen=True)
class SendAttachments:
    """Send the agent the ticket's files `numbers` (as `tickets show` numbers them; empty: all)."""

    numbers: tuple[int, ...] = ()


@dataclass(frozen=True)
class MergeInto:
    """Merge this ticket into ticket `ticket` (its mail, events and people move; this one closes)."""

    ticket: int


Command = (SetStatus | SetPriority | SetCategory | Assign | ChangeCc | Note | UseMacro | Forward
           | SendAttachments | MergeInto)
_TICKET = re.compile(r"^\[?(?:[A-Za-z0-9_-]+\s+)?#?(\d{1,12})\]?$")
_MACRO_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$", re.IGNORECASE)


@dataclass(frozen=True)
class CommandError:
    """The first bad line: its number (1-based), its text and what is wrong."""

    line_no: int
    line: str
    reason: str


@dataclass(frozen=True)
class ParsedCommands:
    """The commands found, the text left once their lines are removed, or the first error."""

    commands: tuple[Command, ...]
    text: str
    error: CommandError | None = None

    @property
    def is_note(self) -> bool:
        """Whether `#note` was among the commands."""
        return any(isinstance(c, Note) for c in self.commands)


def parse_commands(text: str, categories: Collection[str]) -> ParsedCommands:
    """Split the leading command lines of `text` from the rest and check each one."""
    lines = text.splitlines()
    commands: list[Command] = []
    index = 0
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        m = _COMMAND.match(stripped)
        if m is None:
            break
        name = m["name"].lower()
        result = Note(m["args"].strip()) if name == "note" else _one(name, m["args"].split(), categories)
        if isinstance(result, str):
            return ParsedCommands((), text, CommandError(index + 1, stripped, result))
        commands.append(result)
    else:
        index = len(lines)
    inline = [c.text for c in commands if isinstance(c, Note) and c.text]
    return ParsedCommands(tuple(commands), "\n".join([*inline, *lines[index:]]).strip("\n"))


def _one(name: str, args: list[str], categories: Collection[str]) -> Command | str:
    if name in SHORTCUTS:
        return SetStatus(SHORTCUTS[name]) if not args else f"#{name} takes no argument"
    if name == "category":
        if len(args) != 1 or args[0].lower() not in categories:
            return f"#category needs one of: {', '.join(sorted(categories))}"
        return SetCategory(args[0].lower())
    parse = _PARSERS.get(name)
    return parse(args) if parse is not None else f"unknown command #{name}"


def _status(args: list[str]) -> Command | str:
    return _choice(args, Status, "#status", SetStatus)


def _priority(args: list[str]) -> Command | str:
    return _choice(args, Priority, "#priority", SetPriority)


def _assign(args: list[str]) -> Command | str:
    return Assign(args[0]) if len(args) == 1 else "#assign needs an agent, 'me' or 'none'"


def _attachments(args: list[str]) -> Command | str:
    if not all(a.isdigit() and int(a) > 0 for a in args):
        return "#attachments takes file numbers (as `tickets show` lists them), or none for every file"
    return SendAttachments(tuple(dict.fromkeys(int(a) for a in args)))


def _macro(args: list[str]) -> Command | str:
    if len(args) != 1 or not _MACRO_NAME.match(args[0]):
        return "#macro needs one macro name (letters, digits, - or _); see `maildesk macros list`"
    return UseMacro(args[0].lower())


def _forward(args: list[str]) -> Command | str:
    address = args[0].strip("<>") if len(args) == 1 else ""
    if not _ADDRESS.match(address):
        return "#forward needs one mail address"
    return Forward(address.lower())


def _choice(args: list[str], kind: type[Status] | type[Priority], label: str,
            make: type[SetStatus] | type[SetPriority]) -> Command | str:
    values = [v.value for v in kind]
    if len(args) != 1 or args[0].lower() not in values:
        return f"{label} needs one of: {', '.join(values)}"
    return make(kind(args[0].lower()))  # type: ignore[arg-type]


def _cc(args: list[str]) -> Command | str:
    if len(args) != 2 or args[0].lower() not in ("add", "remove"):
        return "#cc needs 'add' or 'remove' and one address"
    address = args[1].strip("<>")
    if not _ADDRESS.match(address):
        return f"#cc: {args[1]!r} is not a mail address"
    return ChangeCc(args[0].lower() == "add", address.lower())


def _merge(args: list[str]) -> Command | str:
    m = _TICKET.match(" ".join(args))
    return MergeInto(int(m[1])) if m else "#merge needs the number of the ticket to merge into (#merge 12)"


#: The commands with arguments, by name (the status shortcuts and #category are read before).
_PARSERS: dict[str, Callable[[list[str]], Command | str]] = {
    "status": _status, "priority": _priority, "assign": _assign, "cc": _cc, "macro": _macro,
    "forward": _forward, "attachments": _attachments, "merge": _merge,
}


def merge_problem(commands: ParsedCommands) -> str:
    """Why `#merge` cannot go with the other commands of the mail, or "": it goes alone (a `#note`
    aside), and any text below it stays an internal note, as the requester is told of the merge once."""
    merges = [c for c in commands.commands if isinstance(c, MergeInto)]
    others = [c for c in commands.commands if not isinstance(c, MergeInto | Note)]
    if merges and (len(merges) > 1 or others):
        return "#merge goes alone (#note aside): the other commands belong on the ticket it merges into"
    return ""


def forward_problem(commands: ParsedCommands, own_addresses: Collection[str]) -> str:
    """Why the `#forward` commands cannot be carried out (a forward to ourselves would loop), or ""."""
    for command in commands.commands:
        if isinstance(command, Forward):
            local, _, domain = command.address.rpartition("@")
            if f"{local.split('+', 1)[0]}@{domain}" in own_addresses:
                return f"#forward: {command.address} is the desk's own address"
    return ""
