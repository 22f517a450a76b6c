"""The API's JSON parser: DRF's, with the nesting depth checked first (issue #20, finding 6).

Python's ``json`` recurses once per level, so ``[`` x 100,000 then ``]`` x 100,000 (200 KB,
well under the body limit) raised RecursionError, which DRF does not turn into a ParseError:
a 500. The depth is measured without recursion before anything is parsed: 400 above
``MAX_JSON_DEPTH``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from annoris.jsondepth import MAX_JSON_DEPTH, json_depth


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        # The body is bounded before it gets here (ANNORIS_API_MAX_BODY_BYTES, 413 above it).
        raw = stream.read()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            depth = json_depth(raw.decode(encoding))
        except (UnicodeDecodeError, LookupError):
            raise ParseError(f"JSON parse error - the body is not {encoding} text.") from None
        if depth > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested {depth} levels deep; the limit is {MAX_JSON_DEPTH}.")
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:  # not reachable under the depth limit; never a 500 all the same
            raise ParseError("JSON parse error - nested too deep.") from None
