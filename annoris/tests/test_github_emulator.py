"""The GitHub emulator speaks GitHub's shapes and rules (GITHUB.md), over raw HTTP."""

from __future__ import annotations

import base64
import io
import tarfile
import time
from pathlib import Path

import pytest
import requests

from annoris.sources.base import git_blob_sha
from annoris.testing.github_emulator import GitHubEmulator
from annoris.tests.conftest import SEED_FILES

REPO = "/repos/acme/sessions"


@pytest.fixture
def http(emulator: GitHubEmulator) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.headers.update({"Authorization": "Bearer test-token", "User-Agent": "tests"})
    return session


def get(http: requests.Session, emu: GitHubEmulator, path: str, **kwargs: object) -> requests.Response:
    return http.get(emu.base_url + path, timeout=5, **kwargs)  # type: ignore[arg-type]


def test_it_serves_branch_ref_and_commit_shapes(http: requests.Session, emulator: GitHubEmulator) -> None:
    branch = get(http, emulator, f"{REPO}/branches/main").json()
    assert {"name", "commit", "_links", "protected", "protection", "protection_url"} <= set(branch)
    assert branch["commit"]["sha"] == emulator.head()
    tree_sha = branch["commit"]["commit"]["tree"]["sha"]
    ref = get(http, emulator, f"{REPO}/git/ref/heads/main").json()
    assert {"ref", "node_id", "url", "object"} <= set(ref) and ref["object"]["sha"] == emulator.head()
    commit = get(http, emulator, f"{REPO}/git/commits/{emulator.head()}").json()
    assert {"sha", "tree", "parents", "message", "author", "committer", "verification"} <= set(commit)
    assert commit["tree"]["sha"] == tree_sha and commit["message"] == "Seed sessions"


def test_it_serves_trees_like_github(http: requests.Session, emulator: GitHubEmulator) -> None:
    top = get(http, emulator, f"{REPO}/git/trees/main").json()
    assert set(top) == {"sha", "url", "tree", "truncated"}
    assert {e["path"] for e in top["tree"]} == {"README.md", "sessions", "projects", "notes"}
    folder = next(e for e in top["tree"] if e["type"] == "tree")
    assert folder["mode"] == "040000" and "size" not in folder
    deep = get(
        http, emulator, f"{REPO}/git/trees/main", params={"recursive": "0"}
    ).json()  # any value recurses
    blobs = {e["path"]: e for e in deep["tree"] if e["type"] == "blob"}
    assert {p: e["sha"] for p, e in blobs.items()} == {p: git_blob_sha(d) for p, d in SEED_FILES.items()}
    assert set(blobs["README.md"]) == {"path", "mode", "type", "sha", "size", "url"}
    emulator.tree_limit = 2
    cut = get(http, emulator, f"{REPO}/git/trees/{deep['sha']}", params={"recursive": "1"}).json()
    assert cut["truncated"] is True and len(cut["tree"]) == 2


def test_it_serves_blobs_and_contents_in_wrapped_base64(
    http: requests.Session, emulator: GitHubEmulator
) -> None:
    data = b"x" * 200
    emulator.commit_files({"long.md": data})
    blob = get(http, emulator, f"{REPO}/git/blobs/{git_blob_sha(data)}").json()
    assert set(blob) == {"sha", "node_id", "size", "url", "content", "encoding"}
    assert all(len(line) <= 60 for line in blob["content"].splitlines()) and "\n" in blob["content"]
    assert base64.b64decode(blob["content"]) == data
    item = get(http, emulator, f"{REPO}/contents/long.md", params={"ref": "main"}).json()
    expected = {"type", "encoding", "size", "name", "path", "content", "sha", "url", "git_url", "html_url"}
    assert expected | {"download_url", "_links"} <= set(item) and item["sha"] == git_blob_sha(data)
    listing = get(http, emulator, f"{REPO}/contents/sessions").json()
    assert sorted(e["name"] for e in listing) == ["2025-10-20-evening.md", "2025-10-21.md"]


def test_it_writes_contents_as_real_commits(http: requests.Session, emulator: GitHubEmulator) -> None:
    url = f"{emulator.base_url}{REPO}/contents/new.md"
    body = {"message": "add", "content": base64.b64encode(b"hi\n").decode()}
    created = http.put(url, json=body, timeout=5)
    assert created.status_code == 201 and set(created.json()) == {"content", "commit"}
    assert created.json()["commit"]["sha"] == emulator.head()
    assert http.put(url, json=body, timeout=5).status_code == 422  # exists, no sha
    assert http.put(url, json={**body, "sha": "0" * 40}, timeout=5).status_code == 409
    gone = http.delete(url, json={"message": "rm", "sha": git_blob_sha(b"hi\n")}, timeout=5)
    assert gone.status_code == 200 and gone.json()["content"] is None
    assert http.delete(url, json={"message": "rm", "sha": "0" * 40}, timeout=5).status_code == 404


