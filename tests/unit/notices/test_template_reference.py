"""templates/README.md against the code: it names every built-in template and exactly the variables
the notifier gives each; every built-in uses only those; the example overrides in templates/ render
through the real Renderer and notifier and replace the built-ins of the same name."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path

import jinja2
import jinja2.meta
import jinja2.nodes
import pytest
from conftest import REPO

from maildesk.errors import ConfigError
from maildesk.mail.compose import compose
from maildesk.notices.notifier import Draft, Identity, Notifier
from maildesk.notices.render import ContextValue, Rendered, Renderer
from maildesk.notices.samples import ARTICLES, KINDS, MAIL, NOW, sample, summary
from maildesk.pipeline.routing import ack_template

BUILTIN = REPO / "maildesk" / "templates"
EXAMPLES = REPO / "templates"
README = EXAMPLES / "README.md"

IDENTITY = Identity(name="Example Support", address="support@example.org", instance="",
                    message_id_domain="maildesk.example.org", loop_token="support@example.org")


def _ack(notifier: Notifier, name: str, language: str) -> Draft:
    # As the pipeline does: the type's or the category's own acknowledgement when the renderer has one,
    # else `ack` (an incident in category printing for ack/incident; a request in category X for ack/X).
    variant = name.partition("/")[2]
    kind, category = (variant, "printing") if variant in KINDS else ("request", variant or "printing")
    template = ack_template(notifier.renderer, category, language, kind)
    return notifier.acknowledgement(replace(summary(language, category), type=kind), MAIL, NOW, template,
                                    ARTICLES)


def send(notifier: Notifier, name: str, language: str) -> Draft:
    """Notice `name` as the code that sends it calls the notifier (a ticket in `language`)."""
    if name == "ack" or name.startswith("ack/"):
        return _ack(notifier, name, language)
    return sample(notifier, name, language)


class Recording(Renderer):
    """The real renderer, also keeping what it was asked to render: the notifier's context as the
    template sees it (there is no other way to read it without a database behind the callers)."""

    def __init__(self, override: Path | None = None) -> None:
        super().__init__(override)
        self.calls: list[tuple[str, str, dict[str, ContextValue]]] = []

    def render(self, name: str, language: str, context: Mapping[str, ContextValue]) -> Rendered:
        self.calls.append((name, language, dict(context)))
        return super().render(name, language, context)


def _anchor(heading: str) -> str:
    return "#" + re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def read_reference(text: str) -> dict[str, frozenset[str]]:
    """Each template name the README gives with the variables it receives. Tables under `## Variables …` headings define groups; each `###` heading under `## Built-in
    templates` names templates, and its bullets name variables or link to a group."""
    groups: dict[str, set[str]] = {}
    templates: dict[str, set[str]] = {}
    section, names = "", list[str]()
    for line in text.splitlines():
        if line.startswith("## "):
            section, names = line[3:].strip(), []
        elif section.startswith("Variables") and (row := re.match(r"\| `(\w+)` \|", line)):
            groups.setdefault(_anchor(section), set()).add(row[1])
        elif section == "Built-in templates" and line.startswith("### "):
            names = re.findall(r"`([^`]+)`", line)
            templates.update({name: set() for name in names})
        elif names and (bullet := re.match(r"- (?:`(\w+)`|\[[^]]+\]\((#[\w-]+)\))", line)):
            assert bullet[1] or bullet[2] in groups, f"{bullet[2]} names no table of variables"
            found = {bullet[1]} if bullet[1] else groups[bullet[2]]
            for name in names:
                templates[name] |= found
    return {name: frozenset(found) for name, found in templates.items()}


REFERENCE = read_reference(README.read_text(encoding="utf-8"))


def template_files(root: Path) -> list[tuple[str, str]]:
    """(language, name) of every `<lang>/<name>.txt.j2` under `root`."""
    found = [p.relative_to(root).parts for p in root.rglob("*.txt.j2")]
    return sorted((parts[0], "/".join(parts[1:]).removesuffix(".txt.j2")) for parts in found)


BUILTIN_FILES = template_files(BUILTIN)
BUILTIN_NAMES = sorted({name for _, name in BUILTIN_FILES})
NOTICE_NAMES = [name for name in BUILTIN_NAMES if not name.startswith("_")]  # `_…` are parts, included
EXAMPLE_FILES = template_files(EXAMPLES)


def used_variables(relative: str, roots: tuple[Path, ...] = (BUILTIN,)) -> set[str]:
    """Every variable `relative` (`<lang>/<name>.txt.j2`) and the templates it includes read, on
    every branch: a sample context takes only one branch of each {% if %}."""
    source = next(root / relative for root in roots if (root / relative).is_file())
    tree = jinja2.Environment().parse(source.read_text(encoding="utf-8"))
    found = set(jinja2.meta.find_undeclared_variables(tree))
    for include in tree.find_all(jinja2.nodes.Include):
        assert isinstance(include.template, jinja2.nodes.Const), f"{relative}: include a fixed name"
        found |= used_variables(include.template.value, roots)
    return found


def rendered_context(name: str, language: str) -> dict[str, ContextValue]:
    """The context the notifier renders notice `name` with, for a ticket in `language`."""
    renderer = Recording()
    send(Notifier(renderer, IDENTITY), name, language)
    ((rendered, _, context),) = renderer.calls
    assert rendered == name
    return context


def body(draft: Draft) -> str:
    message = message_from_bytes(compose(draft.mail), policy=policy.default)
    return str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def test_the_reference_names_every_built_in_template_and_no_other() -> None:
    # A template added to, renamed in or removed from maildesk/templates without the README fails here.
    assert "ack/hardware" in BUILTIN_NAMES and "_self_service" in BUILTIN_NAMES
    assert sorted(REFERENCE) == BUILTIN_NAMES


@pytest.mark.parametrize("name", NOTICE_NAMES)
def test_the_reference_gives_exactly_the_variables_the_notifier_renders_with(name: str) -> None:
    # The README's variables of a notice are the keys of the context its caller gives the notifier.
    assert sorted(rendered_context(name, "en")) == sorted(REFERENCE[name])


@pytest.mark.parametrize(("language", "name"), BUILTIN_FILES)
def test_every_built_in_uses_only_its_documented_variables(language: str, name: str) -> None:
    # On any branch, a built-in (or a part it includes) reads only what the README lists for it.
    undocumented = used_variables(f"{language}/{name}.txt.j2") - REFERENCE[name]
    assert not undocumented, f"{language}/{name} uses {sorted(undocumented)}, not in templates/README.md"


@pytest.mark.parametrize(("language", "name"), [(lang, name) for lang, name in BUILTIN_FILES
                                                if not name.startswith("_")])
def test_every_built_in_renders_with_its_documented_variables_alone(language: str, name: str) -> None:
    # Given only the README's variables, with the values the notifier gives, the built-in renders
    # under StrictUndefined (parts render inside the acknowledgements that include them).
    documented = REFERENCE[name]
    context = {k: v for k, v in rendered_context(name, language).items() if k in documented}
    rendered = Renderer().render(name, language, context)
    assert rendered.subject and rendered.body.strip()


def test_rendering_fails_on_a_variable_the_context_lacks(tmp_path: Path) -> None:
    # The strictness the tests above rely on: an unknown name is an error, not an empty string.
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "ack.txt.j2").write_text("Subject: {{ tagged_subject }}\n\n{{ ticket_owner }}\n",
                                               encoding="utf-8")
    with pytest.raises(ConfigError, match="ticket_owner"):
        send(Notifier(Renderer(tmp_path), IDENTITY), "ack", "en")


def test_the_examples_cover_ukrainian_russian_and_english() -> None:
    # The folder admins copy from has a per-category acknowledgement in each language.
    assert {("uk", "ack/hardware"), ("ru", "ack/access"), ("en", "ack/hardware")} <= set(EXAMPLE_FILES)
    assert not list(EXAMPLES.rglob("*.py")), "templates/ holds templates, not a Python package"


@pytest.mark.parametrize(("language", "name"), EXAMPLE_FILES)
def test_an_example_override_renders_and_replaces_the_built_in(language: str, name: str) -> None:
    # With templates_dir = templates/, the notice goes out from the example, not from the built-in.
    site, builtin = Recording(EXAMPLES), Recording()
    ours = send(Notifier(site, IDENTITY), name, language)
    theirs = send(Notifier(builtin, IDENTITY), name, language)
    ((rendered, used_language, context),) = site.calls
    assert (rendered, used_language) == (name, language)
    assert body(ours) != body(theirs)
    assert "{{" not in body(ours) and "{%" not in body(ours)
    assert set(context) == REFERENCE[name]


@pytest.mark.parametrize(("language", "name"), EXAMPLE_FILES)
def test_an_example_uses_only_documented_variables(language: str, name: str) -> None:
    # Every branch of an example (an urgent ticket, no attachments) reads only what the notice gives.
    used = used_variables(f"{language}/{name}.txt.j2", (EXAMPLES, BUILTIN))
    assert used <= REFERENCE[name], sorted(used - REFERENCE[name])


def test_an_example_speaks_to_an_urgent_ticket_without_files() -> None:
    # The other branches of the Ukrainian hardware example render too (urgent, nothing attached).
    ticket = replace(summary("uk"), priority="urgent")
    mail = replace(MAIL, attachments=())
    draft = Notifier(Renderer(EXAMPLES), IDENTITY).acknowledgement(ticket, mail, NOW, "ack/hardware")
    text = body(draft)
    assert "термінов" in text and "фото екрана" in text and "[#42]" in text
