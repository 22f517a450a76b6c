"""Sources of session files, chosen by ``SESSIONS_SOURCE``.

``get_source()`` reads settings and imports the backend lazily, so the GitHub
client is only loaded where GitHub is the source.
"""

from __future__ import annotations

from typing import Any

from annoris.sources.base import Source


def get_source(**overrides: Any) -> Source:
    """The configured source: ``github``, or the path of a local directory."""
    from django.conf import settings

    kind = overrides.pop("kind", settings.SESSIONS_SOURCE)
    glob = overrides.pop("glob", settings.SESSIONS_GLOB)
    if kind == "github":
        from annoris.sources.github import GitHubSource
        from annoris.sources.github_client import GitHubClient

        client = GitHubClient(
            repo=settings.GITHUB_REPO,
            token=settings.GITHUB_TOKEN or None,
            base_url=settings.GITHUB_API_URL,
        )
        return GitHubSource(client, branch=settings.GITHUB_BRANCH, glob=glob, **overrides)
    from annoris.sources.local import LocalSource

    return LocalSource(kind, glob=glob, repository=settings.GITHUB_REPO or "local", **overrides)
