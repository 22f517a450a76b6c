"""The outbox: GitHub down, failing, hanging or rate limited gives 202; the write lands
later, once, in order per path; a file changed meanwhile stops it as a conflict."""

from __future__ import annotations

import time
from io import StringIO

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_q.models import Schedule
from rest_framework.test import APIClient

from annoris import crypto
from annoris.api import tokens
from annoris.encryption import decrypt_text
from annoris.sources.base import git_blob_sha
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import PendingWrite, Session
from sessions_app.tests.writes.conftest import a_session, commit_count, file_at
from sessions_app.writes import outbox_drain
from sessions_app.writes.outbox import SCHEDULE_NAME


def drain(seconds: float = 3.0) -> dict[str, int]:
    return outbox_drain(seconds=seconds).as_dict()


def health() -> dict:
    token = tokens.issue(name="ops")[1]  # the counts need a token or staff (#20)
    return Client().get("/health", HTTP_AUTHORIZATION=f"Bearer {token}").json()["outbox"]


def test_github_down_gives_202_and_the_write_lands_once_it_is_back(
    writer: APIClient, gh: GitHubEmulator
) -> None:
    commits = commit_count(gh)
    gh.fail_next(1000, status=502)

    response = writer.post(
        reverse("session-list"), {"content": "# Queued\n", "project": "annoris"}, format="json"
    )

    assert response.status_code == 202, response.content
    data = response.json()
    entry = PendingWrite.objects.get(pk=data["outbox"]["id"])
    assert (entry.status, entry.operation, data["outbox"]["status"]) == ("pending", "create", "pending")
    assert data["sha"] == entry.content_sha and data["commit"] is None
    assert entry.content.startswith(crypto.PREFIX)  # encrypted at rest
    assert Schedule.objects.filter(name=SCHEDULE_NAME).exists()  # woken even if the queued task is lost
    assert health()["pending"] == 1
    assert file_at(gh, data["path"]) is None and commit_count(gh) == commits

    assert drain(0.3)["landed"] == 0  # still down: kept, retried later
    entry.refresh_from_db()
    assert entry.status == "pending" and entry.attempts >= 2 and "502" in entry.last_error

    gh.reset_faults()
    assert drain()["landed"] == 1

    entry.refresh_from_db()
    assert entry.status == "landed" and entry.landed_sha == data["sha"]
    assert file_at(gh, data["path"]) is not None and commit_count(gh) == commits + 1
    assert Session.objects.get(id=data["id"]).github_sha == data["sha"]
    assert drain() == {"landed": 0, "conflicts": 0, "retried": 0}
    assert commit_count(gh) == commits + 1
    assert health() == {"status": "ok", "pending": 0, "conflict": 0}


def test_a_hanging_github_gives_202_in_bounded_time(writer: APIClient, gh: GitHubEmulator) -> None:
    gh.hang(None)
    started = time.monotonic()
    response = writer.post(reverse("session-list"), {"content": "# Hung\n"}, format="json")
    elapsed = time.monotonic() - started
    gh.release()
    assert response.status_code == 202
    assert elapsed < 5  # ANNORIS_WRITE_TIMEOUT is 1 s here

    row = a_session("redis-strategy")
    gh.hang(None)
    started = time.monotonic()
    patched = writer.patch(
        reverse("session-detail", args=[row.id]), {"status": "x"}, format="json", HTTP_IF_MATCH=row.github_sha
    )
    elapsed = time.monotonic() - started
    gh.release()
    assert patched.status_code == 202 and elapsed < 5


def test_a_write_that_landed_while_its_answer_was_lost_is_not_written_twice(
    writer: APIClient, gh: GitHubEmulator
) -> None:
    """The PUT timed out client-side but GitHub committed it: the retry sees its own content."""
    commits = commit_count(gh)
    gh.hang(None)
    response = writer.post(reverse("session-list"), {"content": "# Half\n"}, format="json")
    assert response.status_code == 202
    gh.release()  # the hung PUT now commits, to a client that is gone
    deadline = time.monotonic() + 5
    while commit_count(gh) == commits and time.monotonic() < deadline:
        time.sleep(0.02)
    assert commit_count(gh) == commits + 1

    assert drain()["landed"] == 1

    assert commit_count(gh) == commits + 1  # exactly once
    assert PendingWrite.objects.get().status == "landed"
    assert Session.objects.filter(github_path=response.json()["path"]).exists()


