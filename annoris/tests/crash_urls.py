"""A URL conf for the error tests: the real one plus views that crash on purpose under /api/."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annoris.urls import urlpatterns as real_urlpatterns


class CrashingApiView(APIView):
    def get(self, request: Request) -> Response:
        raise RuntimeError("a bug in a DRF view")


def crashing_django_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug outside DRF")


urlpatterns = [
    path("api/crash/drf/", CrashingApiView.as_view()),
    path("api/crash/django/", crashing_django_view),
    *real_urlpatterns,
]
