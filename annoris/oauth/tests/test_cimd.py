"""Client ID Metadata Documents: the flow with a document served by a local HTTPS server, and
the bounded fetch's refusals (private addresses, 50 MB, bad redirect URIs), none issuing a token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from oauth2_provider.models import Application

from annoris.oauth.tests.cimd_server import DocumentServer
from annoris.oauth.tests.conftest import REDIRECT, authorize_params, connect, issued_tokens, mcp, pkce

pytestmark = pytest.mark.django_db


@pytest.fixture
def documents(tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[DocumentServer]:
    settings.ANNORIS_OAUTH_CIMD_ALLOW_LOOPBACK = True  # the test server is on 127.0.0.1
    with DocumentServer(tmp_path, REDIRECT) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))  # trust its self-signed certificate
        yield server


def test_the_flow_with_a_client_metadata_document(
    client: Client, browser: Client, documents: DocumentServer
) -> None:
    client_id = documents.base_url + "/client.json"
    page = browser.get("/oauth/authorize/", authorize_params(client_id, pkce()))
    assert page.status_code == 200 and "Metadata Client" in page.content.decode()
    issued = connect(browser, client_id)
    assert mcp(client, issued["access_token"]).status_code == 200
    assert documents.hits["/client.json"] == 1  # cached: fetched once for three requests
    assert Application.objects.get(client_id=client_id).registration_source == "cimd"


def _refused(browser: Client, client_id: str) -> None:
    started = time.monotonic()
    response = browser.get("/oauth/authorize/", authorize_params(client_id, pkce()))
    assert response.status_code in (400, 401) and "Location" not in response
    assert time.monotonic() - started < 10  # bounded by the fetch timeout
    assert not Application.objects.filter(client_id=client_id).exists()
    assert issued_tokens() == 0


@pytest.mark.parametrize(
    "client_id",
    [
        "https://10.1.2.3/client.json",  # private
        "https://169.254.169.254/latest/meta-data.json",  # link-local (cloud metadata)
        "https://192.168.0.1/client.json",
        "https://[fd00::1]/client.json",
        "https://localhost:1/client.json",  # loopback, with the test switch off
        "http://localhost:1/client.json",  # not https: not even a metadata URL
    ],
)
def test_a_document_at_a_private_address_is_never_fetched(browser: Client, client_id: str) -> None:
    _refused(browser, client_id)


def test_a_50_mb_document_is_refused(browser: Client, documents: DocumentServer) -> None:
    _refused(browser, documents.base_url + "/huge.json")
    assert documents.hits["/huge.json"] == 1


def test_a_document_with_an_http_redirect_off_loopback_is_refused(
    browser: Client, documents: DocumentServer
) -> None:
    _refused(browser, documents.base_url + "/client-http.json")


def test_a_document_whose_client_id_differs_from_its_url_is_refused(
    browser: Client, documents: DocumentServer
) -> None:
    _refused(browser, documents.base_url + "/client-other.json")
