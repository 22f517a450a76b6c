"""The write API's contract: scopes, the OpenAPI description, path patterns, front matter."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from django.urls import reverse
from rest_framework.test import APIClient

from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.tests.writes.conftest import a_session, make_writer, writes_received
from sessions_app.writes import InvalidDocument
from sessions_app.writes.document import compose
from sessions_app.writes.paths import path_from_pattern


@pytest.mark.parametrize(("scope", "status"), [("read", 403), ("write", 201)])
def test_a_read_token_cannot_write(gh: GitHubEmulator, scope: str, status: int) -> None:
    """A real token of each scope, through the whole stack: a read one is refused before anything runs."""
    response = make_writer(f"token-{scope}", scope=scope).post(
        reverse("session-list"), {"content": f"# By a {scope} token\n"}, format="json"
    )
    assert response.status_code == status, response.content
    if status == 403:
        assert response.json()["code"] == "insufficient_scope" and set(response.json()) == {
            "detail", "code", "errors"
        }  # fmt: skip
    assert writes_received(gh) == (1 if status == 201 else 0)


def test_a_read_token_can_still_read(gh: GitHubEmulator) -> None:
    assert make_writer("reader", scope="read").get(reverse("session-list")).status_code == 200


def test_the_schema_documents_every_write(writer: APIClient) -> None:
    response = writer.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    collection, item = schema["paths"]["/api/sessions/"], schema["paths"]["/api/sessions/{id}/"]
    create = collection["post"]
    assert {"201", "202", "409", "422"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/SessionWriteRequest"
    )  # request components are split
    for method, success in (("put", "200"), ("patch", "200"), ("delete", "204")):
        operation = item[method]
        names = {(p["name"], p["in"], p.get("required", False)) for p in operation["parameters"]}
        assert ("If-Match", "header", True) in names
        assert {success, "202", "404", "412", "428"} <= set(operation["responses"]), method
    error = schema["components"]["schemas"]["Error"]  # the API's one error shape
    assert set(error["properties"]) == {"detail", "code", "errors"}


def test_the_path_pattern_is_configurable_and_safe(settings: object) -> None:
    settings.SESSIONS_PATH_PATTERN = "{year}/{month}/{project}/{day}-{slug}.md"  # type: ignore[attr-defined]
    day = date(2025, 12, 3)
    assert path_from_pattern(project="Price Wise", day=day, title="Stripe: billing!") == (
        "2025/12/price-wise/03-stripe-billing.md"
    )
    assert path_from_pattern(project=None, day=day, title="") == "2025/12/03-session.md"
    settings.SESSIONS_PATH_PATTERN = "{nope}/{slug}.md"  # type: ignore[attr-defined]
    with pytest.raises(InvalidDocument):
        path_from_pattern(project=None, day=day, title="x")
    settings.SESSIONS_PATH_PATTERN = "{slug}.txt"  # type: ignore[attr-defined]
    with pytest.raises(InvalidDocument, match="SESSIONS_GLOB"):
        path_from_pattern(project=None, day=day, title="x")


def test_fields_merge_into_existing_front_matter() -> None:
    text = "---\nStatus: old\nid: 3f6c2a9e-8b41-4d7f-9a35-1c0e5b7d2f84\ntags: [a, b]\n---\n# Title\n\nBody.\n"
    merged = compose(text, {"status": "✅ done", "title": "Title: with a colon", "date": date(2025, 1, 2)})
    meta = yaml.safe_load(merged.split("---\n")[1])
    assert meta == {
        "Status": "✅ done",  # the existing key keeps its spelling
        "id": "3f6c2a9e-8b41-4d7f-9a35-1c0e5b7d2f84",
        "tags": ["a", "b"],
        "title": "Title: with a colon",
        "date": "2025-01-02",
    }
    assert merged.endswith("---\n# Title\n\nBody.\n")
    assert compose("# Untouched\r\n", {}) == "# Untouched\r\n"


def test_surrogates_and_oversized_bodies_are_4xx(writer: APIClient, gh: GitHubEmulator) -> None:
    surrogate = writer.post(
        reverse("session-list"), data='{"content": "# x \\ud800"}', content_type="application/json"
    )
    huge = writer.post(reverse("session-list"), {"content": "x" * 1_000_001}, format="json")
    renamed = writer.patch(
        reverse("session-detail", args=[a_session().id]), {"path": "sessions/other.md"}, format="json",
        HTTP_IF_MATCH=a_session().github_sha,
    )  # fmt: skip
    assert surrogate.status_code == 400
    assert huge.status_code in (400, 413)
    assert renamed.status_code == 422
    assert writes_received(gh) == 0


def test_a_yaml_alias_bomb_in_front_matter_is_refused_quickly(writer: APIClient, gh: GitHubEmulator) -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    levels += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
    content = "---\n" + "\n".join(levels) + "\nstatus: *i\n---\n# Boom\n"
    response = writer.post(reverse("session-list"), {"content": content}, format="json")
    assert response.status_code == 422 and "aliases" in response.json()["detail"]
    assert writes_received(gh) == 0
