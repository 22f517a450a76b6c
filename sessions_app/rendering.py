"""Markdown to safe HTML for people reading sessions (admin, browsable API).

GitHub-flavoured, as the repository shows the documents: CommonMark (a list may follow
a line directly), tables, strikethrough, task lists and fenced code, with a single line
break kept as a break (the documents' ``**Field:** value`` lines stay one per line).
Documents come from a repository anyone with push access can write to, so raw HTML in a
document is escaped (shown, never run) and the output is sanitised again with nh3 (an
allow-list) in case a renderer bug lets something through.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.tasklists import tasklists_plugin

_markdown = (
    MarkdownIt("commonmark", {"breaks": True, "html": False})
    .enable(["table", "strikethrough"])
    .use(tasklists_plugin)
)
_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "input",
    "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "td": {"style"},
    "th": {"style"},
    "code": {"class"},
    "ul": {"class"},
    "li": {"class"},
    "input": {"class", "checked"},
    "ol": {"start"},
}
_CLEAN = {
    "tags": _TAGS,
    "attributes": _ATTRIBUTES,
    # A task list's checkbox is the only input that survives, and it stays disabled.
    "tag_attribute_values": {"input": {"type": {"checkbox"}}},
    "set_tag_attribute_values": {"input": {"disabled": "disabled"}},
    "filter_style_properties": {"text-align"},  # table column alignment
    "url_schemes": {"http", "https", "mailto"},
    "link_rel": "noopener noreferrer nofollow",
}


def render_markdown(text: str) -> str:
    """Sanitised HTML for ``text``; raw HTML is escaped, unsafe links and attributes removed."""
    return nh3.clean(_markdown.render(text), **_CLEAN)


def render_inline(text: str) -> str:
    """Sanitised HTML for one line of markdown (code spans, emphasis, links), no paragraph."""
    return nh3.clean(_markdown.renderInline(text), **_CLEAN)
