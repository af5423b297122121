"""The knowledge base, pure: article files parsed into values (:mod:`.article`) and the words that
search compares, with their stems, language guess and scores (:mod:`.text`).
"""

from maildesk.policy.kb.article import Article, ArticleError, parse_article, plain_body
from maildesk.policy.kb.text import (
    LANGUAGES,
    DocTerms,
    guess_language,
    query_terms,
    relevant,
    score,
    stem,
    stems,
)

__all__ = [
    "LANGUAGES",
    "Article",
    "ArticleError",
    "DocTerms",
    "guess_language",
    "parse_article",
    "plain_body",
    "query_terms",
    "relevant",
    "score",
    "stem",
    "stems",
]
