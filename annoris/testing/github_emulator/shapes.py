"""JSON bodies shaped like GitHub's REST responses, field for field (GITHUB.md sections 1-3, 6).

Pure functions of git data and URLs, so the HTTP layer stays thin and the shapes can
be checked on their own.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from urllib.parse import quote

from annoris.testing.github_emulator.gitrepo import CommitInfo, LsEntry, Person

DOCS = "https://docs.github.com/rest"
_UNSIGNED = {"verified": False, "reason": "unsigned", "signature": None, "payload": None, "verified_at": None}


@dataclass(frozen=True)
class Urls:
    """URL builders for one emulated repository."""

    api: str  # e.g. http://127.0.0.1:54321, standing in for https://api.github.com
    owner: str
    name: str

    @property
    def repo(self) -> str:
        return f"{self.api}/repos/{self.owner}/{self.name}"

    @property
    def html(self) -> str:
        return f"https://github.com/{self.owner}/{self.name}"


def node_id(kind: str, sha: str) -> str:
    """A stable opaque id like GitHub's ``node_id`` (its real encoding is not documented)."""
    return base64.b64encode(f"{kind}:{sha}".encode()).decode().rstrip("=")


def github_base64(data: bytes) -> str:
    """Base64 with a newline every 60 characters, the way GitHub wraps blob content."""
    encoded = base64.b64encode(data).decode()
    return "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))


# The reference page GitHub names in ``documentation_url`` of an error, per (method, endpoint).
DOC_PAGES = {
    ("GET", "branch"): "branches/branches#get-a-branch",
    ("GET", "ref"): "git/refs#get-a-reference",
    ("GET", "commit"): "git/commits#get-a-commit",
    ("GET", "tree"): "git/trees#get-a-tree",
    ("GET", "blob"): "git/blobs#get-a-blob",
    ("GET", "contents"): "repos/contents#get-repository-content",
    ("PUT", "contents"): "repos/contents#create-or-update-file-contents",
    ("DELETE", "contents"): "repos/contents#delete-a-file",
    ("GET", "tarball"): "repos/contents#download-a-repository-archive-tar",
    ("GET", "rate_limit"): "rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user",
}
RATE_LIMIT_DOCS = f"{DOCS}/overview/rate-limits-for-the-rest-api"


def doc_url(method: str, endpoint: str) -> str:
    """The ``documentation_url`` GitHub puts in an error from this endpoint."""
    page = DOC_PAGES.get((method, endpoint))
    return f"{DOCS}/{page}" if page else DOCS


def error(message: str, status: int, doc: str = DOCS) -> dict[str, object]:
    return {"message": message, "documentation_url": doc, "status": str(status)}


def validation_failed(errors: list[dict[str, str] | str], doc: str = DOCS) -> dict[str, object]:
    """A 422 as GitHub sends it: ``Validation Failed`` with ``errors[]`` of
    ``{resource, field, code}`` (plus ``message`` for code ``custom``), or plain strings."""
    return {"message": "Validation Failed", "errors": errors, "documentation_url": doc, "status": "422"}


def _person(p: Person) -> dict[str, str]:
    return {"name": p.name, "email": p.email, "date": p.date}


def git_commit(u: Urls, c: CommitInfo) -> dict[str, object]:
    """GET /git/commits/{sha} (schema ``git-commit``)."""
    return {
        "sha": c.sha,
        "node_id": node_id("Commit", c.sha),
        "url": f"{u.repo}/git/commits/{c.sha}",
        "html_url": f"{u.html}/commit/{c.sha}",
        "author": _person(c.author),
        "committer": _person(c.committer),
        "tree": {"sha": c.tree, "url": f"{u.repo}/git/trees/{c.tree}"},
        "message": c.message,
        "parents": [
            {"sha": p, "url": f"{u.repo}/git/commits/{p}", "html_url": f"{u.html}/commit/{p}"}
            for p in c.parents
        ],
        "verification": dict(_UNSIGNED),
    }


