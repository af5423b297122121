"""Knowledge-base article files: front matter, language, errors that name the file."""

from __future__ import annotations

import pytest

from maildesk.policy.kb import ArticleError, parse_article, plain_body

GOOD = "---\ntitle: Принтер не друкує\ntags: [принтер, Друк]\nurl: https://help.example.org/p\n---\n# T\n\nBody\n"


def test_front_matter_and_folder_language() -> None:
    # Language comes from the folder when the header leaves it out; tags are lowercased.
    a = parse_article("uk/printer.md", GOOD, "uk")
    assert (a.slug, a.language, a.title, a.url, a.tags) == (
        "printer", "uk", "Принтер не друкує", "https://help.example.org/p", ("принтер", "друк"))
    assert a.body == "# T\n\nBody"


@pytest.mark.parametrize(("text", "folder", "needle"), [
    ("no header", "en", "must start"),
    ("---\ntitle: x\n", "en", "not closed"),
    (GOOD, "", "language"),
    ("---\ntitle: x\nurl: ftp://x\n---\n", "en", "public http"),
    ("---\nurl: https://x\n---\n", "en", "title"),
    ("---\ntitle: x\nauthor: me\nurl: https://x\n---\n", "en", "unknown key 'author'"),
])
def test_bad_files_name_the_problem(text: str, folder: str, needle: str) -> None:
    # Every fault names the file and what is wrong.
    with pytest.raises(ArticleError, match=needle) as err:
        parse_article("en/x.md", text, folder)
    assert "en/x.md" in str(err.value)


def test_plain_body_drops_markup_and_link_targets() -> None:
    # Link words stay, addresses and code blocks go.
    assert "example" not in plain_body("See [the guide](https://example.org/x) ```code```")
    assert "guide" in plain_body("See [the guide](https://example.org/x)")
