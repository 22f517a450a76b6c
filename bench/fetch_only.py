"""Fetch every file of a branch, without parsing or a database: the two read paths of ``sync_10k.py``.

``--mode contents`` is the naive baseline: one tree listing to learn the paths, then
``GET /repos/{o}/{r}/contents/{path}`` per file, serially over one keep-alive connection
(GitHub asks integrators not to parallelise). ``--mode archive`` is Annoris's own read
path (``GitHubSource.list_files`` + ``read_many``: branch, tree, one tarball), so the two
fetch times compare like for like. Run by ``sync_10k.py`` in its own process, so that it
does not share a GIL with the emulator; it prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annoris.sources.base import SourceError  # noqa: E402
from annoris.sources.github import GitHubSource  # noqa: E402
from annoris.sources.github_client import GitHubClient, Tree  # noqa: E402


def fetch_contents(client: GitHubClient, branch: str) -> tuple[int, int]:
    """Branch, recursive tree, then one Contents call per blob; returns (files, bytes)."""
    head = client.get_branch(branch)
    tree = client.get_tree(head.tree_sha, recursive=True)
    assert isinstance(tree, Tree) and not tree.truncated
    files = total = 0
    for entry in tree.entries:
        if entry.type == "blob":
            total += len(client.get_contents(entry.path, ref=head.commit_sha).content)
            files += 1
    return files, total


def fetch_archive(client: GitHubClient, branch: str) -> tuple[int, int]:
    """GitHubSource's listing and bulk read, as the initial sync does it; returns (files, bytes)."""
    source = GitHubSource(client, branch=branch, glob="**/*")
    listing = source.list_files()
    files = total = 0
    for _, data in source.read_many(listing.files):
        if isinstance(data, SourceError):
            raise data
        total += len(data)
        files += 1
    return files, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("contents", "archive"), required=True, help="Which read path.")
    parser.add_argument("--base-url", required=True, help="API root, e.g. the emulator's base_url.")
    parser.add_argument("--repo", required=True, help="owner/name")
    parser.add_argument("--token", required=True, help="API token (the emulator's).")
    parser.add_argument("--branch", default="main", help="Branch to read (default: main).")
    args = parser.parse_args(argv)
    client = GitHubClient(repo=args.repo, token=args.token, base_url=args.base_url, max_wait=5.0)
    fetch = fetch_contents if args.mode == "contents" else fetch_archive
    started = time.perf_counter()
    files, total = fetch(client, args.branch)
    report = {
        "files": files,
        "bytes": total,
        "calls": client.calls,
        "fetch_s": time.perf_counter() - started,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
