"""GitHubSource against the emulator: incremental listings, reads, archive reads, writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from annoris.sources.base import (
    Source,
    SourceConflict,
    SourceFile,
    SourceNotFound,
    git_blob_sha,
    matches_glob,
)
from annoris.sources.github import GitHubSource
from annoris.sources.github_client import GitHubClient, Unauthorized
from annoris.testing.github_emulator import GitHubEmulator
from annoris.tests.conftest import SEED_FILES

SESSIONS = {p: d for p, d in SEED_FILES.items() if p.endswith(".md")}


@pytest.fixture
def make_source(make_client: Callable[..., GitHubClient]) -> Callable[..., GitHubSource]:
    def make(**kwargs: Any) -> GitHubSource:
        return GitHubSource(make_client(), **kwargs)

    return make


@pytest.fixture
def source(make_source: Callable[..., GitHubSource]) -> GitHubSource:
    return make_source()


def _shas(files: tuple[SourceFile, ...]) -> dict[str, str]:
    return {f.path: f.sha for f in files}


def test_it_implements_the_source_protocol(source: GitHubSource) -> None:
    assert isinstance(source, Source)
    assert source.repository == "acme/sessions"


def test_it_lists_the_session_files_at_the_head(source: GitHubSource, emulator: GitHubEmulator) -> None:
    listing = source.list_files()
    assert _shas(listing.files) == {p: git_blob_sha(d) for p, d in SESSIONS.items()}
    assert listing.revision == emulator.head() == source.revision
    assert not listing.not_modified
    assert listing.stats["api_calls"] == 2 and listing.stats["rate_limit_remaining"] == 4998


def test_it_lists_an_unchanged_branch_with_one_call(source: GitHubSource, emulator: GitHubEmulator) -> None:
    first = source.list_files()
    emulator.reset_calls()
    again = source.list_files()
    assert again.not_modified and again.files == first.files
    assert again.stats["api_calls"] == 1 and emulator.call_count() == 1


def test_it_reuses_persisted_state_through_the_etag(
    make_source: Callable[..., GitHubSource], emulator: GitHubEmulator
) -> None:
    first = make_source()
    listing = first.list_files()
    state = json.loads(json.dumps(first.state))  # what a caller would persist
    state["tree_sha"] = None  # force the conditional tree call instead of the SHA shortcut
    emulator.reset_calls()
    again = make_source(state=state).list_files()
    assert again.not_modified and again.files == listing.files
    assert again.stats["api_calls"] == 2
    assert emulator.calls[-1].not_modified


def test_it_reads_only_the_changed_file(source: GitHubSource, emulator: GitHubEmulator) -> None:
    before = _shas(source.list_files().files)
    emulator.commit_files({"sessions/2025-10-21.md": b"# Morning\n\nRevised.\n"}, message="revise")
    listing = source.list_files()
    changed = [f for f in listing.files if before.get(f.path) != f.sha]
    emulator.reset_calls()
    results = list(source.read_many(changed))
    assert [(f.path, data) for f, data in results] == [("sessions/2025-10-21.md", b"# Morning\n\nRevised.\n")]
    assert emulator.call_count(endpoint="blob") == 1 and emulator.call_count() == 1


def test_it_shows_deletes_and_renames(source: GitHubSource, emulator: GitHubEmulator) -> None:
    source.list_files()
    emulator.commit_files(
        {
            "README.md": None,
            "sessions/2025-10-20-evening.md": None,
            "archive/2025-10-20-evening.md": SEED_FILES["sessions/2025-10-20-evening.md"],
        },
        message="archive",
    )
    paths = {f.path for f in source.list_files().files}
    assert "README.md" not in paths and "sessions/2025-10-20-evening.md" not in paths
    assert "archive/2025-10-20-evening.md" in paths


def test_it_walks_a_truncated_tree_per_folder(source: GitHubSource, emulator: GitHubEmulator) -> None:
    emulator.commit_files({f"deep/a/b/{i}.md": b"%d\n" % i for i in range(5)}, message="deep")
    emulator.tree_limit = 3
    listing = source.list_files()
    assert listing.stats["truncated"] is True
    expected = {p: git_blob_sha(d) for p, d in SESSIONS.items()}
    expected.update({f"deep/a/b/{i}.md": git_blob_sha(b"%d\n" % i) for i in range(5)})
    assert _shas(listing.files) == expected
    assert source.state["etag"] is None  # a walked listing is not one cacheable response


def test_it_reads_a_big_batch_from_one_tarball(
    make_source: Callable[..., GitHubSource], emulator: GitHubEmulator
) -> None:
    source = make_source(archive_threshold=2)
    listing = source.list_files()
    missing = SourceFile(path="sessions/gone.md", sha=git_blob_sha(b"gone"))
    emulator.reset_calls()
    results = dict(source.read_many([*listing.files, missing]))
    assert emulator.call_count(endpoint="tarball") == 1 and emulator.call_count(endpoint="blob") == 0
    assert {f.path: data for f, data in results.items() if f is not missing} == SESSIONS
    assert isinstance(results[missing], SourceNotFound)


def test_it_yields_per_file_errors_and_raises_whole_source_ones(
    source: GitHubSource, emulator: GitHubEmulator
) -> None:
    missing = SourceFile(path="sessions/gone.md", sha=git_blob_sha(b"gone"))
    [(_, error)] = list(source.read_many([missing]))
    assert isinstance(error, SourceNotFound)
    emulator.fail_next(1, status=401, body={"message": "Bad credentials"})
    with pytest.raises(Unauthorized):
        list(source.read_many([missing]))


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        ("**/*.md", set(SESSIONS)),
        ("sessions/*.md", {"sessions/2025-10-20-evening.md", "sessions/2025-10-21.md"}),
        ("*.txt", {"notes/todo.txt"}),
    ],
)
def test_it_filters_by_glob(make_source: Callable[..., GitHubSource], glob: str, expected: set[str]) -> None:
    assert {f.path for f in make_source(glob=glob).list_files().files} == expected


def test_it_matches_top_level_files_with_a_leading_double_star() -> None:
    assert matches_glob("x.md", "**/*.md") and matches_glob("a/b/x.md", "**/*.md")
    assert not matches_glob("x.txt", "**/*.md")


def test_it_reads_by_blob_when_listed_and_by_contents_otherwise(
    source: GitHubSource, emulator: GitHubEmulator
) -> None:
    source.list_files()
    emulator.reset_calls()
    assert source.read("sessions/2025-10-21.md") == SEED_FILES["sessions/2025-10-21.md"]
    assert source.read("notes/todo.txt") == SEED_FILES["notes/todo.txt"]  # not in the *.md listing
    assert [c.endpoint for c in emulator.calls] == ["blob", "contents"]
    with pytest.raises(SourceNotFound):
        source.read("nope.md")


def test_it_writes_and_deletes_with_conflict_detection(
    source: GitHubSource, emulator: GitHubEmulator
) -> None:
    listing = source.list_files()
    sha = _shas(listing.files)["sessions/2025-10-21.md"]
    result = source.write("sessions/2025-10-21.md", b"# Edited\n", sha=sha, message="edit")
    assert result.sha == git_blob_sha(b"# Edited\n") and result.revision == emulator.head()
    assert source.read("sessions/2025-10-21.md") == b"# Edited\n"
    with pytest.raises(SourceConflict):
        source.write("sessions/2025-10-21.md", b"# Lost update\n", sha=sha, message="stale")
    deleted = source.delete("sessions/2025-10-21.md", sha=result.sha or "", message="drop")
    assert deleted.revision == emulator.head()
    assert "sessions/2025-10-21.md" not in {f.path for f in source.list_files().files}
    with pytest.raises(SourceNotFound):
        source.delete("sessions/2025-10-21.md", sha=result.sha or "", message="again")
