"""The knowledge base at work: articles read from `[kb] path`, indexed, and suggested.

`rebuild` reads every ``*.md`` under the folder (language from the front matter or the folder
name), stems it with maildesk.policy.kb.text and replaces the index in one transaction, so a bad
file leaves the old index in place. `reindex_if_changed` does that only when the files' digest
differs from the one stored with the last build (run at `maildesk serve` start). `suggest` finds
the articles for a new request.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from maildesk.config import SelfServiceSettings
from maildesk.errors import ConfigError
from maildesk.policy.kb import Article, ArticleError, parse_article, plain_body
from maildesk.policy.kb import text as kb_text
from maildesk.store import kb as kb_store
from maildesk.store import kv
from maildesk.store.db import Database, Session

log = logging.getLogger(__name__)
DIGEST_KEY = "kb.digest"


@dataclass(frozen=True)
class IndexReport:
    """What a (re)build indexed: articles per language."""

    per_language: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        """All indexed articles."""
        return sum(n for _, n in self.per_language)


@dataclass(frozen=True)
class Suggestion:
    """An article to show a requester, with its score for logs and the quality bench."""

    slug: str
    title: str
    url: str
    score: float


def article_files(folder: Path) -> list[Path]:
    """The article files under `folder`, in a stable order."""
    return sorted(p for p in folder.rglob("*.md") if p.is_file())


def folder_digest(folder: Path) -> str:
    """A digest of the files' names and contents: equal digests, equal index."""
    h = hashlib.sha256()
    for p in article_files(folder):
        h.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def load_articles(folder: Path) -> list[Article]:
    """Every article under `folder`; ConfigError naming the first bad file."""
    if not folder.is_dir():
        raise ConfigError(f"kb.path {folder} is not a folder")
    out: list[Article] = []
    seen: set[tuple[str, str]] = set()
    for p in article_files(folder):
        name = str(p.relative_to(folder))
        try:
            article = parse_article(name, p.read_text(encoding="utf-8"), p.parent.name)
        except (ArticleError, UnicodeDecodeError) as exc:
            raise ConfigError(f"knowledge base: {exc}") from exc
        if (article.language, article.slug) in seen:
            raise ConfigError(f"knowledge base: {name}: a second {article.language} article {article.slug!r}")
        seen.add((article.language, article.slug))
        out.append(article)
    return out


def entry_for(article: Article) -> kb_store.KbEntry:
    """An article as stored in the index: its stems, each set once."""
    def joined(text: str) -> str:
        return " ".join(dict.fromkeys(kb_text.stems(text, article.language)))

    return kb_store.KbEntry(language=article.language, slug=article.slug, title=article.title,
                            url=article.url, tags=article.tags, title_stems=joined(article.title),
                            tag_stems=joined(" ".join(article.tags)),
                            body_stems=joined(plain_body(article.body)))


def rebuild(db: Database, settings: SelfServiceSettings) -> IndexReport:
    """Replace the index with the folder's articles; ConfigError when the folder or a file is bad."""
    if settings.kb_path is None:
        raise ConfigError("no knowledge base configured: set [kb] path")
    articles = load_articles(settings.kb_path)
    digest = folder_digest(settings.kb_path)
    with db.transaction() as session:
        kb_store.replace_index(session, [entry_for(a) for a in articles])
        kv.set_value(session, DIGEST_KEY, digest)
    counts: dict[str, int] = {}
    for a in articles:
        counts[a.language] = counts.get(a.language, 0) + 1
    log.info("knowledge base indexed: %d articles from %s", len(articles), settings.kb_path)
    return IndexReport(tuple(sorted(counts.items())))


def reindex_if_changed(db: Database, settings: SelfServiceSettings) -> IndexReport | None:
    """Rebuild when the files changed since the last build; None when there was nothing to do."""
    if settings.kb_path is None or not settings.kb_path.is_dir():
        return None
    with db.reading() as session:
        stored = kv.get_value(session, DIGEST_KEY)
    if stored == folder_digest(settings.kb_path):
        return None
    return rebuild(db, settings)


def suggest(session: Session, settings: SelfServiceSettings, subject: str, text: str,
            default_language: str) -> list[Suggestion]:
    """Up to `[kb] suggestions` articles in the request's language scoring at least `min_score`."""
    if settings.kb_path is None or settings.suggestions == 0:
        return []
    return ranked(session, subject, text, default_language, settings.min_score, settings.suggestions)


def ranked(session: Session, subject: str, text: str, default_language: str, min_score: float,
           limit: int) -> list[Suggestion]:
    """The articles for a request, best first, above the threshold (shared with the quality bench)."""
    language = kb_text.guess_language(f"{subject}\n{text}", default_language)
    terms = kb_text.query_terms(subject, text, language)
    found = {e.slug: e for e in kb_store.candidates(session, language, terms)}
    scores = {slug: kb_text.score(terms, _doc(e)) for slug, e in found.items()}
    return [Suggestion(slug, found[slug].title, found[slug].url, scores[slug])
            for slug in kb_text.relevant(scores.items(), min_score, limit)]


def _doc(entry: kb_store.KbEntry) -> kb_text.DocTerms:
    return kb_text.DocTerms(title=frozenset(entry.title_stems.split()),
                            tags=frozenset(entry.tag_stems.split()),
                            body=frozenset(entry.body_stems.split()))
