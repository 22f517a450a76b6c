"""POST/PUT/PATCH/DELETE /api/sessions/ against the GitHub emulator (real HTTP, real git)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import yaml
from django.urls import reverse
from rest_framework.test import APIClient

from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import IdempotencyKey, PendingWrite, Session
from sessions_app.tests.writes.conftest import a_session, commit_count, file_at, git, writes_received

LIST = "session-list"


def detail(session_id: object) -> str:
    return reverse("session-detail", args=[session_id])


def test_create_commits_to_github_and_stores_the_session(
    writer: APIClient, gh: GitHubEmulator, doc: Callable[..., str]
) -> None:
    before = commit_count(gh)
    body = {"content": doc(), "project": "Annoris", "status": "🔄 in progress", "date": "2025-11-02"}
    response = writer.post(reverse(LIST), body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["path"] == "annoris/2025-11-02-outbox-design.md"  # the layout of annoris/'s files
    assert response["ETag"] == f'"{data["sha"]}"'
    assert data["outbox"] is None
    # A real commit on main holds the document, the given fields in its front matter.
    assert commit_count(gh) == before + 1
    assert git(gh, "rev-parse", "main").strip() == data["commit"]
    written = file_at(gh, data["path"])
    assert written is not None and written.endswith(doc())
    meta = yaml.safe_load(written.split("---\n")[1])
    assert meta == {"project": "Annoris", "status": "🔄 in progress", "date": "2025-11-02"}
    # The database and the read API have it, with the state derived from the status.
    row = Session.objects.get(id=data["id"])
    assert (row.github_path, row.github_sha, row.state, row.project.name) == (
        data["path"], data["sha"], "in_progress", "Annoris",
    )  # fmt: skip
    read = writer.get(detail(data["id"]))
    assert read.status_code == 200 and read.json()["content"] == written
    listed = writer.get(reverse(LIST)).json()["results"]
    assert data["id"] in {item["id"] for item in listed}


def test_create_at_an_existing_path_is_a_409_and_overwrites_nothing(
    writer: APIClient, gh: GitHubEmulator, doc: Callable[..., str]
) -> None:
    existing = a_session("redis-strategy")
    original = file_at(gh, existing.github_path)

    response = writer.post(reverse(LIST), {"content": doc(), "path": existing.github_path}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "path_exists"
    assert file_at(gh, existing.github_path) == original
    assert writes_received(gh) == 0


def test_create_at_a_path_only_github_has_is_a_409(
    writer: APIClient, gh: GitHubEmulator, doc: Callable[..., str]
) -> None:
    gh.commit_files({"sessions/2025-11-03_pushed.md": b"# Pushed elsewhere\n"}, message="not synced yet")

    response = writer.post(
        reverse(LIST), {"content": doc(), "path": "sessions/2025-11-03_pushed.md"}, format="json"
    )

    assert response.status_code == 409
    assert file_at(gh, "sessions/2025-11-03_pushed.md") == "# Pushed elsewhere\n"


def test_bad_paths_are_refused_before_github(writer: APIClient, gh: GitHubEmulator) -> None:
    for path in (
        "../escape.md",
        "/abs.md",
        "a/../b.md",
        "notes/todo.txt",
        "a//b.md",
        ".hidden/x.md",
        "a\\b.md",
    ):
        response = writer.post(reverse(LIST), {"content": "# x\n", "path": path}, format="json")
        assert response.status_code == 422, (path, response.content)
        assert response.json()["code"] == "invalid_document"
    assert writes_received(gh) == 0


def test_a_long_unicode_title_gives_a_bounded_safe_slug(writer: APIClient, gh: GitHubEmulator) -> None:
    title = "Стратегия кэша " * 20 + "../../etc/passwd " + "x" * 300
    response = writer.post(reverse(LIST), {"content": "body\n", "title": title[:255]}, format="json")

    assert response.status_code == 201, response.content
    path = response.json()["path"]
    name = path.rsplit("/", 1)[-1]
    # No project: the repository's layout without its project folder (the repository's root).
    assert path == name and ".." not in path and len(name) <= 60 + len("YYYY-MM-DD-.md")


def test_update_needs_if_match_and_a_current_one(writer: APIClient, gh: GitHubEmulator) -> None:
    row = a_session("redis-strategy")
    url = detail(row.id)

    missing = writer.patch(url, {"status": "✅ done"}, format="json")
    stale = writer.patch(url, {"status": "✅ done"}, format="json", HTTP_IF_MATCH='"' + "0" * 40 + '"')

    assert missing.status_code == 428 and missing.json()["code"] == "precondition_required"
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    assert writes_received(gh) == 0


def test_patch_sets_front_matter_and_keeps_the_text(writer: APIClient, gh: GitHubEmulator) -> None:
    row = a_session("redis-strategy")
    before = file_at(gh, row.github_path)
    assert before is not None

    response = writer.patch(
        detail(row.id),
        {"status": "✅ done", "priority": "high"},
        format="json",
        HTTP_IF_MATCH=f'"{row.github_sha}"',
    )

    assert response.status_code == 200, response.content
    after = file_at(gh, row.github_path)
    assert after is not None and after.startswith("---\n")
    meta = yaml.safe_load(after.split("---\n")[1])
    assert meta["status"] == "✅ done" and meta["priority"] == "high"
    row.refresh_from_db()
    assert (row.github_sha, row.state, row.priority) == (response.json()["sha"], "done", "high")


def test_put_replaces_the_document_after_github_changed_is_a_412(
    writer: APIClient, gh: GitHubEmulator
) -> None:
    row = a_session("webhook-hmac")
    changed = b"# Changed on GitHub\n"
    gh.commit_files(
        {row.github_path: changed}, message="edited on github.com"
    )  # the database still has the old sha

    response = writer.put(
        detail(row.id), {"content": "# Mine\n"}, format="json", HTTP_IF_MATCH=row.github_sha
    )

    assert response.status_code == 412
    assert file_at(gh, row.github_path) == changed.decode()


def test_put_then_read_then_put_again(writer: APIClient, gh: GitHubEmulator) -> None:
    row = a_session("webhook-hmac")
    first = writer.put(detail(row.id), {"content": "# One\n"}, format="json", HTTP_IF_MATCH=row.github_sha)
    assert first.status_code == 200, first.content
    etag = writer.get(detail(row.id))["ETag"]

    second = writer.put(detail(row.id), {"content": "# Two\n"}, format="json", HTTP_IF_MATCH=etag)

    assert second.status_code == 200, second.content
    # This sample's id comes from its front matter: a PUT without it keeps it, so the id holds.
    assert file_at(gh, row.github_path) == f"---\nid: {row.id}\n---\n# Two\n"
    assert Session.objects.get(id=row.id).text == f"---\nid: {row.id}\n---\n# Two\n"
    changed_id = writer.put(
        detail(row.id), {"content": f"---\nid: {uuid.uuid4()}\n---\n# Three\n"}, format="json",
        HTTP_IF_MATCH=second.json()["sha"],
    )  # fmt: skip
    assert changed_id.status_code == 422


def test_delete_removes_the_file_and_soft_deletes(writer: APIClient, gh: GitHubEmulator) -> None:
    row = a_session("onboarding-emails")

    response = writer.delete(detail(row.id), HTTP_IF_MATCH=row.github_sha)

    assert response.status_code == 204
    assert file_at(gh, row.github_path) is None
    row.refresh_from_db()
    assert row.deleted_at is not None
    assert writer.get(detail(row.id)).status_code == 404
    assert writer.delete(detail(row.id), HTTP_IF_MATCH=row.github_sha).status_code == 404


def test_delete_needs_if_match(writer: APIClient, gh: GitHubEmulator) -> None:
    row = a_session("onboarding-emails")
    assert writer.delete(detail(row.id)).status_code == 428
    assert writer.delete(detail(row.id), HTTP_IF_MATCH="f" * 40).status_code == 412
    assert file_at(gh, row.github_path) is not None


def test_unknown_session_is_a_404(writer: APIClient, gh: GitHubEmulator) -> None:
    response = writer.patch(detail(uuid.uuid4()), {"status": "x"}, format="json", HTTP_IF_MATCH="a" * 40)
    assert response.status_code == 404


def test_idempotency_key_replay_creates_nothing(
    writer: APIClient, gh: GitHubEmulator, doc: Callable[..., str]
) -> None:
    body = {"content": doc("Replayed"), "project": "annoris"}
    first = writer.post(reverse(LIST), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    commits = commit_count(gh)
    rows = Session.objects.count()

    again = writer.post(reverse(LIST), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = writer.post(reverse(LIST), {**body, "status": "done"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert (commit_count(gh), Session.objects.count()) == (commits, rows)
    assert gh.call_count("PUT") == 1


def test_idempotency_keys_are_per_user(
    writer: APIClient, gh: GitHubEmulator, doc: Callable[..., str]
) -> None:
    from sessions_app.tests.writes.conftest import make_writer

    other = make_writer("someone-else")
    first = writer.post(reverse(LIST), {"content": doc("Mine")}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    second = other.post(reverse(LIST), {"content": doc("Theirs")}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert (first.status_code, second.status_code) == (201, 201)
    assert IdempotencyKey.objects.filter(key="same").count() == 2


def test_a_refused_request_releases_its_idempotency_key(writer: APIClient, gh: GitHubEmulator) -> None:
    leaked = "# Notes\n\ntoken ghp_" + "a1B2" * 9 + "\n"
    refused = writer.post(reverse(LIST), {"content": leaked}, format="json", HTTP_IDEMPOTENCY_KEY="fix-me")
    fixed = writer.post(
        reverse(LIST), {"content": "# Notes\n\ntoken ghp_***\n"}, format="json", HTTP_IDEMPOTENCY_KEY="fix-me"
    )
    assert (refused.status_code, fixed.status_code) == (422, 201)


def test_invalid_bodies_are_4xx(writer: APIClient, gh: GitHubEmulator) -> None:
    cases = [
        {},
        {"content": ""},
        {"content": "x\x00y"},
        {"content": "# x\n", "date": "not a date"},
        {"content": "# x\n", "status": "s" * 101},
    ]
    for body in cases:
        response = writer.post(reverse(LIST), body, format="json")
        assert response.status_code == 400, (body, response.content)
    bad_yaml = writer.post(reverse(LIST), {"content": "---\n[oops\n---\n# x\n"}, format="json")
    assert bad_yaml.status_code == 422 and "YAML" in bad_yaml.json()["detail"]
    empty_patch = writer.patch(detail(a_session().id), {}, format="json", HTTP_IF_MATCH="a" * 40)
    assert empty_patch.status_code == 400
    assert writes_received(gh) == 0


def test_anonymous_cannot_write(gh: GitHubEmulator, doc: Callable[..., str]) -> None:
    response = APIClient().post(reverse(LIST), {"content": doc()}, format="json")
    assert response.status_code in (401, 403)
    assert writes_received(gh) == 0


def test_pending_writes_model_is_empty_after_direct_writes(
    writer: APIClient, gh: GitHubEmulator, doc: Callable[..., str]
) -> None:
    assert writer.post(reverse(LIST), {"content": doc()}, format="json").status_code == 201
    assert not PendingWrite.objects.exists()


def test_an_update_of_a_file_deleted_at_github_is_a_412_not_a_resurrection(
    writer: APIClient, gh: GitHubEmulator
) -> None:
    row = a_session("webhook-hmac")
    gh.commit_files({row.github_path: None}, message="deleted on github.com")  # not synced yet
    response = writer.put(
        detail(row.id), {"content": "# Back?\n"}, format="json", HTTP_IF_MATCH=row.github_sha
    )
    assert response.status_code == 412
    assert file_at(gh, row.github_path) is None
