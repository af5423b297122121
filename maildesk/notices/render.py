"""Render notice templates. The only module that imports Jinja2.

Templates are files an admin controls; mail content only ever arrives as
values in the context, never as template source, and the sandbox keeps a
template from reaching into Python objects. A rendered template is plain
text whose first line is ``Subject: …`` followed by a blank line and the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from maildesk.errors import ConfigError

ContextValue = str | int | bool | None | list["ContextValue"] | Mapping[str, "ContextValue"]


@dataclass(frozen=True)
class Rendered:
    """A rendered notice: one-line subject and body text."""

    subject: str
    body: str


class Renderer:
    """Finds `<lang>/<name>.txt.j2` in the admin's folder, then among the built-in templates (package
    data of maildesk, read through Jinja's package loader, so a wheel or a zip works), English last."""

    def __init__(self, override: Path | None = None) -> None:
        builtin = jinja2.PackageLoader("maildesk", "templates")
        self._site = jinja2.FileSystemLoader(str(override)) if override is not None else None
        site = [self._site] if self._site is not None else []
        self._env = SandboxedEnvironment(
            loader=jinja2.ChoiceLoader([*site, builtin]),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # Plain-text mail; HTML is never sent from templates.
            keep_trailing_newline=True,
            # Templates are read once per process; checking their files on every render costs a stat.
            auto_reload=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._exists: dict[tuple[str, str], bool] = {}  # read once per process, like the templates

    def render(self, name: str, language: str, context: Mapping[str, ContextValue]) -> Rendered:
        """Render template `name` in `language` (falling back to English) with `context`."""
        candidates = [f"{language}/{name}.txt.j2", f"en/{name}.txt.j2"]
        try:
            template = self._env.select_template(candidates)
            text = template.render(dict(context))
        except jinja2.TemplateNotFound as exc:
            raise ConfigError(f"no template {candidates[0]} (nor the English one)") from exc
        except jinja2.TemplateError as exc:
            raise ConfigError(f"{_where(exc)}: template {name} ({language}) failed: {exc}") from exc
        except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
            # What a template's own expression raises (`{{ 1 / 0 }}`, `{{ x + 1 }}` on text) is its fault too.
            raise ConfigError(f"{_where(exc)}: template {name} ({language}) failed: "
                              f"{type(exc).__name__}: {exc}") from exc
        return _split(name, text, getattr(template, "filename", None) or candidates[0])

    def templates(self) -> list[str]:
        """Every template file the desk can read, built-in or the admin's, as `<lang>/<name>.txt.j2`."""
        return sorted({t for t in self._env.list_templates() if t.endswith(".txt.j2") and "/" in t})

    def compile(self, path: str) -> None:
        """Read and compile template `path` (`<lang>/<name>.txt.j2`); ConfigError naming the file and
        line of a syntax error."""
        try:
            self._env.get_template(path)
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"{_where(exc)}: {exc.message}") from exc
        except jinja2.TemplateError as exc:
            raise ConfigError(f"{path}: {exc}") from exc

    def overridden(self, name: str, language: str) -> bool:
        """Whether the admin's folder has its own template for `name` in `language`."""
        return self._site is not None and f"{language}/{name}.txt.j2" in self._site.list_templates()

    def exists(self, name: str, language: str) -> bool:
        """Whether a template for `name` exists in `language` itself (no fallback)."""
        known = self._exists.get((name, language))
        if known is None:
            try:
                self._env.get_template(f"{language}/{name}.txt.j2")
                known = True
            except jinja2.TemplateNotFound:
                known = False  # Jinja remembers only the templates it found; asking again costs stats
            self._exists[(name, language)] = known
        return known


def _where(exc: Exception) -> str:
    """`file:line` of the template where `exc` arose: a syntax error says so itself; for an error while
    rendering, Jinja gives the template's frames its file name and line numbers."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"{exc.filename or exc.name or 'template'}:{exc.lineno}"
    found = "template"
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def _split(name: str, text: str, filename: str) -> Rendered:
    head, _, body = text.lstrip("\n").partition("\n")
    if not head.lower().startswith("subject:"):
        raise ConfigError(f"{filename}:1: template {name} must start with a 'Subject:' line")
    return Rendered(subject=" ".join(head[len("subject:"):].split()), body=body.lstrip("\n"))


class MacroRenderer:
    """Canned replies from an admin's folder: ``<lang>/NAME.txt.j2`` first, then ``NAME.txt.j2``.

    A macro is body text only (no Subject line). Same sandbox and strictness as the notices: the
    context is an allow-list built by the caller, and an unknown variable is an error, not a blank.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._env = SandboxedEnvironment(loader=jinja2.FileSystemLoader(str(folder)),
                                         undefined=jinja2.StrictUndefined, autoescape=False,
                                         keep_trailing_newline=False, trim_blocks=True, lstrip_blocks=True)

    def names(self) -> list[str]:
        """Every macro name in the folder, sorted, each once."""
        found = {p.name.removesuffix(".txt.j2") for p in self.folder.glob("*.txt.j2")}
        found |= {p.name.removesuffix(".txt.j2") for p in self.folder.glob("*/*.txt.j2")}
        return sorted(found)

    def render(self, name: str, language: str, context: Mapping[str, ContextValue]) -> str:
        """Macro `name` in `language` (else the language-neutral one); ConfigError when missing or broken."""
        try:
            template = self._env.select_template([f"{language}/{name}.txt.j2", f"{name}.txt.j2"])
            return template.render(dict(context)).strip("\n")
        except jinja2.TemplateNotFound as exc:
            raise ConfigError(f"no macro {name!r} in {self.folder}") from exc
        except jinja2.TemplateError as exc:
            raise ConfigError(f"macro {name!r} failed: {exc}") from exc
