"""Knowledge-base articles as Markdown files with a front-matter header. Pure: text in, values out.

    ---
    title: The printer does not print
    tags: printer, toner, paper jam
    language: en
    url: https://help.example.org/kb/printer
    ---
    Markdown body …

`language` may be left out when the file sits in a folder named en, uk or ru. A file that
breaks these rules is reported with its name and the key, and the index is not changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from maildesk.policy.kb.text import LANGUAGES

_KEY = re.compile(r"^(?P<key>[a-z_]+)\s*:\s*(?P<value>.*)$")
KNOWN_KEYS = frozenset({"title", "tags", "language", "url"})


class ArticleError(ValueError):
    """An article file that cannot be indexed; the message names the file and the problem."""


@dataclass(frozen=True)
class Article:
    """One article: `slug` is its file name without `.md`, unique per language."""

    slug: str
    language: str
    title: str
    url: str
    tags: tuple[str, ...]
    body: str


def parse_article(name: str, text: str, folder_language: str = "") -> Article:
    """The article in file `name` (e.g. ``uk/printer.md``) whose content is `text`."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise ArticleError(f"{name}: must start with a '---' front-matter line")
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    except StopIteration:
        raise ArticleError(f"{name}: front matter is not closed with '---'") from None
    meta = _front_matter(name, lines[1:end])
    language = meta.get("language") or folder_language
    if language not in LANGUAGES:
        raise ArticleError(f"{name}: language {language!r} should be one of {', '.join(LANGUAGES)}")
    for key in ("title", "url"):
        if not meta.get(key):
            raise ArticleError(f"{name}: front matter needs '{key}:'")
    if not meta["url"].startswith(("https://", "http://")):
        raise ArticleError(f"{name}: url {meta['url']!r} should be a public http(s) address")
    slug = name.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".md")
    return Article(slug=slug, language=language, title=meta["title"], url=meta["url"],
                   tags=_tags(meta.get("tags", "")), body="\n".join(lines[end + 1:]).strip())


def _front_matter(name: str, lines: list[str]) -> dict[str, str]:
    meta: dict[str, str] = {}
    for number, line in enumerate(lines, 2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _KEY.match(line.strip())
        if m is None:
            raise ArticleError(f"{name}: line {number}: expected 'key: value', got {line.strip()!r}")
        if m["key"] not in KNOWN_KEYS:
            raise ArticleError(f"{name}: line {number}: unknown key {m['key']!r} "
                               f"(known: {', '.join(sorted(KNOWN_KEYS))})")
        meta[m["key"]] = m["value"].strip().strip("\"'")
    return meta


def _tags(value: str) -> tuple[str, ...]:
    # Both `tags: a, b` and the YAML flow form `tags: [a, b]` are accepted.
    items = value.strip().removeprefix("[").removesuffix("]").split(",")
    return tuple(t.strip().strip("\"'").lower() for t in items if t.strip().strip("\"'"))


def plain_body(markdown: str) -> str:
    """The words of a Markdown body without link targets, code fences or markup characters."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.DOTALL)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # keep a link's words, drop its address
    return re.sub(r"[#*_`>\[\]|-]+", " ", text)
