"""bench/api_read.py's URL conf: the real one, plus a bare DRF view under /api/ (same middleware).

The bare view is the baseline the issue names: DRF returning the same JSON from memory,
with no authentication, permission or throttle, rendered by the project's own renderer
(orjson, as the real endpoint), under /api/ so it passes the same middleware, through the
same gunicorn. It is routed as the real endpoint is: inside the ``api/`` include, tried just
before the session route, so that both pay the same URL resolution (the baseline does the
same work minus the part measured; at the top of the URL conf it skipped ~12 µs of it).
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from django.urls import URLPattern, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annoris.api import urls as api_urls
from annoris.api.renderers import JSONRenderer
from annoris.urls import urlpatterns as real_urlpatterns


class BareView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []
    renderer_classes = [JSONRenderer]

    def get(self, request: Request) -> Response:
        return Response(_body())


@functools.cache
def _body() -> dict[str, Any]:
    """The real endpoint's JSON, written by the bench once it has answered (read once)."""
    with open(os.environ["BENCH_BARE_JSON"], encoding="utf-8") as file:
        return json.load(file)


def _insert_bare_view() -> None:
    """Put the bare view in the API's own URL list, right before the session route."""
    patterns = api_urls.urlpatterns
    names = [p.name if isinstance(p, URLPattern) else None for p in patterns]
    detail = names.index("session-detail")
    patterns.insert(detail, path("bench-bare/", BareView.as_view(), name="bench-bare"))


_insert_bare_view()
urlpatterns = real_urlpatterns
