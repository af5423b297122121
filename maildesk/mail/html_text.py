"""Turn an HTML mail body into readable plain text, with the standard library only.

We never render mail HTML; we only need its words for the ticket, the rules
and the agents' notification, so a tag-dropping walk that keeps paragraph and
line breaks and list bullets is enough, and it cannot run scripts or fetch.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = frozenset({"p", "div", "br", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
                    "blockquote", "pre", "hr", "section", "article", "header", "footer"})
_SKIP = frozenset({"script", "style", "head", "title", "template"})
_CELL = frozenset({"td", "th"})
# Between two cells of one line (a data table: "Name | Alice"). Cells that hold blocks (a layout
# table) already start on a line of their own and get none.
_CELL_SEPARATOR = " | "
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "li":
            self._newline()
            self.parts.append("- ")
        elif tag in _CELL and self.parts and not self.parts[-1].endswith("\n"):
            self.parts[-1] = self.parts[-1].rstrip(" ")
            self.parts.append(_CELL_SEPARATOR)
        elif tag in _BLOCK:
            self._newline()
            if tag == "blockquote":
                self.quote_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK or tag == "li":
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        text = _SPACES.sub(" ", data.replace("\n", " "))
        if self.parts and self.parts[-1] == _CELL_SEPARATOR:
            text = text.lstrip(" ")
        if text.strip():
            if self.quote_depth and (not self.parts or self.parts[-1].endswith("\n")):
                # Keep HTML quotes recognisable as quotes for the reply splitter.
                self.parts.append("> " * self.quote_depth)
            self.parts.append(text)

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")


def html_to_text(html: str) -> str:
    """The visible text of `html`, with block elements as line breaks and blockquotes as '> '."""
    collector = _TextCollector()
    try:
        collector.feed(html)
        collector.close()
    except (AssertionError, ValueError):
        # html.parser gives up on some broken markup; what it read so far is still the best text.
        pass
    lines = (line.strip() for line in "".join(collector.parts).splitlines())
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()
