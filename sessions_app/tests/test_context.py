"""The start-of-session context: never over budget, newest session whole when it fits, cut visibly."""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from annoris.api import tokens
from sessions_app.context import ContextSession, build_context, count_tokens
from sessions_app.context.compose import compose_context, newest_whole_cost, utf16_length
from sessions_app.documents import parse_document
from sessions_app.models import Session
from sessions_app.services import session_upsert_from_source
from sessions_app.tests.real_tokenizer import real_tokens

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from corpus import make_corpus  # noqa: E402 - bench/ is not a package

BUDGETS = st.integers(min_value=50, max_value=50_000)
_DB_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def api(db: None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name='assistant')[1]}")
    return client


@pytest.fixture
def corpus(db: None) -> list[Session]:
    """40 generated sessions of 0.6-7 KB in 2 projects, written through the upsert."""
    files = make_corpus(40, seed=11, size=9000)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for number, (path, data) in enumerate(sorted(files.items())):
        project_path = f"gen-{number % 2}/{path.split('/', 1)[1]}"
        cut = data.decode()[: 600 + (number * 997) % 6000].encode()
        parsed = replace(
            parse_document(cut, path=project_path, fallback_date=now), project=f"gen-{number % 2}"
        )
        session_upsert_from_source(
            session_id=uuid.uuid5(uuid.NAMESPACE_URL, project_path),
            path=project_path,
            sha=f"{number:040x}",
            parsed=parsed,
            synced_at=now,
        )
    return list(Session.objects.all())


def newest_fits(header: str, newest: Session, budget: int) -> bool:
    return newest_whole_cost(header, _as_context(newest)) <= budget


def _as_context(row: Session) -> ContextSession:
    from sessions_app.context.service import _context_session, _links

    return _context_session(row, _links(""))


def check(result, budget: int, newest: Session | None, header: str) -> None:  # noqa: ANN001
    assert count_tokens(result.markdown) <= result.tokens <= budget
    assert real_tokens(result.markdown) <= budget
    if newest is not None and newest_fits(header, newest, budget):
        assert result.whole[:1] == [str(newest.id)]
    elif newest is not None:
        assert str(newest.id) not in result.whole
        if budget >= 300:  # room for the title line, a paragraph and the marker
            assert result.cut == [str(newest.id)]


def _newest(project_name: str) -> Session:
    return Session.objects.live().filter(project__name=project_name).order_by("-created_at", "id").first()


@pytest.mark.django_db
@_DB_SETTINGS
@given(budget=BUDGETS, project=st.sampled_from(["Annoris", "Pricewise", "Lingua Drift"]))
def test_it_never_exceeds_the_budget_on_the_samples(synced: list[Session], budget: int, project: str) -> None:
    result = build_context(project, budget)
    header = result.markdown.split("\n\n", 2)
    from sessions_app.context.service import _project_header, resolve_project

    check(result, budget, _newest(project), _project_header(resolve_project(project)))
    assert header


@pytest.mark.django_db
@_DB_SETTINGS
@given(budget=BUDGETS, pick=st.integers(min_value=0, max_value=1))
def test_it_never_exceeds_the_budget_on_generated_corpora(
    corpus: list[Session], budget: int, pick: int
) -> None:
    from sessions_app.context.service import _project_header, resolve_project

    names = sorted({s.project.name for s in corpus if s.project})
    project = names[pick % len(names)]
    result = build_context(project, budget)
    check(result, budget, _newest(project), _project_header(resolve_project(project)))
    considered = result.whole + result.cut + result.summarized + result.left_out
    in_project = sum(1 for s in corpus if s.project and s.project.name == project)
    assert len(considered) == len(set(considered)) == min(30, in_project)


@pytest.mark.django_db
@_DB_SETTINGS
@given(budget=BUDGETS)
def test_it_never_exceeds_the_budget_without_a_project(synced: list[Session], budget: int) -> None:
    result = build_context(None, budget)
    assert result.tokens <= budget and real_tokens(result.markdown) <= budget
    assert set(result.projects) == {"Annoris", "Pricewise", "Lingua Drift"}


