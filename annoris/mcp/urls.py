"""The MCP endpoint's route, included at ``mcp`` by annoris/urls.py."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def mcp(request: HttpRequest) -> HttpResponseBase:
    """``/mcp``; the SDK (~0.6 s to import) loads on the first MCP call, not in every API worker."""
    from annoris.mcp.server import mcp_endpoint

    return mcp_endpoint(request)


urlpatterns = [path("", mcp, name="mcp")]
