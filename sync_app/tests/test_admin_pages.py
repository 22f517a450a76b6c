"""Admin pages that join sessions and syncs: links to GitHub, per-file tables, sync history,
the index's health panel; /health's stalled queue; ensure_admin keeps passwords."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import Session
from sync_app.engine import run_sync
from sync_app.models import SyncLog

pytestmark = pytest.mark.django_db

SEED = "annoris/2025-10-20-redis-strategy.md"


def test_the_sync_log_page_tables_each_file_and_links_the_commit(
    github: GitHubEmulator, admin_client: Client
) -> None:
    result = run_sync(trigger="manual")
    page = admin_client.get(reverse("admin:sync_app_synclog_change", args=[result.log_id])).content.decode()
    commit = github.head()
    # A GitHub Enterprise-style API URL (the emulator's) links to the same host's web pages.
    assert f'href="{github.base_url.removesuffix("/api/v3")}/{github.full_name}/commit/{commit}"' in page
    table = page.split('<div class="annoris-files">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(
        r'<tr class="action-(\w+)"><td>\w+</td><td class="path">(.*?)</td><td>(.*?)</td><td>(.*?)</td>', table
    )
    assert len(rows) == Session.objects.count()
    seed = next(r for r in rows if SEED in r[1])
    session = Session.objects.get(github_path=SEED)
    assert seed[0] == "added" and reverse("admin:sessions_app_session_change", args=[session.pk]) in seed[1]
    assert seed[3] == "Mac Roman" and "mojibake" in seed[2]
    assert "{&quot;" not in page and '"counts"' not in page  # no raw JSON dump


def test_the_session_page_links_file_and_commit_and_shows_its_sync_history(
    github: GitHubEmulator, admin_client: Client
) -> None:
    run_sync(trigger="manual")
    first = github.head()
    github.commit_files({SEED: b"# Redis\n\n**Date:** 2025-10-20\n- changed\n"}, message="edit")
    run_sync(trigger="webhook")
    second = github.head()
    session = Session.objects.get(github_path=SEED)
    page = admin_client.get(reverse("admin:sessions_app_session_change", args=[session.pk])).content.decode()
    base = f"{github.base_url.removesuffix('/api/v3')}/{github.full_name}"
    assert f'href="{base}/blob/main/{SEED}"' in page
    assert f'href="{base}/commit/{second}"' in page
    history = page.split("Sync history of this file", 1)[1].split("</table>", 1)[0]
    assert re.search(r"Webhook</td>\s*<td>updated", history) and re.search(
        r"Manual</td>\s*<td>added", history
    )
    assert history.index(second[:10]) < history.index(first[:10])  # newest first


def test_the_index_puts_annoris_first_with_a_health_panel(
    github: GitHubEmulator, admin_client: Client
) -> None:
    run_sync(trigger="manual")
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert page.index("app-projects_app") < page.index("app-sessions_app") < page.index("app-sync_app")
    assert page.index("app-sync_app") < page.index("app-auth") and page.index("app-sync_app") < page.index(
        "app-django_q"
    )
    panel = page.split('id="annoris-health"', 1)[1].split("</table>", 1)[0]
    assert re.search(r'Health <span class="annoris-badge status-badge-ok">ok</span>', panel)
    assert "Database" in panel and "Task queue" in panel and "Last sync" in panel and "Manual sync" in panel
    assert 'href="/"' in page  # "View site" goes to the landing page


def test_a_queue_no_worker_takes_makes_health_degraded_and_the_panel_says_why(admin_client: Client) -> None:
    OrmQ.objects.create(key="annoris", payload="x", lock=timezone.now() - timedelta(seconds=30))
    report = admin_client.get("/health").json()  # the counts need staff or a token (#20)
    assert report["status"] == "ok" and report["queue"]["oldest_wait_seconds"] >= 30
    OrmQ.objects.create(key="annoris", payload="y", lock=timezone.now() - timedelta(seconds=301))
    response = admin_client.get("/health")
    report = response.json()
    assert response.status_code == 200 and report["status"] == "degraded"
    assert report["queue"]["status"] == "stalled" and report["queue"]["queued"] == 2
    panel = admin_client.get(reverse("admin:index")).content.decode()
    assert "status-stalled" in panel and "manage.py worker" in panel
    # A task a worker has taken (lock moved into the future) is not waiting.
    OrmQ.objects.update(lock=timezone.now() + timedelta(seconds=900))
    assert Client().get("/health").json()["status"] == "ok"


def test_the_index_renders_keys_other_helpers_add_to_the_report(admin_client: Client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sync_app import health
    from sync_app.templatetags import annoris_health

    real = health.health_report

    def with_outbox() -> tuple[bool, dict]:
        healthy, report = real()
        return healthy, report | {"outbox": {"status": "pending", "pending": 3, "oldest_seconds": 42}}

    monkeypatch.setattr(annoris_health, "health_report", with_outbox)
    page = admin_client.get(reverse("admin:index")).content.decode()
    row = page.split('class="health-outbox"', 1)[1].split("</tr>", 1)[0]
    assert "Outbox" in row and "pending" in row and "pending: 3" in row


def test_sync_logs_and_deliveries_are_read_only(github: GitHubEmulator, admin_client: Client) -> None:
    result = run_sync(trigger="manual")
    page = admin_client.get(reverse("admin:sync_app_synclog_change", args=[result.log_id])).content.decode()
    assert "/history/" not in page and "/delete/" not in page
    assert (
        admin_client.get(reverse("admin:sync_app_synclog_history", args=[result.log_id])).status_code == 404
    )
    assert (
        admin_client.post(
            reverse("admin:sync_app_synclog_delete", args=[result.log_id]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert SyncLog.objects.filter(pk=result.log_id).exists()


def test_ensure_admin_prints_a_new_login_once_and_never_resets_a_password(capsys, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = True
    call_command("ensure_admin")
    created = capsys.readouterr().out
    password = re.search(r"password: (\S+)", created).group(1)
    user = get_user_model().objects.get(username="admin")
    assert user.check_password(password) and user.is_superuser
    user.set_password("changed-by-the-person")
    user.save()
    call_command("ensure_admin")
    again = capsys.readouterr().out
    assert "unchanged" in again and "changepassword" in again and "password:" not in again
    user.refresh_from_db()
    assert user.check_password("changed-by-the-person")
