"""The sessions API's own renderer: the session document as markdown."""

from __future__ import annotations

from typing import Any

from rest_framework import renderers

from annoris.api.renderers import JSONRenderer


class MarkdownRenderer(renderers.BaseRenderer):
    """``text/markdown``: the session document itself (``?format=md``); errors stay JSON."""

    media_type = "text/markdown"
    format = "md"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, str):
            return data.encode("utf-8")
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data)
