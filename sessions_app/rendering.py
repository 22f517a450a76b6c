"""Markdown to safe HTML for people reading sessions (admin, browsable API).

Documents come from a repository anyone with push access can write to, so the
HTML that Markdown produces is sanitised with nh3 (an allow-list): raw HTML in a
document is shown, never run.
"""

from __future__ import annotations

import markdown
import nh3

_EXTENSIONS = ["fenced_code", "tables", "sane_lists", "nl2br"]
_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "ol",
    "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "td": {"align"}, "th": {"align"}, "code": {"class"}}


def render_markdown(text: str) -> str:
    """Sanitised HTML for ``text``; scripts, event handlers and unknown tags are removed."""
    html = markdown.markdown(text, extensions=_EXTENSIONS, output_format="html")
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
