"""GitHubClient against GitHub's real answer shapes, served by the emulator over HTTP (issue 9, item 9).

Errors carry GitHub's own ``message``, ``errors[]`` and ``documentation_url`` plus a hint;
calls count what GitHub counts (a followed redirect is two requests, and the 302 carries
the rate-limit headers); a primary limit with no reset time waits a minute, not a burst.
Sleeping is injected (``sleep=``) so the waits are checked without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from annoris.sources.github_client import GitHubClient, GitHubError, NotFound, RateLimited, Unauthorized
from annoris.testing.github_emulator import GitHubEmulator
from annoris.testing.github_emulator.shapes import error, validation_failed
from annoris.tests.conftest import SEED_FILES


def test_a_missing_branch_and_a_missing_repository_read_differently(
    make_client: Callable[..., GitHubClient], emulator: GitHubEmulator
) -> None:
    with pytest.raises(NotFound) as branch:
        make_client().get_branch("mian")
    with pytest.raises(NotFound) as repo:
        make_client(repo="acme/sesions").get_branch("main")
    assert branch.value.github_message == "Branch not found"
    assert branch.value.documentation_url == "https://docs.github.com/rest/branches/branches#get-a-branch"
    assert "Check the branch name (GITHUB_BRANCH)" in str(branch.value)
    assert repo.value.github_message == "Not Found"
    assert "Repository acme/sesions not found or no access" in str(repo.value)
    assert "GITHUB_REPO" in repo.value.hint and "GITHUB_BRANCH" not in repo.value.hint
    assert "'Branch not found'" in str(branch.value) and "'Not Found'" in str(repo.value)


def test_a_validation_error_keeps_githubs_errors_list(client: GitHubClient, emulator: GitHubEmulator) -> None:
    emulator.fail_next(
        1,
        status=422,
        body=validation_failed(
            [{"resource": "Commit", "field": "author", "code": "missing_field"}, "branch is protected"]
        ),
        path_prefix="/repos/acme/sessions/contents",
    )
    with pytest.raises(GitHubError) as caught:
        client.put_contents("new.md", content=b"x", message="m", sha=None, branch="main")
    assert caught.value.status == 422 and caught.value.github_message == "Validation Failed"
    assert caught.value.errors == ("Commit.author: missing_field", "branch is protected")
    assert "[Commit.author: missing_field; branch is protected]" in str(caught.value)
    assert (
        caught.value.documentation_url and "create-or-update-file-contents" in caught.value.documentation_url
    )


def test_a_permission_403_names_the_tokens_scopes(client: GitHubClient, emulator: GitHubEmulator) -> None:
    emulator.fail_next(
        1,
        status=403,
        body=error("Resource not accessible by personal access token", 403),
        headers={"x-oauth-scopes": "", "x-accepted-oauth-scopes": "repo"},
    )
    with pytest.raises(Unauthorized) as caught:
        client.get_branch("main")
    text = str(caught.value)
    assert "'Resource not accessible by personal access token'" in text
    assert "the token's scopes: none; this endpoint accepts: repo" in text
    assert emulator.call_count() == 1


def test_an_echoed_token_never_reaches_the_error(
    make_client: Callable[..., GitHubClient], emulator: GitHubEmulator
) -> None:
    client = make_client(token=emulator.token)
    body = {"message": f"token {emulator.token} is bad", "errors": [emulator.token], "documentation_url": "x"}
    emulator.fail_next(1, status=400, body=body)
    with pytest.raises(GitHubError) as caught:
        client.get_branch("main")
    assert emulator.token not in str(caught.value) and emulator.token not in repr(caught.value.errors)


def test_a_followed_redirect_costs_two_calls_and_its_rate_limit_headers_count(
    client: GitHubClient, emulator: GitHubEmulator
) -> None:
    emulator.set_rate_limit(100)
    assert dict(client.iter_tarball("main")) == SEED_FILES
    assert client.calls == emulator.call_count() == 2  # the 302, then the archive
    assert client.calls_by_endpoint == {"tarball": 2}
    assert client.rate_limit.remaining == 99  # read from the 302: the archive host sends none


def test_a_primary_limit_without_a_reset_time_waits_minutes_not_a_burst(
    make_client: Callable[..., GitHubClient], emulator: GitHubEmulator
) -> None:
    slept: list[float] = []
    client = make_client(sleep=slept.append, max_wait=600)
    emulator.primary_limit(2, reset_header=False)
    assert client.get_branch("main").commit_sha == emulator.head()
    assert slept == [60.0, 120.0]  # a minute, then doubled (GITHUB.md 6)
    assert emulator.call_count(endpoint="branch") == 3


def test_a_primary_limit_without_a_reset_time_fails_clearly_when_the_budget_is_shorter(
    make_client: Callable[..., GitHubClient], emulator: GitHubEmulator
) -> None:
    slept: list[float] = []
    client = make_client(sleep=slept.append, max_wait=5)
    emulator.primary_limit(1, reset_header=False)
    with pytest.raises(RateLimited) as caught:
        client.get_branch("main")
    assert caught.value.retry_after == 60 and slept == []
    assert "no reset time given" in str(caught.value)
    assert "longer than this request may wait, 5 s" in str(caught.value)
    assert caught.value.github_message.startswith("API rate limit exceeded")
    assert emulator.call_count() == 1


def test_a_primary_limit_with_a_reset_time_waits_until_it(
    make_client: Callable[..., GitHubClient], emulator: GitHubEmulator
) -> None:
    slept: list[float] = []
    client = make_client(sleep=slept.append, max_wait=600)
    reset = str(int(time.time()) + 300)
    emulator.primary_limit(1, headers={"x-ratelimit-reset": reset})
    client.get_branch("main")
    assert len(slept) == 1 and 299 <= slept[0] <= 302
