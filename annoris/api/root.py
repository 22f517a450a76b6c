"""The browsable API's face: its root (every collection, the schema and the docs) and the
descriptions it shows (markdown, so `code` reads as code, not as backticks)."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from rest_framework import routers, views
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.utils.formatting import dedent

# Beyond the router's collections: the assistant's routes, the schema and the docs, by URL name.
EXTRA_LINKS = {
    "search": "search",
    "context": "context",
    "sync/drift": "sync-drift",
    "schema": "api-schema",
    "docs": "api-docs",
}

_markdown = MarkdownIt("commonmark", {"html": False})  # raw HTML in a docstring is shown as text


class ApiRootView(routers.APIRootView):
    """Annoris's REST API: session documents, projects, syncs with GitHub, search and context.

    Authenticate with `Authorization: Bearer <token>` (`manage.py api_token create <name>`), or
    log in to the admin to browse here. Every path ends with a slash; errors are always
    `{"detail", "code", "errors"}`. The schema is at `/api/schema/`, the docs at `/api/docs/`.
    """

    extra_links: dict[str, str] = EXTRA_LINKS

    def get_view_name(self) -> str:
        return "Annoris API"  # the page's title and first breadcrumb, not "Api Root"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        for key, name in self.extra_links.items():
            try:
                response.data[key] = reverse(name, request=request)
            except NoReverseMatch:
                continue
        return response


class Router(routers.DefaultRouter):
    APIRootView = ApiRootView
    include_root_view = True
    include_format_suffixes = False  # ?format= only: /api/sessions.json would be one more surface


def view_description(view: views.APIView, html: bool = False) -> str | SafeString:
    """DRF's VIEW_DESCRIPTION_FUNCTION: the view's docstring, as markdown when shown as HTML."""
    description = dedent(getattr(view, "description", None) or view.__class__.__doc__ or "")
    if not html:
        return description
    return mark_safe(_markdown.render(description))  # noqa: S308 - html is off: markdown-it escapes
