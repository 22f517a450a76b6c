"""bench/api_read.py's URL conf: the real one, plus a bare DRF view under /api/ (same middleware).

The bare view is the baseline the issue names: DRF returning the same JSON from memory,
with no authentication, permission or throttle, through the same gunicorn and middleware.
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.urls import path
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annoris.urls import urlpatterns as real_urlpatterns

_body: dict[str, Any] | None = None


class BareView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []
    renderer_classes = [JSONRenderer]

    def get(self, request: Request) -> Response:
        global _body
        if _body is None:  # written by the bench once the real endpoint has answered
            with open(os.environ["BENCH_BARE_JSON"], encoding="utf-8") as file:
                _body = json.load(file)
        return Response(_body)


urlpatterns = [path("api/bench-bare/", BareView.as_view()), *real_urlpatterns]
