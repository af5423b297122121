"""HTML mail bodies to plain text: hidden parts dropped, entities decoded, blocks as lines, quotes kept."""

from __future__ import annotations

import pytest

from maildesk.mail.html_text import html_to_text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        pytest.param("<script>alert('x')</script>Hello", "Hello", id="script-dropped"),
        pytest.param("<style>p { color: red }</style><p>Hello</p>", "Hello", id="style-dropped"),
        pytest.param("<html><head><title>Newsletter</title></head><body>Hi</body></html>", "Hi",
                     id="head-and-title-dropped"),
        pytest.param("<template><p>Hidden</p></template>Shown", "Shown", id="template-dropped"),
        pytest.param("<SCRIPT>x()</SCRIPT><P>Upper</P>", "Upper", id="tag-names-any-case"),
        pytest.param("<script>never closed", "", id="unclosed-script-hides-the-rest"),
        pytest.param("a</script>b", "ab", id="stray-end-tag-hides-nothing"),
        pytest.param("Fish &amp; chips &lt;3 &#8364;5 &eacute;t&eacute;", "Fish & chips <3 €5 été",
                     id="entities"),
        pytest.param("&nbsp;x&nbsp;&nbsp;y&nbsp;", "x y", id="non-breaking-spaces-are-spaces"),
        pytest.param("&#99999999;", "\ufffd", id="impossible-character-reference"),
        pytest.param("<p>One</p><p>Two</p>", "One\nTwo", id="paragraphs-are-lines"),
        pytest.param("One<br>Two<br/>Three", "One\nTwo\nThree", id="br-is-a-line-break"),
        pytest.param("<div>a</div><br><br><br><div>b</div>", "a\nb", id="empty-blocks-add-no-lines"),
        pytest.param("<h1>Title</h1>Text<hr>End", "Title\nText\nEnd", id="headings-and-rules"),
        pytest.param("<ul><li>one</li><li>two</li></ul>", "- one\n- two", id="list-items-are-bullets"),
        pytest.param("<table><tr><th>Name</th><th>Order</th></tr><tr><td>Alice</td><td>#12</td></tr></table>",
                     "Name | Order\nAlice | #12", id="cells-of-a-row-kept-apart"),
        pytest.param("<table><tr><td><p>Dear Alice,</p></td><td><p>Logo</p></td></tr></table>",
                     "Dear Alice,\nLogo", id="layout-cells-holding-blocks-are-lines"),
        pytest.param("<tr><td></td><td>only</td></tr>", "only", id="empty-leading-cell-adds-nothing"),
        pytest.param("<tr><td> Total </td>\n  <td> 42 EUR </td></tr>", "Total | 42 EUR", id="cell-padding-trimmed"),
        pytest.param("<ol><li>first<li>second</ol>", "- first\n- second", id="unclosed-list-items"),
        pytest.param('See <a href="https://help.example.org/kb/7">the article</a> please',
                     "See the article please", id="link-text-kept-address-dropped"),
        pytest.param("<p>Yes</p><blockquote><p>Old</p></blockquote>", "Yes\n> Old", id="blockquote"),
        pytest.param("<blockquote>a<blockquote>b</blockquote>c</blockquote>d", "> a\n> > b\n> c\nd",
                     id="nested-blockquotes"),
        pytest.param("a\n   b\t\tc", "a b c", id="source-whitespace-collapses"),
        pytest.param("<p>  padded  </p>", "padded", id="lines-stripped"),
        pytest.param("<!-- a comment -->text", "text", id="comment-dropped"),
        pytest.param("x<![ y", "x", id="markup-the-parser-gives-up-on"),
        pytest.param("", "", id="empty"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    # Scenario: what an agent should read from an HTML body, never the markup or the hidden parts.
    assert html_to_text(html) == text
