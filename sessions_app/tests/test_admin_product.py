"""The admin as a product (issue #11): documents read like GitHub, the mirror is read-only,
the list fits and filters by state, search folds case, dates say what the document said."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from annoris.sources.local import LocalSource
from projects_app.models import Project
from sessions_app.context import project_next_steps
from sessions_app.models import Session
from sessions_app.rendering import render_inline, render_markdown
from sync_app.engine import run_sync

SEED = "annoris/2025-10-20-redis-strategy.md"


def _page(client: Client, session: Session) -> str:
    return client.get(reverse("admin:sessions_app_session_change", args=[session.pk])).content.decode()


def _document(page: str) -> str:
    return page.split('<article class="annoris-document"', 1)[1].split("</article>", 1)[0]


# --- rendering (GitHub-flavoured, sanitised) ---------------------------------------------


def test_a_list_right_after_a_line_is_a_list_as_on_github() -> None:
    html = render_markdown("**Problem:**\n- one\n- two\n")
    assert html.count("<li>") == 2 and "<p>- one" not in html


def test_task_lists_tables_and_fenced_code_render() -> None:
    html = render_markdown(
        "- [x] done\n- [ ] todo\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```python\nx = 1\n```\n"
    )
    assert re.search(r'<input[^>]*checked="checked"[^>]*type="checkbox"[^>]*disabled', html)
    assert html.count('type="checkbox"') == 2
    assert '<th style="text-align:left">a</th>' in html and "<td" in html
    assert '<pre><code class="language-python">x = 1' in html


def test_raw_html_and_script_links_are_shown_never_run() -> None:
    html = render_markdown(
        '<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n\n[x](javascript:alert(1))'
    )
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html  # shown as text


def test_an_inline_field_renders_code_spans_without_a_paragraph() -> None:
    assert (
        render_inline("Handle `invoice.payment_failed` now")
        == "Handle <code>invoice.payment_failed</code> now"
    )


# --- the session page ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_seed_session_reads_like_a_document(synced: list[Session], admin_client: Client) -> None:
    page = _page(admin_client, Session.objects.get(github_path=SEED))
    document = _document(page)
    assert document.count("<li>") >= 13  # the lists GitHub shows, not "- " paragraphs
    assert "<p>- " not in document
    assert "Проблема" in document and "💎" in document
    assert "<pre><code>" in document
    assert "<h2>💎 BORIS GENIUS STRATEGY:</h2>" in document
    # Its own block, not a field inside the admin's fieldset with its section-bar headings.
    assert page.index('<article class="annoris-document"') > page.rindex("</fieldset>")


@pytest.mark.django_db
def test_the_session_page_shows_the_date_as_written_the_next_step_rendered_and_the_source(
    synced: list[Session], admin_client: Client, settings
) -> None:  # type: ignore[no-untyped-def]
    page = _page(admin_client, Session.objects.get(github_path="pricewise/2025-09-15-stripe-billing.md"))
    date_row = page.split("field-date_written", 1)[1].split("</div></div>", 1)[0]
    assert re.search(r'<div class="readonly">2025-09-15</div>', date_row), date_row
    assert "<code>invoice.payment_failed</code>" in page and "`invoice" not in page
    assert str(Path(settings.SESSIONS_SOURCE) / "pricewise/2025-09-15-stripe-billing.md") in page
    assert re.search(r"Served by</label>\s*<div class=\"readonly\">(database|cache) \(", page)


@pytest.mark.django_db
def test_the_list_shows_time_of_day_only_when_the_document_gave_one(
    synced: list[Session], admin_client: Client
) -> None:
    page = admin_client.get(reverse("admin:sessions_app_session_changelist")).content.decode()
    assert "2025-10-20, evening" in page  # "(Evening)", not an invented 7 p.m.
    assert "2025-09-18 14:30" in page  # a clock time the document wrote
    assert re.search(r"2025-09-15</td>", page)  # a date alone stays a date
    assert "p.m." not in page.split('id="result_list"', 1)[1].split("</table>", 1)[0].replace(
        "last_synced", ""
    )


@pytest.mark.django_db
def test_sessions_are_read_only_no_add_change_delete_or_history(
    synced: list[Session], admin_client: Client
) -> None:
    session = synced[0]
    page = _page(admin_client, session)
    assert "/history/" not in page and "/delete/" not in page and 'name="_save"' not in page
    assert (
        admin_client.get(reverse("admin:sessions_app_session_history", args=[session.pk])).status_code == 404
    )
    assert (
        admin_client.get(reverse("admin:sessions_app_session_delete", args=[session.pk])).status_code == 403
    )
    assert (
        admin_client.post(
            reverse("admin:sessions_app_session_delete", args=[session.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Session.objects.filter(pk=session.pk).exists()
    listing = admin_client.get(reverse("admin:sessions_app_session_changelist")).content.decode()
    assert "delete_selected" not in listing and "sessions_app/session/add/" not in listing


# --- the session list ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_filters_by_state_project_and_date_not_by_free_text_status(
    synced: list[Session], admin_client: Client
) -> None:
    url = reverse("admin:sessions_app_session_changelist")
    page = admin_client.get(url).content.decode()
    assert "status__exact" not in page
    for state in ("done", "in_progress", "blocked", "planned", "unknown"):
        assert f"?state__exact={state}" in page
    assert "project__id__exact" in page and "created_at__gte" in page
    done = admin_client.get(url + "?state__exact=done").context["cl"].result_count
    assert done == Session.objects.filter(state="done").count() > 0
    annoris = Project.objects.get(name="Annoris")
    by_project = admin_client.get(url + f"?project__id__exact={annoris.pk}").context["cl"].result_count
    assert by_project == Session.objects.filter(project=annoris).count()


@pytest.mark.django_db
def test_search_folds_case_for_cyrillic(db: None, tmp_path: Path, admin_client: Client) -> None:
    (tmp_path / "2025-11-01-ban.md").write_text("# Бан аккаунтов\n\n**Status:** done\n")
    (tmp_path / "2025-11-02-other.md").write_text("# Другое\n\n**Next:** разобрать БАНЫ\n")
    (tmp_path / "2025-11-03-none.md").write_text("# Nothing here\n")
    run_sync(source=LocalSource(tmp_path))
    url = reverse("admin:sessions_app_session_changelist")
    for term in ("бан", "Бан", "БАН"):
        found = {s.title for s in admin_client.get(url, {"q": term}).context["cl"].result_list}
        assert found == {"Бан аккаунтов", "Другое"}, term
    both = admin_client.get(url, {"q": "бан аккаунтов"}).context["cl"].result_list
    assert [s.title for s in both] == ["Бан аккаунтов"]


# --- the project page ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_project_page_lists_its_sessions_newest_first_and_open_next_steps(
    synced: list[Session], admin_client: Client
) -> None:
    project = Project.objects.get(name="Annoris")
    page = admin_client.get(reverse("admin:projects_app_project_change", args=[project.pk])).content.decode()
    sessions = list(Session.objects.live().filter(project=project).order_by("-created_at"))
    listing = page.index('id="project-sessions"')
    links = [reverse("admin:sessions_app_session_change", args=[s.pk]) for s in sessions]
    positions = [page.index(link, listing) for link in links]
    assert positions == sorted(positions) and len(sessions) == 4
    steps = page.split('id="next-steps"', 1)[1].split("</table>", 1)[0]
    expected = project_next_steps(project)  # the service the API and the assistant use
    assert expected and steps.count("<tr><td>") == len(expected)
    for step in expected:
        assert reverse("admin:sessions_app_session_change", args=[step.session_id]) in steps
    assert 'name="_save"' in page  # projects stay editable


@pytest.mark.django_db
def test_every_admin_page_writes_dates_one_way(synced: list[Session], admin_client: Client) -> None:
    from projects_app.models import Project
    from sync_app.models import SyncLog

    log = SyncLog.objects.first()
    pages = [
        reverse("admin:index"),
        reverse("admin:sessions_app_session_changelist"),
        reverse("admin:sessions_app_session_change", args=[synced[0].pk]),
        reverse("admin:projects_app_project_change", args=[Project.objects.get(name="Annoris").pk]),
        reverse("admin:sync_app_synclog_changelist"),
        reverse("admin:sync_app_synclog_change", args=[log.pk]),
    ]
    other_styles = re.compile(
        r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\.? \d|\d (a|p)\.m\.|\d\d:\d\d:\d\d(?!\.)"
    )
    for url in pages:
        html = admin_client.get(url).content.decode()
        body = html.split('<div id="content"', 1)[1]
        assert not other_styles.search(body), (url, other_styles.search(body).group(0))
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", index)  # the health panel's last sync
