"""Sources of session files, chosen by ``SESSIONS_SOURCE``.

``get_source()`` reads settings and imports the backend lazily, so the GitHub
client is only loaded where GitHub is the source.
"""

from __future__ import annotations

from typing import Any

from annoris.sources.base import Source


def get_source(*, client_options: dict[str, Any] | None = None, **overrides: Any) -> Source:
    """The configured source: ``github``, or the path of a local directory.

    ``client_options`` tune the GitHub client (``timeout``, ``max_retries``,
    ``max_wait``, ``backoff``) over the sync's defaults from settings; the read
    path passes shorter ones so that "unavailable" comes in bounded time.
    ``overrides`` go to the source's constructor.
    """
    from django.conf import settings

    kind = overrides.pop("kind", settings.SESSIONS_SOURCE)
    glob = overrides.pop("glob", settings.SESSIONS_GLOB)
    if kind == "github":
        from annoris.sources.github import GitHubSource
        from annoris.sources.github_client import GitHubClient

        options = {"timeout": (3.05, settings.GITHUB_TIMEOUT), "max_wait": settings.GITHUB_MAX_WAIT}
        client = GitHubClient(
            repo=settings.GITHUB_REPO,
            token=settings.GITHUB_TOKEN or None,
            base_url=settings.GITHUB_API_URL,
            **{**options, **(client_options or {})},
        )
        return GitHubSource(client, branch=settings.GITHUB_BRANCH, glob=glob, **overrides)
    from annoris.sources.local import LocalSource

    return LocalSource(kind, glob=glob, repository=settings.GITHUB_REPO or "local", **overrides)
