"""The sync engine with GitHub as the source, against the emulator over HTTP.

Each run builds a new GitHubSource (as a new worker process would), so whatever a run
saves for the next one goes through SyncState.source_state in the database.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings as SettingsWrapper

from annoris.sources.base import SourceConflict
from annoris.sources.github import GitHubSource
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import Session
from sync_app.engine import run_sync
from sync_app.models import SyncLog, SyncState
from sync_app.tests.conftest import sample_files

pytestmark = pytest.mark.django_db(transaction=True)

MakeSource = Callable[..., GitHubSource]
SAMPLES = sample_files()
CHANGED = "lingua-drift/2025-08-27-annotation-schema.md"


def sync(make_source: MakeSource, **kwargs: object) -> SyncLog:
    """One run with a fresh source object; returns its SyncLog."""
    result = run_sync(source=make_source(**kwargs))
    assert result is not None
    return SyncLog.objects.get(pk=result.log_id)


def test_it_syncs_the_repository_through_the_configured_source(github: GitHubEmulator) -> None:
    result = run_sync()  # get_source() from settings: SESSIONS_SOURCE=github, GITHUB_API_URL=emulator
    assert result is not None and result.status == "success"
    assert result.counts["added"] == len(SAMPLES) == Session.objects.live().count()
    assert result.revision == github.head()
    assert result.stats["api_calls"] == 2 + len(SAMPLES)  # branch, tree, one blob per file
    assert result.stats["api_calls_by_endpoint"] == {"branch": 1, "tree": 1, "blob": len(SAMPLES)}
    assert SyncState.objects.get().last_revision == github.head()


def test_it_reads_only_the_changed_blobs(make_source: MakeSource, emulator: GitHubEmulator) -> None:
    sync(make_source)
    emulator.commit_files(
        {CHANGED: SAMPLES[CHANGED] + b"\n## Update\nNew section.\n", "annoris/2025-10-25-new.md": b"# New\n"}
    )
    emulator.reset_calls()
    log = sync(make_source)
    assert emulator.call_count(endpoint="blob") == 2
    assert emulator.call_count() == 4  # branch + tree + 2 blobs
    assert (log.details["counts"]["updated"], log.details["counts"]["added"]) == (1, 1)
    assert log.details["counts"]["unchanged"] == len(SAMPLES) - 1
    assert "New section." in Session.objects.get(github_path=CHANGED).text


def test_it_costs_one_call_when_nothing_changed(make_source: MakeSource, emulator: GitHubEmulator) -> None:
    sync(make_source)
    emulator.reset_calls()
    log = sync(make_source)
    assert emulator.call_count() == 1 and emulator.call_count(endpoint="branch") == 1
    assert log.details["api_calls"] == 1 and log.files_synced == 0
    emulator.commit_files({}, message="An empty commit: a new head, the same tree")
    emulator.reset_calls()
    assert sync(make_source).revision == emulator.head()
    assert emulator.call_count() == 1


def test_it_costs_at_most_two_conditional_calls_without_the_tree_shortcut(
    make_source: MakeSource, emulator: GitHubEmulator
) -> None:
    sync(make_source)
    state = SyncState.objects.get()
    state.source_state["tree_sha"] = None  # only the ETag is left to tell that nothing changed
    state.save()
    emulator.reset_calls()
    log = sync(make_source)
    assert emulator.call_count() == 2
    assert emulator.calls[-1].endpoint == "tree" and emulator.calls[-1].not_modified
    assert log.details["counts"]["unchanged"] == len(SAMPLES) and log.files_synced == 0


def test_it_follows_deletions_and_renames(make_source: MakeSource, emulator: GitHubEmulator) -> None:
    sync(make_source)
    hmac_id = Session.objects.get(github_path="annoris/2025-10-22-webhook-hmac.md").id
    emulator.commit_files(
        {
            "lingua-drift/2025-08-23-corpus-cleanup.md": None,
            "pricewise/2025-09-18-scraper-rate-limits.md": None,
            "pricewise/archive/2025-09-18-scraper-rate-limits.md": SAMPLES[
                "pricewise/2025-09-18-scraper-rate-limits.md"
            ],
            "annoris/2025-10-22-webhook-hmac.md": None,  # keeps its front matter id
            "annoris/security/webhook-hmac.md": SAMPLES["annoris/2025-10-22-webhook-hmac.md"],
        },
        message="Archive, rename, delete",
    )
    log = sync(make_source)
    assert log.status == "success"
    live = set(Session.objects.live().values_list("github_path", flat=True))
    assert "lingua-drift/2025-08-23-corpus-cleanup.md" not in live
    assert "pricewise/archive/2025-09-18-scraper-rate-limits.md" in live
    assert "pricewise/2025-09-18-scraper-rate-limits.md" not in live
    assert Session.objects.get(pk=hmac_id).github_path == "annoris/security/webhook-hmac.md"
    assert Session.objects.deleted().filter(github_path__startswith="lingua-drift/").count() == 1
    assert len(live) == len(SAMPLES) - 1


def test_it_walks_a_truncated_tree(make_source: MakeSource, emulator: GitHubEmulator) -> None:
    emulator.tree_limit = 3  # GitHub truncates big recursive trees; here, above 3 entries
    log = sync(make_source)
    assert log.status == "success" and log.files_synced == len(SAMPLES)
    assert set(Session.objects.values_list("github_path", flat=True)) == set(SAMPLES)
    assert emulator.call_count(endpoint="tree") == 1 + 4  # the truncated one, then root + 3 folders


def test_it_waits_out_a_secondary_rate_limit(github: GitHubEmulator) -> None:
    github.secondary_limit(1, retry_after=1)  # 403 with Retry-After: 1 on the first call
    started = time.monotonic()
    result = run_sync()
    assert result is not None and result.status == "success"
    assert time.monotonic() - started >= 1.0
    assert [c.status for c in github.calls[:2]] == [403, 200]


def test_it_waits_for_an_exhausted_primary_limit_to_reset(
    make_source: MakeSource, emulator: GitHubEmulator
) -> None:
    emulator.set_rate_limit(remaining=0, reset_in=1)
    log = sync(make_source)
    assert log.status == "success" and log.files_synced == len(SAMPLES)
    assert emulator.calls[0].status == 403


def test_it_retries_server_errors(make_source: MakeSource, emulator: GitHubEmulator) -> None:
    emulator.fail_next(2, status=500)
    emulator.fail_next(1, status=502, path_prefix="/repos/acme/sessions/git/blobs/")
    log = sync(make_source)
    assert log.status == "success" and log.files_synced == len(SAMPLES)
    assert sorted(c.status for c in emulator.calls if c.status >= 500) == [500, 500, 502]


def test_a_file_github_would_not_serve_is_read_again_by_the_next_run(
    make_source: MakeSource, emulator: GitHubEmulator
) -> None:
    """A read error says nothing about the file's content: it is not remembered as a bad file."""
    sync(make_source)
    emulator.commit_files({CHANGED: SAMPLES[CHANGED] + b"\n## Update\nNew section.\n"})
    emulator.fail_next(1, status=404, path_prefix="/repos/acme/sessions/git/blobs/")  # a blob not served
    first = sync(make_source)
    assert first.status == "partial" and [e["path"] for e in first.details["errors"]] == [CHANGED]
    emulator.reset_faults()
    second = sync(make_source)  # the file did not change, and is read again all the same
    assert second.status == "success" and second.details["counts"]["updated"] == 1
    assert "New section." in Session.objects.get(github_path=CHANGED).text


