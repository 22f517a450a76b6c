"""Every refusal issue #16 lists, each asserting that no token was issued (or that the one
presented is refused), through Django's test client. CIMD refusals: see test_cimd.py."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from oauth2_provider.models import AccessToken, Grant

from annoris.oauth.tests.conftest import (
    REDIRECT,
    authorize_params,
    code_from,
    connect,
    consent,
    exchange,
    issued_tokens,
    mcp,
    pkce,
    register,
)

pytestmark = pytest.mark.django_db


def test_a_replayed_code_is_refused_and_revokes_what_it_issued(
    client: Client, browser: Client, client_id: str
) -> None:
    proof = pkce()
    params = authorize_params(client_id, proof)
    code = code_from(consent(browser, params), params["state"])
    first = exchange(client, client_id, code, proof.verifier).json()
    assert mcp(client, first["access_token"]).status_code == 200
    before = issued_tokens()

    replay = exchange(client, client_id, code, proof.verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert "access_token" not in replay.json()
    assert mcp(client, first["access_token"]).status_code == 401
    refreshed = client.post(
        "/oauth/token/",
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": client_id},
    )
    assert refreshed.status_code == 400
    assert AccessToken.objects.exclude(scope="oauth2_provider:registration").count() == 0
    assert issued_tokens() <= before


def test_a_wrong_verifier_is_refused(client: Client, browser: Client, client_id: str) -> None:
    proof = pkce()
    params = authorize_params(client_id, proof)
    code = code_from(consent(browser, params), params["state"])
    refused = exchange(client, client_id, code, pkce().verifier)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    missing = exchange(client, client_id, code, None)
    assert missing.status_code == 400
    assert issued_tokens() == 0


def _redirected_error(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return parse_qs(location.query)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),  # no PKCE
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),  # a challenge without a method is plain
        ({"resource": "https://elsewhere.example/mcp"}, "invalid_target"),
    ],
    ids=["no-pkce", "plain-pkce", "pkce-without-method", "foreign-resource"],
)
def test_the_authorization_request_is_refused_back_to_the_client(
    browser: Client, client_id: str, overrides: dict, error: str
) -> None:
    params = authorize_params(client_id, pkce(), **overrides)
    query = _redirected_error(browser.get("/oauth/authorize/", params))
    assert query["error"] == [error] and query["state"] == [params["state"]] and "code" not in query
    assert not Grant.objects.exists() and issued_tokens() == 0


def test_plain_pkce_posted_past_the_page_is_refused_too(browser: Client, client_id: str) -> None:
    proof = pkce()
    params = authorize_params(client_id, proof)
    page = browser.get("/oauth/authorize/", params)
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data.update(allow="Allow", code_challenge=proof.verifier, code_challenge_method="plain")
    response = browser.post("/oauth/authorize/", data)
    assert "code=" not in response.get("Location", "")
    assert not Grant.objects.exists() and issued_tokens() == 0


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:43110/callbacK",  # a character
        "http://127.0.0.1:43110/callback/extra",  # a path
        "http://127.0.0.2:43110/callback",  # another host
        "https://127.0.0.1:43110/callback",  # the scheme
        "http://evil.example/callback",  # http off loopback
    ],
)
def test_a_redirect_uri_that_differs_is_refused_without_redirecting(
    browser: Client, client_id: str, redirect_uri: str
) -> None:
    response = browser.get(
        "/oauth/authorize/", authorize_params(client_id, pkce(), redirect_uri=redirect_uri)
    )
    assert response.status_code == 400 and "Location" not in response
    assert not Grant.objects.exists() and issued_tokens() == 0


def test_a_port_is_exact_for_https_and_free_for_loopback(client: Client, browser: Client) -> None:
    https = register(client, ["https://claude.ai/api/mcp/auth_callback"]).json()["client_id"]
    other_port = "https://claude.ai:8443/api/mcp/auth_callback"
    response = browser.get("/oauth/authorize/", authorize_params(https, pkce(), redirect_uri=other_port))
    assert response.status_code == 400 and "Location" not in response
    loopback = register(client).json()["client_id"]
    ephemeral = "http://127.0.0.1:51234/callback"
    page = browser.get("/oauth/authorize/", authorize_params(loopback, pkce(), redirect_uri=ephemeral))
    assert page.status_code == 200  # RFC 8252: any port on loopback
    assert issued_tokens() == 0


@pytest.mark.parametrize(
    "redirect_uris",
    [["http://evil.example/callback"], ["https://claude.ai/cb#frag"], ["javascript:alert(1)"], []],
)
def test_registration_refuses_bad_redirect_uris(client: Client, redirect_uris: list[str]) -> None:
    response = (
        register(client, redirect_uris)
        if redirect_uris
        else client.post(
            "/oauth/register/", {"token_endpoint_auth_method": "none"}, content_type="application/json"
        )
    )
    assert response.status_code == 400 and "client_id" not in response.json()


def test_registration_is_for_public_clients_and_rate_limited(client: Client, settings: Any) -> None:
    confidential = register(client, token_endpoint_auth_method="client_secret_basic")
    assert confidential.status_code == 400 and "client_secret" not in confidential.json()
    settings.ANNORIS_OAUTH_REGISTRATIONS_PER_HOUR = 3  # the refused one above counted too
    assert [register(client).status_code for _ in range(3)] == [201, 201, 429]
    assert (
        client.post(
            "/oauth/register/", {"client_name": "x"}, content_type="application/json", REMOTE_ADDR="10.9.8.7"
        ).status_code
        == 400
    )  # another address still has its allowance (and is refused for its metadata)


def test_an_open_redirect_through_the_error_path_is_refused(browser: Client, client_id: str) -> None:
    evil = "https://evil.example/steal"
    for params in (
        authorize_params(client_id, pkce(), redirect_uri=evil),
        authorize_params(client_id, pkce(), redirect_uri=evil, response_type="token"),
        authorize_params("no-such-client", pkce(), redirect_uri=evil),
        authorize_params(
            client_id, pkce(), redirect_uri=evil, code_challenge=None, code_challenge_method=None
        ),
    ):
        response = browser.get("/oauth/authorize/", params)
        assert response.status_code in (400, 401, 403) and "evil.example" not in response.get("Location", "")
    assert issued_tokens() == 0


def test_a_token_for_another_resource_is_refused_on_mcp(
    client: Client, browser: Client, client_id: str
) -> None:
    api = connect(browser, client_id, resource=f"{settings.ANNORIS_PUBLIC_URL}/api/")
    refused = mcp(client, api["access_token"])
    assert refused.status_code == 401 and "another resource" in refused.json()["error"]["message"]
    assert "resource_metadata" in refused["WWW-Authenticate"]
    mcp_token = connect(browser, client_id)
    assert (
        client.get("/api/projects/", HTTP_AUTHORIZATION=f"Bearer {mcp_token['access_token']}").status_code
        == 401
    )


def test_a_token_exchange_cannot_widen_the_resource(client: Client, browser: Client, client_id: str) -> None:
    proof = pkce()
    params = authorize_params(client_id, proof)
    code = code_from(consent(browser, params), params["state"])
    widened = exchange(
        client, client_id, code, proof.verifier, resource=f"{settings.ANNORIS_PUBLIC_URL}/api/"
    )
    assert widened.status_code == 400 and json.loads(widened.content)["error"] == "invalid_target"
    assert issued_tokens() == 0


def test_a_forged_or_expired_token_gets_401_with_the_challenge(
    client: Client, browser: Client, client_id: str
) -> None:
    forged = mcp(client, "Zm9yZ2VkLXRva2VuLXRoYXQtaXMtbm90LXJlYWw")
    assert forged.status_code == 401 and "resource_metadata" in forged["WWW-Authenticate"]
    issued = connect(browser, client_id)
    AccessToken.objects.exclude(scope="oauth2_provider:registration").update(expires="2000-01-01T00:00:00Z")
    from annoris.oauth import access

    access.memory.clear()
    expired = mcp(client, issued["access_token"])
    assert expired.status_code == 401 and 'scope="read write"' in expired["WWW-Authenticate"]
    assert "Invalid, revoked or expired" in expired.json()["error"]["message"]
    assert issued["access_token"] not in expired.content.decode()


def test_an_expired_token_remembered_by_this_process_is_refused_too(
    client: Client, browser: Client, client_id: str
) -> None:
    from annoris.oauth import access

    issued = connect(browser, client_id)
    assert mcp(client, issued["access_token"]).status_code == 200  # now remembered
    entry = access.memory.get(access.digest_of(issued["access_token"]))
    assert entry is not None and entry.auth.auth.expires_at > time.time()
    access.memory.put(
        access.digest_of(issued["access_token"]),
        access.OAuthGrant(
            **{
                **entry.auth.__dict__,
                "auth": type(entry.auth.auth)(**{**entry.auth.auth.__dict__, "expires_at": time.time() - 1}),
            }
        ),
    )
    assert mcp(client, issued["access_token"]).status_code == 401


def test_consent_posted_without_csrf_is_refused(staff: Any, client_id: str) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    params = authorize_params(client_id, pkce())
    page = browser.get("/oauth/authorize/", params)
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    response = browser.post("/oauth/authorize/", {**data, "allow": "Allow"})
    assert response.status_code == 403 and "Location" not in response
    assert not Grant.objects.exists() and issued_tokens() == 0


def test_deny_sends_access_denied_and_no_code(browser: Client, client_id: str) -> None:
    params = authorize_params(client_id, pkce())
    query = _redirected_error(consent(browser, params, allow=False))
    assert query["error"] == ["access_denied"] and "code" not in query
    assert not Grant.objects.exists() and issued_tokens() == 0


def test_a_client_cannot_skip_the_consent_page(client: Client, browser: Client, client_id: str) -> None:
    connect(browser, client_id)  # approved once: DOT's approval_prompt=auto would skip the page now
    page = browser.get(
        "/oauth/authorize/", {**authorize_params(client_id, pkce()), "approval_prompt": "auto"}
    )
    assert page.status_code == 200 and b"consent-form" in page.content


def test_a_registration_update_follows_the_same_rules(client: Client) -> None:
    registered = register(client).json()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {registered['registration_access_token']}"}
    body = {"redirect_uris": ["http://evil.example/cb"], "token_endpoint_auth_method": "none"}
    updated = client.put(registered["registration_client_uri"].split("8000", 1)[-1], body,
                         content_type="application/json", **headers)  # fmt: skip
    assert updated.status_code == 400
    assert (
        "evil"
        not in client.get(
            registered["registration_client_uri"].split("8000", 1)[-1], **headers
        ).content.decode()
    )


def test_a_code_redeemed_concurrently_issues_once(client: Client, browser: Client, client_id: str) -> None:
    """The loser of two simultaneous redemptions meets the connection's unique code digest."""
    from annoris.api.tokens import digest_of
    from annoris.oauth.models import Connection

    proof = pkce()
    params = authorize_params(client_id, proof)
    code = code_from(consent(browser, params), params["state"])
    grant = Grant.objects.get()
    Connection.objects.create(  # what the winning request has written, not yet visible as a replay
        user=grant.user,
        application=grant.application,
        scope="read",
        resource="x",
        code_digest=digest_of(code),
    )
    lost = exchange(client, client_id, code, proof.verifier)
    assert lost.status_code == 400 and json.loads(lost.content)["error"] == "invalid_grant"
    assert issued_tokens() == 0
