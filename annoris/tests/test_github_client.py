"""GitHubClient against the emulator over real HTTP: shapes, retries, limits, errors."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from annoris.sources.base import SourceConflict, SourceUnavailable, git_blob_sha
from annoris.sources.github_client import (
    Conflict,
    GitHubClient,
    NotFound,
    NotModified,
    RateLimited,
    Tree,
    Unauthorized,
    Unavailable,
)
from annoris.testing.github_emulator import GitHubEmulator
from annoris.tests.conftest import SEED_FILES

BRANCH_PATH = "/repos/acme/sessions/branches/main"


def test_it_sends_githubs_headers(client: GitHubClient, emulator: GitHubEmulator) -> None:
    client.get_branch("main")
    headers = emulator.calls[-1].headers
    assert headers["authorization"] == "Bearer test-token"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["user-agent"] == "Annoris"


def test_it_round_trips_branch_tree_and_blobs_with_git_shas(
    client: GitHubClient, emulator: GitHubEmulator, tmp_path: Path
) -> None:
    branch = client.get_branch("main")
    assert branch.commit_sha == emulator.head()
    tree = client.get_tree(branch.tree_sha, recursive=True)
    assert isinstance(tree, Tree) and not tree.truncated
    blobs = {e.path: e for e in tree.entries if e.type == "blob"}
    assert set(blobs) == set(SEED_FILES)
    for path, data in SEED_FILES.items():
        assert blobs[path].sha == git_blob_sha(data)
        assert blobs[path].size == len(data)
        assert client.get_blob(blobs[path].sha) == data
    on_disk = tmp_path / "one.md"
    on_disk.write_bytes(SEED_FILES["sessions/2025-10-21.md"])
    hashed = subprocess.run(
        ["git", "hash-object", "--no-filters", str(on_disk)], capture_output=True, check=True
    )
    assert blobs["sessions/2025-10-21.md"].sha == hashed.stdout.decode().strip()


def test_it_reads_contents_and_streams_the_tarball(client: GitHubClient) -> None:
    path = "projects/annoris/2025-10-22-sync.md"
    found = client.get_contents(path, ref="main")
    assert (found.path, found.sha, found.content) == (path, git_blob_sha(SEED_FILES[path]), SEED_FILES[path])
    assert dict(client.iter_tarball("main")) == SEED_FILES
    assert client.calls_by_endpoint["tarball"] == 2  # the 302, then the archive it points to


def test_it_gets_a_free_304_for_a_matching_etag(client: GitHubClient, emulator: GitHubEmulator) -> None:
    branch = client.get_branch("main")
    first = client.get_tree(branch.tree_sha, recursive=True)
    assert isinstance(first, Tree) and first.etag
    remaining = client.rate_limit.remaining
    again = client.get_tree(branch.tree_sha, recursive=True, etag=first.etag)
    assert isinstance(again, NotModified)
    assert client.rate_limit.remaining == remaining  # GitHub does not charge a 304
    assert emulator.calls[-1].not_modified


def test_it_retries_server_errors_then_succeeds(client: GitHubClient, emulator: GitHubEmulator) -> None:
    emulator.fail_next(2, status=502)
    assert client.get_branch("main").commit_sha == emulator.head()
    assert emulator.call_count(endpoint="branch") == 3
    assert client.calls == 3


def test_it_gives_up_on_persistent_server_errors_in_bounded_time(
    client: GitHubClient, emulator: GitHubEmulator
) -> None:
    emulator.fail_next(100, status=500)
    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        client.get_branch("main")
    assert time.monotonic() - started < 2
    assert (
        "HTTP 500" in str(caught.value)
        and BRANCH_PATH in str(caught.value)
        and "4 attempt" in str(caught.value)
    )
    assert isinstance(caught.value, SourceUnavailable)


@pytest.mark.parametrize("status", [429, 403])
def test_it_waits_out_retry_after(make_client: Callable, emulator: GitHubEmulator, status: int) -> None:
    waits: list[float] = []
    client = make_client(sleep=waits.append, max_wait=60.0)  # records the wait, sleeps none of it
    emulator.fail_next(1, status=status, retry_after=7, body={"message": "slow down"})
    client.get_branch("main")
    assert waits == [7.0]
    assert emulator.call_count(endpoint="branch") == 2


def test_it_waits_for_an_exhausted_limit_to_reset(make_client: Callable, emulator: GitHubEmulator) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # time passes for the emulator: its window refills
        waits.append(seconds)
        emulator.set_rate_limit(emulator.rate_limit)

    client = make_client(sleep=sleep, max_wait=60.0)
    emulator.set_rate_limit(0, reset_in=30)
    client.get_branch("main")
    assert len(waits) == 1 and 28 <= waits[0] <= 32  # until the reset the headers announced
    assert client.rate_limit.remaining == client.rate_limit.limit - 1


def test_it_raises_rate_limited_when_the_wait_exceeds_max_wait(
    client: GitHubClient, emulator: GitHubEmulator
) -> None:
    emulator.set_rate_limit(0, reset_in=120)
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        client.get_branch("main")
    assert time.monotonic() - started < 1
    assert 100 < caught.value.retry_after <= 122
    assert client.rate_limit.remaining == 0


def test_it_treats_a_secondary_limit_without_retry_after_as_a_minute(
    client: GitHubClient, emulator: GitHubEmulator
) -> None:
    emulator.secondary_limit(1, retry_after=None)
    with pytest.raises(RateLimited) as caught:
        client.get_branch("main")
    assert caught.value.retry_after == 60
    emulator.secondary_limit(1, retry_after=0)
    assert client.get_branch("main").commit_sha == emulator.head()


def test_it_raises_unauthorized_on_401_without_leaking_the_token(
    make_client: Callable[..., GitHubClient], emulator: GitHubEmulator
) -> None:
    secret = "ghp_s3cretTokenValue"
    client = make_client(token=secret)
    with pytest.raises(Unauthorized) as caught:
        client.get_branch("main")
    assert str(caught.value) == (
        f"GitHub rejected the token (401) for GET {BRANCH_PATH}: GitHub says 'Bad credentials'. "
        "Check the token (GITHUB_TOKEN): it is wrong, expired or revoked "
        "(see https://docs.github.com/rest/branches/branches#get-a-branch)"
    )
    assert secret not in repr(caught.value) and secret not in repr(client)
    assert emulator.call_count() == 1  # not retried


def test_it_raises_unauthorized_on_a_permission_403(client: GitHubClient, emulator: GitHubEmulator) -> None:
    emulator.fail_next(1, status=403, body={"message": "Resource not accessible by integration"})
    with pytest.raises(Unauthorized, match="Resource not accessible"):
        client.get_branch("main")
    assert emulator.call_count() == 1


def test_it_gives_up_on_a_hanging_server_after_the_read_timeout(
    make_client: Callable[..., GitHubClient], emulator: GitHubEmulator
) -> None:
    client = make_client(timeout=(1.0, 0.3), max_retries=1)
    emulator.hang(None)
    started = time.monotonic()
    with pytest.raises(Unavailable, match="ReadTimeout"):
        client.get_branch("main")
    assert time.monotonic() - started < 1.5
    emulator.release()


def test_it_does_not_retry_a_write_that_timed_out(
    make_client: Callable[..., GitHubClient], emulator: GitHubEmulator
) -> None:
    client = make_client(timeout=(1.0, 0.3))
    emulator.hang(0.5, path_prefix="/repos/acme/sessions/contents")
    with pytest.raises(Unavailable):
        client.put_contents("new.md", content=b"x", message="m", sha=None, branch="main")
    emulator.release()
    assert emulator.call_count(method="PUT") == 1


def test_it_reports_a_stale_sha_as_conflict_and_leaves_the_file(
    client: GitHubClient, emulator: GitHubEmulator
) -> None:
    head = emulator.head()
    stale = git_blob_sha(b"an older version\n")
    with pytest.raises(Conflict) as caught:
        client.put_contents("README.md", content=b"mine\n", message="edit", sha=stale, branch="main")
    assert isinstance(caught.value, SourceConflict) and caught.value.status == 409
    assert emulator.head() == head
    assert client.get_contents("README.md", ref="main").content == SEED_FILES["README.md"]


def test_it_creates_updates_and_deletes_files(client: GitHubClient, emulator: GitHubEmulator) -> None:
    blob, commit = client.put_contents(
        "sessions/new.md", content=b"# New\n", message="add", sha=None, branch="main"
    )
    assert blob == git_blob_sha(b"# New\n") and commit == emulator.head()
    with pytest.raises(Conflict, match="sha"):  # 422: creating over an existing file needs its sha
        client.put_contents("sessions/new.md", content=b"again", message="add", sha=None, branch="main")
    blob2, _ = client.put_contents(
        "sessions/new.md", content=b"# New 2\n", message="edit", sha=blob, branch="main"
    )
    commit3 = client.delete_contents("sessions/new.md", sha=blob2, message="drop", branch="main")
    assert commit3 == emulator.head()
    with pytest.raises(NotFound):
        client.get_contents("sessions/new.md", ref="main")


def test_it_counts_calls_and_records_the_rate_limit(client: GitHubClient) -> None:
    client.get_branch("main")
    client.get_contents("README.md", ref="main")
    assert client.calls == 2
    assert client.calls_by_endpoint == {"branch": 1, "contents": 1}
    assert client.rate_limit.limit == 5000 and client.rate_limit.remaining == 4998
    assert client.rate_limit.resource == "core" and client.rate_limit.reset
