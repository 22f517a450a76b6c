"""The API's orjson renderer writes what DRF's JSONRenderer writes (annoris.api.renderers)."""

from __future__ import annotations

import datetime
import decimal
import json
import math
import uuid
from typing import Any

import pytest
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import renderers as drf

from annoris.api.renderers import JSONRenderer

UTC = datetime.UTC
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),  # past 64 bits: orjson refuses, DRF writes
    st.text(),  # any code point: controls, U+2028, emoji, lone surrogates (both refuse those)
    st.datetimes(timezones=st.sampled_from([None, UTC, datetime.timezone(datetime.timedelta(hours=5))])),
    st.dates(),
    st.times(),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.uuids(),
    st.builds(gettext_lazy, st.sampled_from(["Not found.", "Unknown"])),
)
floats = st.floats(allow_nan=False, allow_infinity=False)
documents = st.recursive(
    scalars | floats,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


def _render(renderer: drf.JSONRenderer, data: Any, media: str = "application/json") -> bytes | type:
    try:
        return renderer.render(data, media, {})
    except Exception as exc:  # both must fail alike (e.g. a lone surrogate cannot be UTF-8)
        return type(exc)


def _has_float(data: Any) -> bool:
    if isinstance(data, float):
        return True
    if isinstance(data, dict):
        return any(_has_float(v) for v in data.values())
    if isinstance(data, list | tuple):
        return any(_has_float(v) for v in data)
    return False


@settings(max_examples=400, deadline=None)
@given(documents)
def test_it_writes_what_drf_writes(data: Any) -> None:
    ours, theirs = _render(JSONRenderer(), data), _render(drf.JSONRenderer(), data)
    if isinstance(theirs, type):
        assert ours is theirs or isinstance(ours, type) and issubclass(ours, ValueError | TypeError)
        return
    assert isinstance(ours, bytes)
    if _has_float(data):  # the same numbers; orjson writes 1e16 where Python writes 1e+16
        assert json.loads(ours) == json.loads(theirs)
    else:
        assert ours == theirs


def test_a_session_document_renders_byte_for_byte_as_drf_renders_it() -> None:
    content = '# Сессия 🚀\n\n- [ ] next\u2028line\u2029end\t"quoted" \\ \x00\x1f\x7f ✅\n' * 200
    data = {
        "id": str(uuid.uuid4()),
        "title": "Проект «Annoris»",
        "size": 10_240,
        "created_at": datetime.datetime(2026, 11, 26, 9, 30, 1, 123456, tzinfo=UTC),
        "deleted_at": None,
        "content": content,
        "checks": [True, False, None, decimal.Decimal("1.50")],
    }
    ours = JSONRenderer().render(data, "application/json", {})
    assert ours == drf.JSONRenderer().render(data, "application/json", {})
    assert b"\\u2028" in ours and "\u2028".encode() not in ours
    assert json.loads(ours)["content"] == content


@pytest.mark.parametrize("media", ["application/json; indent=4", "application/json; indent=2"])
def test_an_indent_asked_for_in_accept_is_drfs_indent(media: str) -> None:
    data = {"a": [1, {"b": "ü"}]}
    assert JSONRenderer().render(data, media, {}) == drf.JSONRenderer().render(data, media, {})
    assert b"\n    " in JSONRenderer().render(data, "application/json; indent=4", {})


def test_nan_and_infinity_render_as_null_instead_of_failing_the_response() -> None:
    with pytest.raises(ValueError):
        drf.JSONRenderer().render({"x": math.nan}, "application/json", {})
    assert JSONRenderer().render({"x": math.nan, "y": math.inf}, "application/json", {}) == (
        b'{"x":null,"y":null}'
    )


def test_an_unknown_type_fails_as_in_drf() -> None:
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": object()}, "application/json", {})
