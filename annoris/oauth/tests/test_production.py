"""Production: the issuer comes from ANNORIS_PUBLIC_URL only, https behind the proxy, and
``check --deploy`` stays clean with the authorization server on."""

from __future__ import annotations

import pytest
from django.test import Client

from annoris.tests.test_deploy import _check_deploy


def test_check_deploy_is_clean_with_the_authorization_server_on() -> None:
    done = _check_deploy(ANNORIS_PUBLIC_URL="https://annoris.example.com")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "System check identified no issues" in done.stdout


@pytest.mark.parametrize("url", ["http://annoris.example.com", "ftp://annoris.example.com", "annoris"])
def test_an_http_issuer_other_than_loopback_refuses_to_start_in_one_line(url: str) -> None:
    done = _check_deploy(ANNORIS_PUBLIC_URL=url)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "ANNORIS_PUBLIC_URL must" in last and "https" in last


def test_loopback_http_is_a_development_issuer() -> None:
    from annoris.oauth.config import public_url

    assert public_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert public_url("http://[::1]:9000") == "http://[::1]:9000"
    assert public_url("https://annoris.example.com") == "https://annoris.example.com"
    assert public_url("") is None


@pytest.mark.django_db
def test_metadata_urls_are_the_settings_https_urls_behind_the_proxy(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ANNORIS_PUBLIC_URL = "https://annoris.example.com"
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_ISS_ENDPOINT": "https://annoris.example.com",
        "OAUTH2_PROTECTED_RESOURCE_IDENTIFIER": "https://annoris.example.com/mcp",
        "OAUTH2_PROTECTED_RESOURCE_AUTHORIZATION_SERVERS": ["https://annoris.example.com"],
    }
    forwarded = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "127.0.0.1:8000"}
    server = client.get("/.well-known/oauth-authorization-server", **forwarded).json()
    assert server["issuer"] == "https://annoris.example.com"
    assert server["token_endpoint"] == "https://annoris.example.com/oauth/token/"
    resource = client.get("/.well-known/oauth-protected-resource/mcp", **forwarded).json()
    assert resource["resource"] == "https://annoris.example.com/mcp"
    api = client.get("/.well-known/oauth-protected-resource/api", **forwarded).json()
    assert api["resource"] == "https://annoris.example.com/api/"
    challenge = client.post("/mcp", {}, content_type="application/json")["WWW-Authenticate"]
    metadata = "https://annoris.example.com/.well-known/oauth-protected-resource/mcp"
    assert f'resource_metadata="{metadata}"' in challenge
