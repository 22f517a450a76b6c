"""Cursor pagination for every list (issue #7): stable while rows are added; a bad cursor is a 400."""

from __future__ import annotations

from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import NotFound

from annoris.api.errors import ApiError


class CursorPagination(pagination.CursorPagination):
    """``?cursor=`` from a previous page's ``next``/``previous``; ``?page_size=`` 1-200 (default 50)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request: Any) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:  # DRF answers a cursor it cannot decode with 404; it is bad input
            raise ApiError(
                400,
                "Invalid cursor.",
                code="invalid_cursor",
                errors={"cursor": ["Use a next or previous link."]},
            ) from None
