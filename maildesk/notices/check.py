"""Every template tried before it can hurt: `maildesk serve` refuses to start and `maildesk doctor`
fails when a template, built-in or the admin's, in any language, does not compile or does not render
with sample values (maildesk.notices.samples). Each problem names the file and the line."""

from __future__ import annotations

from maildesk.errors import ConfigError
from maildesk.notices.notifier import Identity, Notifier
from maildesk.notices.render import Renderer
from maildesk.notices.samples import sample


def template_problems(renderer: Renderer, identity: Identity) -> list[str]:
    """One line per template that fails, `file:line: what`; empty when every template renders."""
    notifier = Notifier(renderer, identity)
    problems: list[str] = []
    for path in renderer.templates():
        language, _, rest = path.partition("/")
        name = rest.removesuffix(".txt.j2")
        try:
            renderer.compile(path)
            # Parts (`_…`) render inside the notices that include them.
            if not name.rpartition("/")[2].startswith("_"):
                sample(notifier, name, language)
        except ConfigError as exc:
            problems.append(str(exc))
    return problems
