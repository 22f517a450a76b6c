"""The connector flow through Django's test client: discovery, registration, consent, tokens,
MCP and REST with the token, refresh, revocation (the browser test repeats it in Chromium)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from annoris.api import tokens
from annoris.oauth.models import Connection
from annoris.oauth.tests.conftest import (
    authorize_params,
    code_from,
    connect,
    consent,
    exchange,
    issued_tokens,
    mcp,
    pkce,
    refresh,
)

pytestmark = pytest.mark.django_db


def test_it_points_a_client_from_the_401_to_the_metadata(client: Client) -> None:
    response = mcp(client, None)
    assert response.status_code == 401
    challenge = response["WWW-Authenticate"]
    metadata_url = f"{settings.ANNORIS_PUBLIC_URL}/.well-known/oauth-protected-resource/mcp"
    assert f'resource_metadata="{metadata_url}"' in challenge and 'scope="read write"' in challenge

    for path in ("/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"):
        resource = client.get(path).json()
        assert resource["resource"] == f"{settings.ANNORIS_PUBLIC_URL}/mcp"
        assert resource["authorization_servers"] == [settings.ANNORIS_PUBLIC_URL]
        assert resource["scopes_supported"] == ["read", "write"]
        assert resource["bearer_methods_supported"] == ["header"]

    server = client.get("/.well-known/oauth-authorization-server", HTTP_HOST="127.0.0.1:9999").json()
    issuer = settings.ANNORIS_PUBLIC_URL
    assert server["issuer"] == issuer  # from the setting, not the Host header
    assert server["authorization_endpoint"] == f"{issuer}/oauth/authorize/"
    assert server["token_endpoint"] == f"{issuer}/oauth/token/"
    assert server["registration_endpoint"] == f"{issuer}/oauth/register/"
    assert server["revocation_endpoint"] == f"{issuer}/oauth/revoke/"
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert set(server["grant_types_supported"]) == {"authorization_code", "refresh_token"}
    assert "none" in server["token_endpoint_auth_methods_supported"]
    assert server["scopes_supported"] == ["read", "write"]
    assert server["client_id_metadata_document_supported"] is True


def test_the_whole_flow_then_refresh_then_revocation_in_the_admin(
    client: Client, browser: Client, client_id: str, admin_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    proof = pkce()
    params = authorize_params(client_id, proof)
    page = browser.get("/oauth/authorize/", params)
    text = page.content.decode()
    for shown in ("Claude", "127.0.0.1:43110", "Read your sessions", "Write sessions to GitHub", "/mcp"):
        assert shown in text
    assert "token" not in text.lower().replace("csrfmiddlewaretoken", "")
    assert page["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in page["Content-Security-Policy"]

    code = code_from(consent(browser, params), params["state"])
    issued = exchange(client, client_id, code, proof.verifier)
    assert issued.status_code == 200
    body = issued.json()
    assert body["expires_in"] == 3600 and body["token_type"] == "Bearer" and body["scope"] == "read write"

    listed = mcp(client, body["access_token"])
    assert listed.status_code == 200 and "save_session" in listed.content.decode()

    renewed = refresh(client, client_id, body["refresh_token"])
    assert renewed.status_code == 200
    fresh = renewed.json()
    assert fresh["refresh_token"] != body["refresh_token"]
    assert mcp(client, fresh["access_token"]).status_code == 200
    assert mcp(client, body["access_token"]).status_code == 401  # rotated away

    row = Connection.objects.get()
    assert row.last_used_at is not None and row.user.username == "ada"
    changelist = admin_client.get("/admin/annoris_oauth/connection/")
    assert "Claude" in changelist.content.decode() and "read, write" in changelist.content.decode()
    detail = admin_client.get(f"/admin/annoris_oauth/connection/{row.pk}/change/").content.decode()
    assert "read your sessions; write sessions to GitHub" in detail
    admin_client.post(
        "/admin/annoris_oauth/connection/", {"action": "revoke", "_selected_action": [row.pk]}, follow=True
    )
    refused = mcp(client, fresh["access_token"])
    assert refused.status_code == 401 and "resource_metadata" in refused["WWW-Authenticate"]
    assert refresh(client, client_id, fresh["refresh_token"]).status_code == 400

    secrets_seen = [
        code,
        body["access_token"],
        body["refresh_token"],
        fresh["access_token"],
        fresh["refresh_token"],
    ]
    assert not [s for s in secrets_seen if s in caplog.text]


def test_a_reused_refresh_token_revokes_the_family(client: Client, browser: Client, client_id: str) -> None:
    first = connect(browser, client_id)
    second = refresh(client, client_id, first["refresh_token"]).json()
    assert refresh(client, client_id, first["refresh_token"]).status_code == 400  # the replay
    assert mcp(client, second["access_token"]).status_code == 401
    assert refresh(client, client_id, second["refresh_token"]).status_code == 400


def test_revocation_endpoint(client: Client, browser: Client, client_id: str) -> None:
    issued = connect(browser, client_id)
    assert mcp(client, issued["access_token"]).status_code == 200
    revoked = client.post("/oauth/revoke/", {"token": issued["access_token"], "client_id": client_id})
    assert revoked.status_code == 200
    assert mcp(client, issued["access_token"]).status_code == 401


def test_tokens_and_codes_rest_hashed(client: Client, browser: Client, client_id: str) -> None:
    proof = pkce()
    params = authorize_params(client_id, proof)
    code = code_from(consent(browser, params), params["state"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT code FROM oauth2_provider_grant")
        assert [row[0] for row in cursor.fetchall()] == [tokens.digest_of(code)]
    issued = exchange(client, client_id, code, proof.verifier).json()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT token, token_checksum FROM oauth2_provider_accesstoken WHERE scope = 'read write'"
        )
        access_rows = cursor.fetchall()
        cursor.execute("SELECT token, token_checksum FROM oauth2_provider_refreshtoken")
        refresh_rows = cursor.fetchall()
    assert access_rows == [("", tokens.digest_of(issued["access_token"]))]
    assert refresh_rows == [("", tokens.digest_of(issued["refresh_token"]))]


@pytest.mark.django_db(transaction=True)  # the tools' database thread must see the committed rows
def test_a_read_grant_reads_but_cannot_write_over_mcp_or_rest(
    client: Client, browser: Client, client_id: str
) -> None:
    read = connect(browser, client_id, scope="read")
    listed = mcp(client, read["access_token"], "tools/call", {"name": "list_projects", "arguments": {}})
    assert listed.status_code == 200 and '"isError":false' in listed.content.decode().replace(" ", "")
    save = {"name": "save_session", "arguments": {"markdown": "# New\n", "project": "Annoris"}}
    saved = mcp(client, read["access_token"], "tools/call", save)
    assert "needs a token with the write scope" in saved.content.decode()

    api = connect(browser, client_id, scope="read", resource=f"{settings.ANNORIS_PUBLIC_URL}/api/")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api['access_token']}"}
    assert client.get("/api/projects/", **headers).status_code == 200
    posted = client.post(
        "/api/sessions/", {"markdown": "# New\n"}, content_type="application/json", **headers
    )
    assert posted.status_code == 403


def test_static_api_tokens_still_work_on_mcp_and_api(client: Client) -> None:
    _, secret = tokens.issue(name="claude-code", scope=tokens.READ)
    assert mcp(client, secret).status_code == 200
    assert client.get("/api/projects/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_a_seen_token_costs_no_query_within_the_recheck_bound(
    client: Client, browser: Client, client_id: str, django_assert_num_queries: Any
) -> None:
    issued = connect(browser, client_id)
    _, static = tokens.issue(name="claude-code", scope=tokens.READ)
    assert mcp(client, issued["access_token"]).status_code == 200  # first use: read + last-used write
    assert mcp(client, static).status_code == 200
    with django_assert_num_queries(0):
        assert mcp(client, issued["access_token"]).status_code == 200
    with django_assert_num_queries(0):
        assert mcp(client, static).status_code == 200


def test_the_consent_page_needs_the_permission(
    client: Client, client_id: str, django_user_model: Any
) -> None:
    from django.contrib.auth.models import Permission

    person = django_user_model.objects.create_user("bob", password="x-Pa55word-x")
    client.force_login(person)
    params = authorize_params(client_id, pkce())
    refused = client.get("/oauth/authorize/", params)
    assert refused.status_code == 403 and "may not connect" in refused.content.decode()
    person.user_permissions.add(Permission.objects.get(codename="connect_assistant"))
    person = django_user_model.objects.get(pk=person.pk)
    client.force_login(person)
    assert client.get("/oauth/authorize/", params).status_code == 200


def test_an_anonymous_visitor_logs_in_first(client: Client, client_id: str) -> None:
    params = authorize_params(client_id, pkce())
    response = client.get("/oauth/authorize/", params)
    assert response.status_code == 302 and response["Location"].startswith("/oauth/login/?next=")
    login = client.get(response["Location"])
    assert login.status_code == 200 and "Annoris" in login.content.decode()
    assert issued_tokens() == 0


def test_the_scheduled_purge_removes_what_expired(client: Client, browser: Client, client_id: str) -> None:
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken, Grant, RefreshToken

    from annoris.oauth.connections import KEEP_REVOKED_DAYS
    from annoris.oauth.schedules import ensure_purge_schedule
    from annoris.oauth.tasks import purge_oauth

    schedule, _ = ensure_purge_schedule()
    assert schedule.func == "annoris.oauth.tasks.purge_oauth"
    kept = connect(browser, client_id)
    gone = connect(browser, client_id)
    params = authorize_params(client_id, pkce())
    code_from(consent(browser, params), params["state"])  # a code never exchanged
    long_ago = timezone.now() - timedelta(days=KEEP_REVOKED_DAYS + 1)
    Grant.objects.update(expires=long_ago)
    old = RefreshToken.objects.get(token_checksum=tokens.digest_of(gone["refresh_token"]))
    AccessToken.objects.filter(pk=old.access_token_id).update(expires=long_ago)
    Connection.objects.filter(token_family=old.token_family).update(created_at=long_ago)

    assert purge_oauth() == 1
    assert not Grant.objects.exists()
    assert not RefreshToken.objects.filter(pk=old.pk).exists()
    assert mcp(client, kept["access_token"]).status_code == 200
    assert Connection.objects.count() == 1


def test_a_staff_member_sees_and_revokes_only_their_own_connections(
    client: Client, browser: Client, client_id: str, django_user_model: Any
) -> None:
    mine = connect(browser, client_id)
    other = django_user_model.objects.create_user("grace", password="x-Pa55word-x", is_staff=True)
    theirs_browser = Client()
    theirs_browser.force_login(other)
    theirs = connect(theirs_browser, client_id)

    page = browser.get("/admin/annoris_oauth/connection/")
    assert page.status_code == 200 and page.context["cl"].result_count == 1
    assert "Connected apps" in browser.get("/admin/").content.decode()
    everyone = Connection.objects.values_list("pk", flat=True)
    browser.post("/admin/annoris_oauth/connection/", {"action": "revoke", "_selected_action": list(everyone)})
    assert mcp(client, mine["access_token"]).status_code == 401
    assert mcp(client, theirs["access_token"]).status_code == 200  # not hers to revoke


def test_a_recheck_is_one_query(
    client: Client, browser: Client, client_id: str, settings: Any, django_assert_num_queries: Any
) -> None:
    issued = connect(browser, client_id)
    settings.ANNORIS_TOKEN_RECHECK = 0  # every request asks the database again
    assert mcp(client, issued["access_token"]).status_code == 200  # first: read, and "last used" written
    assert Connection.objects.get().last_used_at is not None
    with django_assert_num_queries(1):
        assert mcp(client, issued["access_token"]).status_code == 200
