"""The OAuth flow, step by step, through Django's test client (fixtures and helpers)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from annoris.oauth import access

REDIRECT = "http://127.0.0.1:43110/callback"
ACCEPT = "application/json, text/event-stream"


@pytest.fixture(autouse=True)
def _fresh_oauth_memory(settings: Any) -> None:
    access.memory.clear()
    cache.clear()  # registration counters
    settings.ANNORIS_OAUTH_REGISTRATIONS_PER_HOUR = 1000


@dataclass
class Pkce:
    verifier: str
    challenge: str


def pkce() -> Pkce:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return Pkce(verifier, challenge)


def mcp_resource() -> str:
    return f"{settings.ANNORIS_PUBLIC_URL}/mcp"


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("ada", password="consent-Pa55word", is_staff=True)


@pytest.fixture
def browser(client: Client, staff: Any) -> Client:
    """A logged-in staff member's browser."""
    client.force_login(staff)
    return client


def issued_tokens() -> int:
    """Access and refresh tokens issued by the flow (DCR's registration tokens are not)."""
    from oauth2_provider.models import AccessToken, RefreshToken

    return (
        AccessToken.objects.exclude(scope="oauth2_provider:registration").count()
        + RefreshToken.objects.count()
    )


def register(client: Client, redirect_uris: list[str] | None = None, **extra: Any) -> Any:
    body = {
        "client_name": "Claude",
        "redirect_uris": redirect_uris or [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        **extra,
    }
    return client.post("/oauth/register/", body, content_type="application/json")


@pytest.fixture
def client_id(client: Client) -> str:
    response = register(client)
    assert response.status_code == 201, response.content
    return response.json()["client_id"]


def authorize_params(client_id: str, proof: Pkce, **overrides: Any) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "read write",
        "state": "st-" + secrets.token_hex(4),
        "code_challenge": proof.challenge,
        "code_challenge_method": "S256",
        "resource": mcp_resource(),
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def consent(browser: Client, params: dict[str, str], allow: bool = True) -> Any:
    """GET the consent page, then post it as the form would; the POST's response."""
    page = browser.get("/oauth/authorize/", params)
    assert page.status_code == 200, page.content[:500]
    form = dict(page.context["form"].initial)
    data = {k: v for k, v in form.items() if v is not None}
    if allow:
        data["allow"] = "Allow"
    return browser.post("/oauth/authorize/", data)


def code_from(response: Any, state: str) -> str:
    assert response.status_code == 302, response.content[:500]
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == [state]
    return query["code"][0]


def exchange(client: Client, client_id: str, code: str, verifier: str | None, **extra: str) -> Any:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": client_id,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post("/oauth/token/", {**data, **extra})


def refresh(client: Client, client_id: str, refresh_token: str) -> Any:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return client.post("/oauth/token/", data)


def mcp(client: Client, token: str | None, method: str = "tools/list", params: dict | None = None) -> Any:  # type: ignore[type-arg]
    body = {"jsonrpc": "2.0", "id": 1, "method": method, **({"params": params} if params else {})}
    headers = {"HTTP_ACCEPT": ACCEPT}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post("/mcp", body, content_type="application/json", **headers)


def connect(browser: Client, client_id: str, **overrides: Any) -> dict[str, Any]:
    """The whole flow for ``client_id``; the token response."""
    proof = pkce()
    params = authorize_params(client_id, proof, **overrides)
    code = code_from(consent(browser, params), params["state"])
    response = exchange(browser, client_id, code, proof.verifier)
    assert response.status_code == 200, response.content
    return response.json()
