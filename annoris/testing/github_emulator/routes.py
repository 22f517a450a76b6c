"""The emulated endpoints: URL patterns and one handler per endpoint.

Handlers see an authenticated, rate-limited request and return a Reply; auth,
faults, ETags and rate-limit headers are applied around them in ``app.py``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from annoris.testing.github_emulator import shapes
from annoris.testing.github_emulator.gitrepo import SHA_RE

if TYPE_CHECKING:
    from annoris.testing.github_emulator.server import GitHubEmulator

ONE_MB = 1024 * 1024


@dataclass
class Request:
    method: str
    path: str  # percent-decoded, without the query
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""


@dataclass
class Reply:
    status: int
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: object, **headers: str) -> Reply:
        body = json.dumps(data).encode()
        return cls(status, body, {"content-type": "application/json; charset=utf-8", **headers})

    @classmethod
    def error(cls, status: int, message: str, **headers: str) -> Reply:
        return cls.json(status, shapes.error(message, status), **headers)


Handler = Callable[["GitHubEmulator", Request, dict[str, str]], Reply]
_REPO = r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
_CODELOAD = r"^/_codeload/(?P<owner>[^/]+)/(?P<repo>[^/]+)/legacy\.tar\.gz/(?P<sha>[0-9a-f]{40})$"


def not_found() -> Reply:
    return Reply.error(404, "Not Found")


def _commit_for(emu: GitHubEmulator, ref: str | None) -> str | None:
    return emu.repo.resolve(ref or f"refs/heads/{emu.branch}")


def get_branch(emu: GitHubEmulator, req: Request, p: dict[str, str]) -> Reply:
    sha = emu.repo.resolve(f"refs/heads/{p['branch']}")
    info = emu.repo.commit_info(sha) if sha else None
    if info is None:
        return Reply.error(404, "Branch not found")
    return Reply.json(200, shapes.branch(emu.urls, p["branch"], info))


def get_ref(emu: GitHubEmulator, req: Request, p: dict[str, str]) -> Reply:
    sha = emu.repo.resolve(f"refs/{p['ref']}") if p["ref"].startswith("heads/") else None
    return Reply.json(200, shapes.git_ref(emu.urls, f"refs/{p['ref']}", sha)) if sha else not_found()


def get_commit(emu: GitHubEmulator, req: Request, p: dict[str, str]) -> Reply:
    info = emu.repo.commit_info(p["sha"])
    return Reply.json(200, shapes.git_commit(emu.urls, info)) if info else not_found()


def list_commits(emu: GitHubEmulator, req: Request, p: dict[str, str]) -> Reply:
    """GET /commits?sha=&path=&since=&per_page=: commits newest first (GITHUB.md: commits)."""
    ref = req.query.get("sha") or emu.branch
    commit = emu.repo.resolve(ref) if SHA_RE.match(ref) else _commit_for(emu, f"refs/heads/{ref}")
    if commit is None:
        return Reply.error(404, f"No commit found for SHA: {ref}")
    try:
        per_page = min(max(int(req.query.get("per_page") or 30), 1), 100)
    except ValueError:
        per_page = 30
    shas = emu.repo.log(
        commit, path=req.query.get("path") or None, since=req.query.get("since"), limit=per_page
    )
    infos = [emu.repo.commit_info(sha) for sha in shas]
    return Reply.json(200, [shapes.commit_item(emu.urls, info) for info in infos if info is not None])


def _tree_sha(emu: GitHubEmulator, ref: str) -> str | None:
    """A tree SHA, a commit SHA or a branch name, resolved to a tree SHA (GITHUB.md 1)."""
    found = emu.repo.read_object(ref) if SHA_RE.match(ref) else None
    if found and found[0] == "tree":
        return ref
    commit = ref if found and found[0] == "commit" else emu.repo.resolve(ref)
    info = emu.repo.commit_info(commit) if commit else None
    return info.tree if info else None


def get_tree(emu: GitHubEmulator, req: Request, p: dict[str, str]) -> Reply:
    sha = _tree_sha(emu, p["sha"])
    recursive = "recursive" in req.query  # any value turns recursion on, even "0"
    entries = emu.repo.ls_tree(sha, recursive=recursive) if sha else None
    if sha is None or entries is None:
        return not_found()
    truncated = recursive and len(entries) > emu.tree_limit
    shown = entries[: emu.tree_limit] if truncated else entries
    return Reply.json(200, shapes.tree(emu.urls, sha, shown, truncated=truncated))


def get_blob(emu: GitHubEmulator, req: Request, p: dict[str, str]) -> Reply:
    found = emu.repo.read_object(p["sha"])
    if found is None or found[0] != "blob":
        return not_found()
    if "raw" in req.headers.get("accept", ""):
        return Reply(200, found[1], {"content-type": "application/vnd.github.raw"})
    return Reply.json(200, shapes.blob(emu.urls, p["sha"], found[1]))


def get_contents(emu: GitHubEmulator, req: Request, p: dict[str, str]) -> Reply:
    ref = req.query.get("ref") or emu.branch
    commit = _commit_for(emu, ref)
    info = emu.repo.commit_info(commit) if commit else None
    if info is None:
        return Reply.error(404, f"No commit found for the ref {ref}")
    path, index = p["path"].strip("/"), emu.repo.path_index(info.tree)
    entry = index.get(path)
    if path and entry is None:
        return not_found()
    if entry is None or entry.type == "tree":
        prefix = f"{path}/" if path else ""
        children = [
            e for e in index.values() if e.path.startswith(prefix) and "/" not in e.path[len(prefix) :]
        ]
        items = [
            shapes.content_entry(
                emu.urls, e.path, e.sha, e.size or 0, ref=ref, kind="dir" if e.type == "tree" else "file"
            )
            for e in children[:1000]  # GitHub caps directory listings at 1,000 entries
        ]
        return Reply.json(200, items)
    data = emu.repo.read_object(entry.sha)[1]  # type: ignore[index]
    if "raw" in req.headers.get("accept", ""):
        return Reply(200, data, {"content-type": "application/vnd.github.raw"})
    body = shapes.content_file(emu.urls, path, entry.sha, data, ref=ref)
    if len(data) > ONE_MB:  # 1-100 MB: the JSON form carries no content (GITHUB.md 3)
        body.update(content="", encoding="none")
    return Reply.json(200, body)


def _write_body(req: Request, *, need_content: bool) -> dict[str, object] | Reply:
    try:
        body = json.loads(req.body or b"{}")
    except ValueError:
        return Reply.error(400, "Problems parsing JSON")
    for key in ("message", "content") if need_content else ("message", "sha"):
        if not isinstance(body.get(key), str):
            return Reply.error(422, f'Invalid request.\n\n"{key}" wasn\'t supplied.')
    return body


def put_contents(emu: GitHubEmulator, req: Request, p: dict[str, str]) -> Reply:
    body = _write_body(req, need_content=True)
    if isinstance(body, Reply):
        return body
    try:
        data = base64.b64decode(str(body["content"]), validate=True)
    except binascii.Error:
        return Reply.error(422, "content is not valid Base64")
    return _commit(emu, p["path"], data, body)


def delete_contents(emu: GitHubEmulator, req: Request, p: dict[str, str]) -> Reply:
    body = _write_body(req, need_content=False)
    return body if isinstance(body, Reply) else _commit(emu, p["path"], None, body)


def _commit(emu: GitHubEmulator, path: str, data: bytes | None, body: dict[str, object]) -> Reply:
    """Check the caller's SHA against the branch tip and commit, atomically (GITHUB.md 3)."""
    branch = str(body.get("branch") or emu.branch)
    if branch != emu.branch:
        return Reply.error(404, f"Branch {branch} not found")
    with emu.repo.write_lock:
        head = emu.repo.head()
        index = emu.repo.path_index(emu.repo.commit_info(head).tree) if head else {}  # type: ignore[union-attr]
        current, sha = index.get(path), body.get("sha")
        if current is None and data is None:
            return not_found()
        if current is not None and sha is None:
            return Reply.error(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
        if current is not None and sha != current.sha:
            return Reply.error(409, f"{path} does not match {sha}")
        commit = emu.repo.commit_info(emu.repo.commit_files({path: data}, message=str(body["message"])))
    assert commit is not None
    commit_json = shapes.git_commit(emu.urls, commit)
    if data is None:
        return Reply.json(200, {"content": None, "commit": commit_json})
    new = emu.repo.path_index(commit.tree)[path]
    content = shapes.content_entry(emu.urls, path, new.sha, len(data), ref=emu.branch)
    return Reply.json(200 if current else 201, {"content": content, "commit": commit_json})


def get_tarball(emu: GitHubEmulator, req: Request, p: dict[str, str]) -> Reply:
    sha = _commit_for(emu, p.get("ref"))
    if sha is None:
        return not_found()
    # GitHub answers 302 to a short-lived codeload URL; we serve that URL ourselves.
    return Reply(
        302, b"", {"location": f"{emu.base_url}/_codeload/{emu.owner}/{emu.name}/legacy.tar.gz/{sha}"}
    )


def codeload(emu: GitHubEmulator, req: Request, p: dict[str, str]) -> Reply:
    if emu.repo.commit_info(p["sha"]) is None:
        return not_found()
    prefix = f"{emu.owner}-{emu.name}-{p['sha'][:7]}/"
    headers = {
        "content-type": "application/x-gzip",
        "content-disposition": f"attachment; filename={prefix[:-1]}.tar.gz",
    }
    return Reply(200, emu.repo.archive(p["sha"], prefix=prefix), headers)


def get_rate_limit(emu: GitHubEmulator, req: Request, p: dict[str, str]) -> Reply:
    return Reply.json(200, shapes.rate_limit(*emu.limiter.snapshot()))


# (methods, pattern, endpoint name, template, handler)
ROUTES: list[tuple[frozenset[str], re.Pattern[str], str, str, Handler]] = [
    (frozenset({"GET"}), re.compile(r"^/rate_limit$"), "rate_limit", "/rate_limit", get_rate_limit),
    (frozenset({"GET"}), re.compile(_REPO + r"/branches/(?P<branch>.+)$"), "branch",
     "/repos/{owner}/{repo}/branches/{branch}", get_branch),
    (frozenset({"GET"}), re.compile(_REPO + r"/git/ref/(?P<ref>.+)$"), "ref",
     "/repos/{owner}/{repo}/git/ref/{ref}", get_ref),
    (frozenset({"GET"}), re.compile(_REPO + r"/git/commits/(?P<sha>[^/]+)$"), "commit",
     "/repos/{owner}/{repo}/git/commits/{sha}", get_commit),
    (frozenset({"GET"}), re.compile(_REPO + r"/commits$"), "commits",
     "/repos/{owner}/{repo}/commits", list_commits),
    (frozenset({"GET"}), re.compile(_REPO + r"/git/trees/(?P<sha>.+)$"), "tree",
     "/repos/{owner}/{repo}/git/trees/{tree_sha}", get_tree),
    (frozenset({"GET"}), re.compile(_REPO + r"/git/blobs/(?P<sha>[^/]+)$"), "blob",
     "/repos/{owner}/{repo}/git/blobs/{file_sha}", get_blob),
    (frozenset({"GET"}), re.compile(_REPO + r"/contents(?:/(?P<path>.*))?$"), "contents",
     "/repos/{owner}/{repo}/contents/{path}", get_contents),
    (frozenset({"PUT"}), re.compile(_REPO + r"/contents/(?P<path>.+)$"), "contents",
     "/repos/{owner}/{repo}/contents/{path}", put_contents),
    (frozenset({"DELETE"}), re.compile(_REPO + r"/contents/(?P<path>.+)$"), "contents",
     "/repos/{owner}/{repo}/contents/{path}", delete_contents),
    (frozenset({"GET"}), re.compile(_REPO + r"/tarball(?:/(?P<ref>.+))?$"), "tarball",
     "/repos/{owner}/{repo}/tarball/{ref}", get_tarball),
    (frozenset({"GET"}), re.compile(_CODELOAD),
     "codeload", "/_codeload/{owner}/{repo}/legacy.tar.gz/{sha}", codeload),
]  # fmt: skip


def match(method: str, path: str) -> tuple[str, str, Handler, dict[str, str]] | None:
    """(endpoint, template, handler, path params) for a request, or None."""
    for methods, pattern, endpoint, template, handler in ROUTES:
        found = pattern.match(path)
        if found and method in methods:
            params = {k: v or "" for k, v in found.groupdict().items()}
            return endpoint, template, handler, params
    return None
