"""The admin: staff browse projects, sessions and sync logs; documents render safely."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from annoris.sources.local import LocalSource
from projects_app.models import Project
from sessions_app.models import Session
from sync_app.engine import run_sync
from sync_app.models import SyncLog

pytestmark = pytest.mark.django_db


def _pages(synced: list[Session]) -> list[str]:
    session, project, log = synced[0], Project.objects.first(), SyncLog.objects.first()
    return [
        reverse("admin:sessions_app_session_changelist"),
        reverse("admin:sessions_app_session_change", args=[session.pk]),
        reverse("admin:projects_app_project_changelist"),
        reverse("admin:projects_app_project_change", args=[project.pk]),
        reverse("admin:sync_app_synclog_changelist"),
        reverse("admin:sync_app_synclog_change", args=[log.pk]),
        reverse("admin:sessions_app_session_changelist") + "?q=redis&live=yes",
    ]


def test_staff_can_open_every_page(synced: list[Session], admin_client: Client) -> None:
    for url in _pages(synced):
        assert admin_client.get(url).status_code == 200, url


def test_anonymous_users_are_sent_to_login(synced: list[Session], client: Client) -> None:
    for url in _pages(synced):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url


def test_the_session_page_shows_the_decrypted_document(synced: list[Session], admin_client: Client) -> None:
    seed = Session.objects.get(github_path="annoris/2025-10-20-redis-strategy.md")
    page = admin_client.get(reverse("admin:sessions_app_session_change", args=[seed.pk])).content.decode()
    assert "<h2>💎 BORIS GENIUS STRATEGY:</h2>" in page
    assert (
        "<strong>Проблема &quot;потом&quot;:</strong>" in page or '<strong>Проблема "потом":</strong>' in page
    )


def test_raw_html_in_a_document_never_runs(db: None, tmp_path: Path, admin_client: Client) -> None:
    (tmp_path / "evil.md").write_text(
        "# Evil\n\n<script>alert('x')</script>\n\n"
        '<img src=x onerror="alert(1)">\n\n[click](javascript:alert(1))\n'
    )
    run_sync(source=LocalSource(tmp_path))
    session = Session.objects.get()
    page = admin_client.get(reverse("admin:sessions_app_session_change", args=[session.pk])).content.decode()
    document = page.split('class="annoris-document"', 1)[1].split("</article>", 1)[0]
    assert "<script" not in document and "<img" not in document and 'href="javascript:' not in document
    assert "<h1>Evil</h1>" in document


def test_the_sync_log_page_lists_file_errors(db: None, tmp_path: Path, admin_client: Client) -> None:
    (tmp_path / "ok.md").write_text("# Fine\n")
    (tmp_path / "broken.md").write_bytes(b"\x00\x01binary")
    result = run_sync(source=LocalSource(tmp_path))
    page = admin_client.get(reverse("admin:sync_app_synclog_change", args=[result.log_id])).content.decode()
    assert "broken.md" in page and "Partial" in page


def test_the_project_list_counts_live_sessions(synced: list[Session], admin_client: Client) -> None:
    page = admin_client.get(reverse("admin:projects_app_project_changelist")).content.decode()
    annoris = Project.objects.get(name="Annoris")
    count = Session.objects.live().filter(project=annoris).count()
    assert f'?project__id__exact={annoris.pk}">{count}</a>' in page


def test_the_session_search_finds_body_words_in_any_case(synced: list[Session], admin_client: Client) -> None:
    """Through the blind index: a word only in the (encrypted) body, capitalised, Cyrillic."""
    seed = next(s for s in synced if s.github_path.endswith("2025-10-20-redis-strategy.md"))
    assert "сразу" in seed.text and "сразу" not in f"{seed.title} {seed.status} {seed.next_step}".lower()
    url = reverse("admin:sessions_app_session_changelist")
    for term in ("сразу", "СРАЗУ", "Сразу"):
        page = admin_client.get(url, {"q": term}).content.decode()
        assert seed.title in page, term
    assert "0 sessions" in admin_client.get(url, {"q": "zzyzxnotaword"}).content.decode()


def test_the_project_page_lists_open_next_steps_from_the_service(
    synced: list[Session], admin_client: Client
) -> None:
    project = next(s.project for s in synced if s.project and s.project.name.lower() == "pricewise")
    page = admin_client.get(reverse("admin:projects_app_project_change", args=[project.pk])).content.decode()
    assert "A/B test subject lines for the day 3 email" in page  # the newest session's Next
    assert "Per-domain concurrency dashboard" in page  # a done session's Next, which no later one closed


def test_sessions_of_one_day_and_time_are_listed_by_path(synced: list[Session], admin_client: Client) -> None:
    rows = list(Session.objects.order_by("github_path")[:3])
    same = rows[0].created_at.replace(year=2030)
    Session.objects.filter(pk__in=[r.pk for r in rows]).update(created_at=same)
    Session.objects.filter(pk=rows[2].pk).update(created_at=same + timedelta(minutes=1))  # listed first
    html = admin_client.get(reverse("admin:sessions_app_session_changelist")).content.decode()
    positions = [html.index(r.github_path) for r in (rows[2], rows[0], rows[1])]
    assert positions == sorted(positions)
