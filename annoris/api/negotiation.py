"""Content negotiation with a fast path for the common case (issue #7 speed rule).

A client that names no format (no ``?format=``, no ``Accept`` or ``Accept: */*``) gets the
view's first renderer, exactly as DRF's ``DefaultContentNegotiation`` decides; this only
skips parsing the Accept header and matching every renderer against it (~20-40 us a
request on the hot read path). Anything else goes through DRF's negotiation unchanged.
"""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request


class FastDefaultNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: list[Any], format_suffix: str | None = None
    ) -> Any:
        accept = request.META.get("HTTP_ACCEPT", "")
        if (
            not format_suffix
            and accept in ("", "*/*")
            and self.settings.URL_FORMAT_OVERRIDE not in request.GET
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