def branch(u: Urls, name: str, c: CommitInfo) -> dict[str, object]:
    """GET /branches/{branch}: ``commit.sha`` is the head, ``commit.commit.tree.sha`` the root tree."""
    inner = git_commit(u, c)
    return {
        "name": name,
        "commit": {
            "sha": c.sha,
            "node_id": inner["node_id"],
            "commit": {
                "author": inner["author"],
                "committer": inner["committer"],
                "message": c.message,
                "tree": inner["tree"],
                "url": inner["url"],
                "comment_count": 0,
                "verification": inner["verification"],
            },
            "url": f"{u.repo}/commits/{c.sha}",
            "html_url": inner["html_url"],
            "comments_url": f"{u.repo}/commits/{c.sha}/comments",
            "author": None,
            "committer": None,
            "parents": inner["parents"],
        },
        "_links": {"self": f"{u.repo}/branches/{name}", "html": f"{u.html}/tree/{name}"},
        "protected": False,
        "protection": {
            "enabled": False,
            "required_status_checks": {"enforcement_level": "off", "contexts": []},
        },
        "protection_url": f"{u.repo}/branches/{name}/protection",
    }


def commit_item(u: Urls, c: CommitInfo) -> dict[str, object]:
    """One entry of GET /commits (schema ``commit``): the sha and the commit it names."""
    return {**branch(u, "", c)["commit"]}  # type: ignore[dict-item]


def git_ref(u: Urls, ref: str, sha: str) -> dict[str, object]:
    """GET /git/ref/heads/{branch}."""
    return {
        "ref": ref,
        "node_id": node_id("Ref", ref),
        "url": f"{u.repo}/git/{ref}",
        "object": {"type": "commit", "sha": sha, "url": f"{u.repo}/git/commits/{sha}"},
    }


def tree_entry(u: Urls, e: LsEntry) -> dict[str, object]:
    kind = {"blob": "blobs", "tree": "trees"}.get(e.type)
    entry: dict[str, object] = {"path": e.path, "mode": e.mode, "type": e.type, "sha": e.sha}
    if e.size is not None:
        entry["size"] = e.size  # blobs only, as in GitHub's example
    if kind:  # submodule entries carry no url
        entry["url"] = f"{u.repo}/git/{kind}/{e.sha}"
    return entry


def tree(u: Urls, sha: str, entries: list[LsEntry], *, truncated: bool) -> dict[str, object]:
    """GET /git/trees/{sha} (schema ``git-tree``)."""
    return {
        "sha": sha,
        "url": f"{u.repo}/git/trees/{sha}",
        "tree": [tree_entry(u, e) for e in entries],
        "truncated": truncated,
    }


def blob(u: Urls, sha: str, data: bytes) -> dict[str, object]:
    """GET /git/blobs/{sha} (schema ``blob``)."""
    return {
        "sha": sha,
        "node_id": node_id("Blob", sha),
        "size": len(data),
        "url": f"{u.repo}/git/blobs/{sha}",
        "content": github_base64(data),
        "encoding": "base64",
    }


def content_entry(
    u: Urls, path: str, sha: str, size: int, *, ref: str, kind: str = "file"
) -> dict[str, object]:
    """A contents item without its ``content`` (PUT response, directory listings)."""
    qpath = quote(path)
    self_url = f"{u.repo}/contents/{qpath}?ref={quote(ref, safe='')}"
    git_url = f"{u.repo}/git/{'blobs' if kind == 'file' else 'trees'}/{sha}"
    html_url = f"{u.html}/{'blob' if kind == 'file' else 'tree'}/{ref}/{qpath}"
    raw = f"https://raw.githubusercontent.com/{u.owner}/{u.name}/{ref}/{qpath}" if kind == "file" else None
    return {
        "type": kind,
        "size": size,
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "url": self_url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": raw,
        "_links": {"self": self_url, "git": git_url, "html": html_url},
    }


def content_file(u: Urls, path: str, sha: str, data: bytes, *, ref: str) -> dict[str, object]:
    """GET /contents/{path} for a file."""
    body = content_entry(u, path, sha, len(data), ref=ref)
    body["encoding"] = "base64"
    body["content"] = github_base64(data)
    return body


def rate_limit(limit: int, remaining: int, reset: int) -> dict[str, object]:
    """GET /rate_limit; ``rate`` mirrors ``resources.core`` in API version 2022-11-28."""
    core = {"limit": limit, "used": limit - remaining, "remaining": remaining, "reset": reset}
    return {"resources": {"core": core}, "rate": dict(core)}


def etag(token: str, body: bytes) -> str:
    """A quoted ETag that differs per token, as GitHub's does (seart-group/ghs#52)."""
    digest = hashlib.sha256(token.encode() + b"\0" + body).hexdigest()[:32]
    return f'"{digest}"'