def test_rate_limited_github_gives_202_and_waits_for_the_reset(writer: APIClient, gh: GitHubEmulator) -> None:
    gh.set_rate_limit(remaining=0, reset_in=3600)
    response = writer.post(reverse("session-list"), {"content": "# Limited\n"}, format="json")
    assert response.status_code == 202
    entry = PendingWrite.objects.get()
    assert (entry.next_attempt_at - entry.created_at).total_seconds() > 0
    assert drain()["landed"] == 0
    entry.refresh_from_db()
    # The wait the rate limit asks for is honoured, not the short backoff.
    assert (entry.next_attempt_at - entry.updated_at).total_seconds() > 3000


def test_writes_to_one_path_land_in_order(writer: APIClient, gh: GitHubEmulator) -> None:
    row = a_session("stripe-billing")
    url = reverse("session-detail", args=[row.id])
    commits = commit_count(gh)
    gh.fail_next(1000, status=500)

    first = writer.patch(url, {"status": "🔄 in progress"}, format="json", HTTP_IF_MATCH=row.github_sha)
    stale = writer.patch(url, {"status": "✅ done"}, format="json", HTTP_IF_MATCH=row.github_sha)
    second = writer.patch(url, {"status": "✅ done"}, format="json", HTTP_IF_MATCH=first.json()["sha"])

    assert (first.status_code, stale.status_code, second.status_code) == (202, 412, 202)
    assert second.json()["outbox"]["base_sha"] == first.json()["sha"]
    gh.reset_faults()
    assert drain()["landed"] == 2

    assert commit_count(gh) == commits + 2
    log = [line for line in _log_paths(gh) if line]
    assert log[:2] == [f"Update {row.github_path}"] * 2
    final = file_at(gh, row.github_path)
    assert final is not None and "status: ✅ done" in final
    assert git_blob_sha(final.encode()) == second.json()["sha"]
    row.refresh_from_db()
    assert (row.github_sha, row.state) == (second.json()["sha"], "done")


def test_a_conflict_keeps_both_versions_and_blocks_the_path_until_resolved(
    writer: APIClient, gh: GitHubEmulator
) -> None:
    row = a_session("scraper-rate-limits")
    url = reverse("session-detail", args=[row.id])
    gh.fail_next(1000, status=500)
    ours = writer.put(url, {"content": "# Ours\n\nWritten while GitHub was down.\n"}, format="json",
                      HTTP_IF_MATCH=row.github_sha)  # fmt: skip
    after = writer.patch(url, {"priority": "low"}, format="json", HTTP_IF_MATCH=ours.json()["sha"])
    assert (ours.status_code, after.status_code) == (202, 202)
    gh.reset_faults()
    theirs = b"# Theirs\n\nEdited on github.com meanwhile.\n"
    gh.commit_files({row.github_path: theirs}, message="someone else")
    commits = commit_count(gh)

    report = drain()

    assert report["conflicts"] == 1 and report["landed"] == 0
    first, second = PendingWrite.objects.order_by("id")
    assert (first.status, second.status) == ("conflict", "pending")  # the later one waits behind
    assert first.remote_sha == git_blob_sha(theirs)
    assert decrypt_text(first.content).startswith("# Ours")  # our version kept...
    assert file_at(gh, row.github_path) == theirs.decode()  # ...theirs not overwritten
    assert commit_count(gh) == commits
    assert health()["conflict"] == 1

    # The admin: discard ours, and the later write (based on ours) conflicts in its turn.
    admin = _admin_client()
    changelist = reverse("admin:sessions_app_pendingwrite_changelist")
    page = admin.get(reverse("admin:sessions_app_pendingwrite_change", args=[first.pk]))
    assert page.status_code == 200 and "Written while GitHub was down." in page.content.decode()
    admin.post(changelist, {"action": "discard", "_selected_action": [first.pk], "post": "yes"})
    first.refresh_from_db()
    assert first.status == "discarded" and decrypt_text(first.content).startswith("# Ours")
    drain()
    second.refresh_from_db()
    assert second.status == "conflict"

    # Retry writes the kept version over the GitHub version shown.
    admin.post(changelist, {"action": "retry", "_selected_action": [second.pk], "post": "yes"})
    assert drain()["landed"] == 1
    final = file_at(gh, row.github_path)
    assert final is not None and "priority: low" in final and commit_count(gh) == commits + 1
    assert health() == {"status": "ok", "pending": 0, "conflict": 0}