def test_it_redirects_tarballs_to_a_real_git_archive(
    http: requests.Session, emulator: GitHubEmulator
) -> None:
    first = get(http, emulator, f"{REPO}/tarball/main", allow_redirects=False)
    assert first.status_code == 302 and "/_codeload/" in first.headers["location"]
    archive = tarfile.open(fileobj=io.BytesIO(get(http, emulator, f"{REPO}/tarball/main").content))
    names = {m.name for m in archive.getmembers() if m.isfile()}
    prefix = f"acme-sessions-{emulator.head()[:7]}/"  # type: ignore[index]
    assert names == {prefix + p for p in SEED_FILES}


def test_it_enforces_user_agent_and_credentials(emulator: GitHubEmulator) -> None:
    url = f"{emulator.base_url}{REPO}/branches/main"
    assert (
        requests.get(url, headers={"User-Agent": "", "Authorization": "token test-token"}).status_code == 403
    )
    bad = requests.get(url, headers={"User-Agent": "t", "Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["message"] == "Bad credentials"
    assert (
        requests.get(url, headers={"User-Agent": "t", "Authorization": "token test-token"}).status_code == 200
    )
    assert requests.get(url, headers={"User-Agent": "t"}).status_code == 404  # private repo hidden


def test_it_charges_the_rate_limit_but_not_304s(http: requests.Session, emulator: GitHubEmulator) -> None:
    first = get(http, emulator, f"{REPO}/branches/main")
    assert first.headers["etag"].startswith('"') and first.headers["x-ratelimit-resource"] == "core"
    remaining = int(first.headers["x-ratelimit-remaining"])
    again = get(http, emulator, f"{REPO}/branches/main", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and int(again.headers["x-ratelimit-remaining"]) == remaining
    assert emulator.call_count(endpoint="branch") == 2 and emulator.call_count(include_304=False) == 1
    emulator.set_rate_limit(0, reset_in=60)
    refused = get(http, emulator, f"{REPO}/branches/main")
    assert refused.status_code == 403 and refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.json()["message"].startswith("API rate limit exceeded")
    limits = get(http, emulator, "/rate_limit").json()
    assert limits["resources"]["core"]["remaining"] == 0 and limits["rate"]["limit"] == 5000


def test_it_injects_faults_per_path(http: requests.Session, emulator: GitHubEmulator) -> None:
    emulator.fail_next(1, status=503, retry_after=2, path_prefix=f"{REPO}/git/")
    assert get(http, emulator, f"{REPO}/branches/main").status_code == 200
    hit = get(http, emulator, f"{REPO}/git/ref/heads/main")
    assert hit.status_code == 503 and hit.headers["retry-after"] == "2"
    emulator.secondary_limit(1, retry_after=1)
    limited = get(http, emulator, f"{REPO}/branches/main")
    assert limited.status_code == 403 and "secondary rate limit" in limited.json()["message"]
    emulator.slow(0.2)
    started = time.monotonic()
    get(http, emulator, f"{REPO}/branches/main")
    assert time.monotonic() - started >= 0.2
    emulator.reset_faults()
    assert [c.status for c in emulator.calls] == [200, 503, 403, 200]
    emulator.reset_calls()
    assert emulator.call_count() == 0


def test_it_builds_and_lists_a_ten_thousand_file_repo_quickly(tmp_path: Path) -> None:
    files = {f"sessions/{i % 50:02d}/{i:05d}.md": (b"%05d " % i) * 850 for i in range(10_000)}  # ~5 KB each
    with GitHubEmulator(tmp_path / "big") as emu:
        started = time.monotonic()
        emu.commit_files(files, message="big")
        built = time.monotonic() - started
        http = requests.Session()
        http.trust_env = False
        http.headers.update({"Authorization": "Bearer test-token", "User-Agent": "tests"})
        started = time.monotonic()
        tree = http.get(f"{emu.base_url}{REPO}/git/trees/main?recursive=1", timeout=10).json()
        listed = time.monotonic() - started
    assert sum(e["type"] == "blob" for e in tree["tree"]) == 10_000
    assert built < 10 and listed < 3, (built, listed)
