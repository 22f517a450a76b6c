"""The document a write sends: the client's markdown with the given fields in its front matter.

GitHub is the master copy, so a field set through the API (title, project, status,
priority, date) is written into the document's YAML front matter, merged with what is
there (an existing key keeps its spelling, e.g. ``Status``) and dumped with ``safe_dump``.
Without fields the markdown goes out byte for byte.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml

from sessions_app.documents import DocumentError
from sessions_app.documents.fields import front_matter
from sessions_app.writes.errors import InvalidDocument

FIELDS = ("title", "project", "status", "priority", "date")


def compose(markdown: str, fields: dict[str, Any]) -> str:
    """``markdown`` with ``fields`` (those not None) merged into its front matter."""
    given = {name: _plain(fields[name]) for name in FIELDS if fields.get(name) is not None}
    meta, body = split(markdown)
    if not given:
        return markdown
    existing = {str(key).strip().lower(): key for key in meta}
    for name, value in given.items():
        meta[existing.get(name, name)] = value
    return compose_meta(meta, body)


def compose_meta(meta: dict[str, Any], body: str) -> str:
    """A document of front matter ``meta`` (safe_dump) and ``body``."""
    dumped = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)
    return f"---\n{dumped}---\n{body}"


def split(markdown: str) -> tuple[dict[str, Any], str]:
    """(front matter, body); InvalidDocument when the front matter is not a YAML mapping."""
    _refuse_aliases(markdown)
    try:
        meta, body = front_matter(markdown)
    except DocumentError as exc:
        raise InvalidDocument(str(exc), errors={"content": [str(exc)]}) from None
    if body is markdown:  # no front matter block
        return {}, markdown
    return dict(meta), body


def front_matter_id(markdown: str) -> Any:
    """The raw ``id`` of the front matter, or None."""
    meta, _ = split(markdown)
    lowered = {str(key).strip().lower(): value for key, value in meta.items()}
    return lowered.get("id")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _refuse_aliases(markdown: str) -> None:
    """YAML aliases let a few lines expand to billions of values ("billion laughs"): refused.

    Checked on the tokens of the front matter block, before anything is built from it.
    """
    lines = markdown.removeprefix("\ufeff").split("\n")  # read past a BOM, as front_matter does
    if lines[0].rstrip("\r") != "---":
        return
    end = next((i for i, line in enumerate(lines[1:], 1) if line.rstrip("\r") in ("---", "...")), None)
    if end is None:
        return
    try:
        tokens = yaml.scan("\n".join(lines[1:end]), Loader=yaml.SafeLoader)
        has_alias = any(isinstance(token, yaml.AliasToken | yaml.AnchorToken) for token in tokens)
    except yaml.YAMLError:
        return  # the parser reports the YAML error with its line
    if has_alias:
        message = "YAML anchors and aliases (&name, *name) are not allowed in front matter."
        raise InvalidDocument(message, errors={"content": [message]})