def test_a_queued_delete_lands_and_soft_deletes(writer: APIClient, gh: GitHubEmulator) -> None:
    row = a_session("corpus-cleanup")
    gh.fail_next(1000, status=500)
    response = writer.delete(reverse("session-detail", args=[row.id]), HTTP_IF_MATCH=row.github_sha)
    assert response.status_code == 202 and response.json()["outbox"]["operation"] == "delete"
    gh.reset_faults()
    assert drain()["landed"] == 1
    assert file_at(gh, row.github_path) is None
    row.refresh_from_db()
    assert row.deleted_at is not None


def _log_paths(gh: GitHubEmulator) -> list[str]:
    from sessions_app.tests.writes.conftest import git

    return [line.split(" (")[0] for line in git(gh, "log", "--format=%s", "main").splitlines()]


def _admin_client() -> Client:
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456789")
    client = Client()
    client.force_login(user)
    return client


def test_bad_credentials_are_a_502_not_an_outbox_entry(writer: APIClient, gh: GitHubEmulator) -> None:
    gh.fail_next(10, status=401)
    response = writer.post(reverse("session-list"), {"content": "# Refused\n"}, format="json")
    assert response.status_code == 502 and response.json()["code"] == "source_refused"
    assert gh.token not in response.content.decode()
    assert not PendingWrite.objects.exists()


def test_the_outbox_command_shows_and_drains(writer: APIClient, gh: GitHubEmulator) -> None:
    import json

    import pytest
    from django.core.management import call_command

    gh.fail_next(1000, status=500)
    assert writer.post(reverse("session-list"), {"content": "# By hand\n"}, format="json").status_code == 202
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("outbox", stdout=out)
    assert "pending 1, conflict 0" in out.getvalue() and "# By hand" not in out.getvalue()
    gh.reset_faults()
    out = StringIO()
    call_command("outbox", "--drain", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {
        "drain": {"landed": 1, "conflicts": 0, "retried": 0}, "outbox": {"pending": 0, "conflict": 0},
    }  # fmt: skip


def test_a_file_deleted_at_github_meanwhile_is_a_conflict_not_a_resurrection(
    writer: APIClient, gh: GitHubEmulator
) -> None:
    row = a_session("annotation-schema")
    gh.fail_next(1000, status=500)
    queued = writer.patch(
        reverse("session-detail", args=[row.id]),
        {"status": "done"},
        format="json",
        HTTP_IF_MATCH=row.github_sha,
    )
    assert queued.status_code == 202
    gh.reset_faults()
    gh.commit_files({row.github_path: None}, message="deleted on github.com")

    assert drain()["conflicts"] == 1

    assert file_at(gh, row.github_path) is None
    entry = PendingWrite.objects.get()
    assert (entry.status, entry.remote_sha) == ("conflict", "")
    assert "status: done" in decrypt_text(entry.content)


def test_a_replayed_queued_write_is_not_queued_twice(writer: APIClient, gh: GitHubEmulator) -> None:
    gh.fail_next(1000, status=503)
    body = {"content": "# Retried by the client\n"}
    first = writer.post(reverse("session-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    again = writer.post(reverse("session-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert PendingWrite.objects.count() == 1
    gh.reset_faults()
    assert drain()["landed"] == 1


def test_an_entry_whose_key_is_gone_stops_alone_and_the_rest_lands(
    writer: APIClient, gh: GitHubEmulator, settings: object
) -> None:
    gh.fail_next(1000, status=500)
    lost = writer.post(reverse("session-list"), {"content": "# Old key\n"}, format="json")
    assert lost.status_code == 202
    only_new = crypto.parse_keyring(crypto.generate_key("k-only"))
    settings.ANNORIS_KEYRING = only_new  # type: ignore[attr-defined]  # the old key was dropped
    kept = writer.post(reverse("session-list"), {"content": "# New key\n"}, format="json")
    assert kept.status_code == 202
    gh.reset_faults()

    report = drain()

    assert (report["landed"], report["conflicts"]) == (1, 1)
    stuck = PendingWrite.objects.get(pk=lost.json()["outbox"]["id"])
    assert stuck.status == "conflict" and "cannot be decrypted" in stuck.last_error