@given(
    budget=BUDGETS,
    texts=st.lists(st.text(min_size=0, max_size=3000), min_size=1, max_size=8),
    title=st.text(max_size=300),
    chars=st.one_of(st.none(), st.integers(min_value=500, max_value=20_000)),
)
@settings(max_examples=int(os.environ.get("CONTEXT_EXAMPLES", "150")), deadline=None)
def test_compose_never_exceeds_the_budget_on_arbitrary_text(
    budget: int, texts: list[str], title: str, chars: int | None
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    sessions = [
        ContextSession(
            id=str(i),
            title=title,
            created_at=start - timedelta(days=i),
            state="done",
            next=title,
            url=f"/api/sessions/{i}",
            text=text,
        )
        for i, text in enumerate(texts)
    ]
    result = compose_context(
        header=f"# Context: {title}", steps=[], sessions=sessions, budget_tokens=budget, budget_chars=chars
    )
    assert count_tokens(result.markdown) <= result.tokens <= budget
    assert chars is None or utf16_length(result.markdown) <= chars
    if chars is None and newest_whole_cost(f"# Context: {title}", sessions[0]) <= budget:
        assert result.whole[:1] == ["0"]
    considered = result.whole + result.cut + result.summarized + result.left_out
    assert sorted(considered) == sorted(s.id for s in sessions)


def test_it_cuts_the_newest_session_at_a_paragraph_with_a_marker_and_a_link(synced: list[Session]) -> None:
    newest = _newest("Annoris")
    result = build_context("annoris", 600, link_base="http://testserver")
    assert result.cut == [str(newest.id)] and result.whole == []
    assert result.tokens <= 600
    link = f"http://testserver/api/sessions/{newest.id}"
    assert "✂️ **Cut here**" in result.markdown and link in result.markdown
    shown = result.markdown.split("· cut · ")[1].split("\n\n", 1)[1].split("\n\n> ✂️")[0]
    assert newest.text.strip().startswith(shown)
    # A paragraph boundary: what follows the shown part in the document starts a new paragraph.
    rest = newest.text.strip()[len(shown) :]
    assert rest.startswith("\n\n") or rest.startswith("\n")


def test_older_sessions_follow_whole_then_as_title_state_and_next(synced: list[Session]) -> None:
    result = build_context("Annoris", 4000)
    assert len(result.whole) >= 1
    assert result.summarized or result.left_out or result.cut or len(result.whole) == 4
    for session_id in result.summarized:
        row = Session.objects.get(id=session_id)
        assert f"**{row.title}**" in result.markdown and row.state in result.markdown


def test_the_api_returns_markdown_with_headers_and_json_on_request(
    api: APIClient, synced: list[Session]
) -> None:
    response = api.get("/api/context/", {"project": "Pricewise", "budget_tokens": 1200})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    assert text.startswith("# Context: Pricewise")
    assert count_tokens(text) <= int(response["X-Context-Tokens"]) <= 1200
    assert response["X-Context-Budget"] == "1200"
    listed = [h for h in ("X-Context-Whole", "X-Context-Cut", "X-Context-Summarized", "X-Context-Left-Out")]
    ids = {i for h in listed for i in response[h].split(",") if i}
    assert ids == {str(s.id) for s in synced if s.project and s.project.name == "Pricewise"}
    body = api.get("/api/context/", {"project": "pricewise", "budget_tokens": 1200, "format": "json"}).json()
    assert body["markdown"] == text and body["tokens"] == int(response["X-Context-Tokens"])
    assert body["sessions"]["whole"] == [i for i in response["X-Context-Whole"].split(",") if i]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"budget_tokens": 49}, 400),
        ({"budget_tokens": 50_001}, 400),
        ({"budget_tokens": "many"}, 400),
        ({"project": "nul\x00byte"}, 400),
        ({"project": "x" * 300}, 400),
        ({"project": "no such project"}, 404),
    ],
)
def test_the_api_refuses_bad_input_with_the_error_shape(
    api: APIClient, synced: list[Session], params: dict, status: int
) -> None:
    response = api.get("/api/context/", params)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}


def test_the_api_refuses_anonymous_callers(synced: list[Session]) -> None:
    assert APIClient().get("/api/context/").status_code in (401, 403)


def test_recent_projects_fall_back_to_an_aggregate_when_the_newest_sessions_name_few(
    synced: list[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sessions_app.context import service

    expected = build_context(None, 2500).projects
    monkeypatch.setattr(service, "_RECENT_SCAN", 1)  # the newest session names one project only
    assert build_context(None, 2500).projects == expected
    assert len(expected) == 3