def test_it_records_a_failed_run_when_github_stays_down(
    make_source: MakeSource, emulator: GitHubEmulator
) -> None:
    emulator.fail_next(10, status=503)
    log = sync(make_source, max_retries=2)
    assert (log.status, log.errors) == ("failed", 1)
    assert "GitHub unavailable" in log.details["error"] and "503" in log.details["error"]


def test_it_fails_clearly_on_a_bad_token(github: GitHubEmulator, settings: SettingsWrapper) -> None:
    settings.GITHUB_TOKEN = "ghp_not-the-right-token"
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="rejected the token") as raised:
        call_command("sync_github", stdout=out, stderr=err)
    assert raised.value.returncode == 2
    log = SyncLog.objects.get()
    assert log.status == "failed"
    assert "GitHub rejected the token (401)" in log.details["error"]
    assert "ghp_not-the-right-token" not in json.dumps(log.details) + out.getvalue() + str(raised.value)
    assert not Session.objects.exists()


def test_it_prints_api_calls_and_the_rate_limit_left(github: GitHubEmulator) -> None:
    first, second = io.StringIO(), io.StringIO()
    call_command("sync_github", stdout=first)
    call_command("sync_github", stdout=second)
    calls = 2 + len(SAMPLES)  # branch, tree, one blob per file; then one branch call
    assert f"GitHub API calls: {calls}; rate limit left: {5000 - calls}" in first.getvalue()
    assert f"GitHub API calls: 1; rate limit left: {5000 - calls - 1}" in second.getvalue()
    assert f"{len(SAMPLES)} unchanged" in second.getvalue()


def test_it_turns_a_write_with_a_stale_sha_into_a_conflict(
    make_source: MakeSource, emulator: GitHubEmulator
) -> None:
    sync(make_source)
    known = Session.objects.get(github_path=CHANGED).github_sha
    theirs = SAMPLES[CHANGED] + b"\nEdited on GitHub meanwhile.\n"
    emulator.commit_files({CHANGED: theirs}, message="Someone else's edit")
    with pytest.raises(SourceConflict):
        make_source().write(CHANGED, b"# Ours\n", sha=known, message="Our edit, from an old copy")
    assert emulator.repo.read_object(_blob_sha(emulator, CHANGED)) == ("blob", theirs)


def _blob_sha(emulator: GitHubEmulator, path: str) -> str:
    info = emulator.repo.commit_info(emulator.head() or "")
    assert info is not None
    return emulator.repo.path_index(info.tree)[path].sha
