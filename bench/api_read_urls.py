"""bench/api_read.py's URL conf: the real one, plus a bare DRF view under /api/ (same middleware).

The bare view is the baseline the issue names: DRF returning the same JSON from memory,
with no authentication, permission or throttle, rendered by the project's own renderer
(orjson, as the real endpoint), under /api/ so it passes the same middleware, through the
same gunicorn.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

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


urlpatterns = [path("api/bench-bare/", BareView.as_view()), *real_urlpatterns]
