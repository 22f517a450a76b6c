"""Next steps: found in the Next field, next-step sections and task items; closed by later sessions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from annoris.api import tokens
from sessions_app.context import project_next_steps
from sessions_app.documents import parse_document
from sessions_app.documents.nextsteps import extract_steps, open_steps
from sessions_app.services import session_upsert_from_source

OLDER = """---
title: Older
date: 2026-01-01
project: Steps
next: Add metrics to the worker
---
# Older

## Next actions
- Write the **runbook**
- Rotate the staging key

Some text.

- [ ] Deploy the worker
- [ ] Review [the schema](https://example.com)
- [x] Fix the login bug
"""

NEWER = """---
title: Newer
date: 2026-01-05
project: Steps
---
# Newer

## ✅ Done
- Rotate the staging key

## Checklist
- [x] deploy the worker
- ✅ Review the schema
- ~~Write the runbook~~

## Следующие шаги
- Проверить бэкапы
- Write the runbook again

- [ ] Add metrics to the worker
"""


def write(text: str, name: str) -> uuid.UUID:
    session_id = uuid.uuid5(uuid.NAMESPACE_URL, name)
    parsed = parse_document(text.encode(), path=f"steps/{name}.md", fallback_date=datetime.now(UTC))
    session_upsert_from_source(
        session_id=session_id,
        path=f"steps/{name}.md",
        sha="0" * 40,
        parsed=parsed,
        synced_at=datetime.now(UTC),
    )
    return session_id


def test_it_finds_the_next_field_sections_and_unchecked_items() -> None:
    found = extract_steps(OLDER, next_field="Add metrics to the worker")
    assert found.open == (
        "Add metrics to the worker",
        "Write the **runbook**",
        "Rotate the staging key",
        "Deploy the worker",
        "Review [the schema](https://example.com)",
    )
    assert "fix the login bug" in found.closed


def test_it_reads_closing_marks_and_done_sections() -> None:
    found = extract_steps(NEWER)
    assert {
        "rotate the staging key",
        "deploy the worker",
        "review the schema",
        "write the runbook",
    } <= found.closed
    assert found.open == ("Проверить бэкапы", "Write the runbook again", "Add metrics to the worker")


def test_it_ignores_code_fences_and_sections_that_are_not_next_steps() -> None:
    text = (
        "## Notes\n- a note\n\n```\n- [ ] not a task\n```\n\n"
        "## Next\n1. Real step\n\n## Other\n- not a step\n"
    )
    assert extract_steps(text).open == ("Real step",)


def test_a_later_session_closes_a_step_and_identical_steps_appear_once() -> None:
    older, newer = extract_steps(OLDER, next_field="Add metrics to the worker"), extract_steps(NEWER)
    steps = open_steps([("newer", newer), ("older", older)])
    assert steps == [
        ("Проверить бэкапы", "newer"),
        ("Write the runbook again", "newer"),
        ("Add metrics to the worker", "newer"),
    ]
    # Order matters: a closing in an *older* session does not close a newer step.
    assert ("Deploy the worker", "older") in open_steps([("older", older), ("newer", newer)])


@pytest.mark.django_db
def test_the_api_lists_open_steps_newest_first_linked_to_their_sessions() -> None:
    older_id = write(OLDER, "older")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name='assistant')[1]}")
    before = client.get("/api/projects/Steps/next-steps/").json()
    assert [s["text"] for s in before["next_steps"]] == [
        "Add metrics to the worker",
        "Write the **runbook**",
        "Rotate the staging key",
        "Deploy the worker",
        "Review [the schema](https://example.com)",
    ]
    assert before["next_steps"][0]["session"]["id"] == str(older_id)
    assert before["next_steps"][0]["session"]["url"].endswith(f"/api/sessions/{older_id}/")
    newer_id = write(NEWER, "newer")
    after = client.get(f"/api/projects/{before['project_id']}/next-steps/")
    assert after.status_code == 200
    steps = after.json()["next_steps"]
    assert [s["text"] for s in steps] == [
        "Проверить бэкапы",
        "Write the runbook again",
        "Add metrics to the worker",
    ]
    assert {s["session"]["id"] for s in steps} == {str(newer_id)}
    assert [s.text for s in project_next_steps("steps")] == [s["text"] for s in steps]


@pytest.mark.django_db
def test_the_api_answers_404_for_an_unknown_project() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name='assistant')[1]}")
    response = client.get("/api/projects/nope/next-steps/")
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "code", "errors"}


@pytest.mark.django_db
@pytest.mark.parametrize("project", ["a%00b", "x" * 300, "%F0%9F%98%80"])
def test_the_api_answers_404_never_500_for_odd_project_names(project: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name='assistant')[1]}")
    response = client.get(f"/api/projects/{project}/next-steps/")
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "code", "errors"}
