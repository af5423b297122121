"""Canned replies: `#macro NAME` in an agent's reply inserts template NAME from `[macros] path`.

A macro sees an allow-listed context (the ticket's number and subject, the requester's name, the
agent's name, and the knowledge base's articles by slug in the ticket's language), so
``{{ articles["printer-not-printing"].url }}`` links an article. The macros' text goes after the
agent's own text, in the order the commands name them. A missing or broken macro refuses the whole
mail like any bad command: nothing is relayed.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

from maildesk.config import Settings
from maildesk.domain import Address
from maildesk.domain.ticket import TicketState
from maildesk.errors import ConfigError
from maildesk.mail.tags import make_tag
from maildesk.notices.render import ContextValue, MacroRenderer
from maildesk.policy.commands import CommandError, Forward, Note, ParsedCommands, UseMacro, forward_problem
from maildesk.store import kb as kb_store
from maildesk.store import participants
from maildesk.store.db import Session


@functools.lru_cache(maxsize=8)
def renderer_for(folder: Path) -> MacroRenderer:
    """One renderer per macros folder per process (Jinja caches the compiled templates)."""
    return MacroRenderer(folder)


def macro_names(settings: Settings) -> list[str]:
    """Every macro the desk has; empty when `[macros] path` is not set."""
    folder = settings.selfservice.macros_path
    if folder is None:
        return []
    if not folder.is_dir():
        raise ConfigError(f"macros.path {folder} is not a folder")
    return renderer_for(folder).names()


def expand(settings: Settings, session: Session, ticket: TicketState, agent: Address, original: str,
           commands: ParsedCommands) -> ParsedCommands:
    """`commands` with each macro's text appended to the text, and `#forward` made internal
    (its text is the note to the third party, not an answer to the requester).

    A macro that cannot be rendered turns the result into a refusal naming its line."""
    problem = forward_problem(commands, settings.desk.own_addresses)
    if problem:
        return _refused(original, "#forward", problem, commands)
    macros = [c for c in commands.commands if isinstance(c, UseMacro)]
    texts = [commands.text.strip()] if commands.text.strip() else []
    for macro in macros:
        rendered = _render(settings, session, ticket, agent, macro.name)
        if isinstance(rendered, ConfigError):
            return _refused(original, f"#macro {macro.name}", str(rendered), commands)
        texts.append(rendered)
    extra: tuple[Note, ...] = ()
    if any(isinstance(c, Forward) for c in commands.commands) and not commands.is_note:
        extra = (Note(),)
    if not macros and not extra:
        return commands
    return replace(commands, commands=(*commands.commands, *extra), text="\n\n".join(texts))


def _render(settings: Settings, session: Session, ticket: TicketState, agent: Address,
            name: str) -> str | ConfigError:
    folder = settings.selfservice.macros_path
    if folder is None:
        return ConfigError("no macros configured ([macros] path is empty)")
    try:
        return renderer_for(folder).render(name, ticket.language, context(settings, session, ticket, agent))
    except ConfigError as exc:
        return exc


def context(settings: Settings, session: Session, ticket: TicketState, agent: Address) -> dict[str,
                                                                                               ContextValue]:
    """What a macro may use, and nothing else."""
    requester = participants.of_ticket(session, ticket.id)[0][0]
    articles: dict[str, ContextValue] = {e.slug: {"title": e.title, "url": e.url}
                                         for e in kb_store.articles(session, ticket.language)}
    return {"desk_name": settings.desk.name, "ticket_id": ticket.id,
            "tag": make_tag(ticket.id, settings.desk.instance), "subject": ticket.subject,
            "status": ticket.status, "requester_name": requester.name, "requester_email": requester.email,
            "agent_name": agent.name or agent.email, "articles": articles}


def _refused(original: str, prefix: str, reason: str, commands: ParsedCommands) -> ParsedCommands:
    lines = original.splitlines()
    number = next((i for i, line in enumerate(lines, 1) if line.strip().lower().startswith(prefix)), 1)
    return ParsedCommands((), commands.text, CommandError(number, lines[number - 1].strip() if lines else "",
                                                          reason))
