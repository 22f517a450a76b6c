"""HTTP conventions shared by the API, the MCP server and the write services: one place each."""

from __future__ import annotations

# A UUID in a URL, hyphens optional (uuid.UUID accepts both forms).
UUID_PATTERN = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


def etag_values(header: str | None) -> set[str]:
    """The entity tags an ``If-Match`` / ``If-None-Match`` header lists (RFC 9110), bare and
    lower-case: ``"abc", W/"Def"`` -> ``{"abc", "def"}``; ``*`` stays ``*``."""
    values = set()
    for tag in (header or "").split(","):
        tag = tag.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        tag = tag.strip('"').strip().lower()
        if tag:
            values.add(tag)
    return values


def etag_matches(header: str | None, sha: str) -> bool:
    """Whether the header names ``sha`` (a git blob SHA, our ETag) or is ``*``."""
    values = etag_values(header)
    return "*" in values or sha.lower() in values
