"""A logged-out visitor in a browser (issue #19): the landing page's links lead to a login page or
a page, never to raw JSON; API clients keep the JSON error, with its meaning."""

from __future__ import annotations

import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # Chromium's Accept


def landing_links() -> list[str]:
    html = Client().get("/").content.decode()
    return re.findall(r'<a href="([^"]+)"', html)


def test_every_landing_link_leads_a_browser_to_a_page() -> None:
    links = landing_links()
    assert {"/admin/", "/api/docs/", "/api/sessions/", "/health"} <= set(links)
    browser = Client()
    for link in links:
        response = browser.get(link, HTTP_ACCEPT=BROWSER, follow=True)
        assert response.status_code in (200, 503), link
        assert response["Content-Type"].startswith("text/html"), (link, response["Content-Type"])
        if link.startswith(("/admin/", "/api/")):  # a login page that brings the visitor back
            assert response.redirect_chain, link
            assert response.redirect_chain[-1][0].startswith(f"/admin/login/?next={link}"), link


def test_after_logging_in_the_browser_comes_back_to_the_api() -> None:
    get_user_model().objects.create_superuser("visitor", "", "pw-visitor-1")
    browser = Client()
    sent = browser.get("/api/sessions/", HTTP_ACCEPT=BROWSER)
    login = sent["Location"]
    page = browser.get(login)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)  # type: ignore[union-attr]
    form = {
        "username": "visitor",
        "password": "pw-visitor-1",
        "csrfmiddlewaretoken": token,
        "next": "/api/sessions/",
    }
    back = browser.post(login, form, follow=True, HTTP_ACCEPT=BROWSER)
    assert back.redirect_chain[-1][0] == "/api/sessions/"
    assert back.status_code == 200 and b"Annoris API" in back.content


def test_clients_asking_for_json_keep_the_401_and_its_code() -> None:
    for accept in ("application/json", "*/*", ""):
        response = Client().get("/api/sessions/", HTTP_ACCEPT=accept)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
    as_json = Client().get("/api/sessions/", {"format": "json"}, HTTP_ACCEPT=BROWSER)
    assert as_json.status_code == 401 and as_json.json()["code"] == "not_authenticated"
    bad_token = Client().get("/api/sessions/", HTTP_ACCEPT=BROWSER, HTTP_AUTHORIZATION="Bearer nope")
    assert bad_token.status_code == 401 and bad_token.json()["code"] == "authentication_failed"


def test_an_error_shown_to_a_logged_in_browser_keeps_its_meaning(admin_client: Client) -> None:
    response = admin_client.get(f"/api/sessions/{uuid.uuid4()}/", HTTP_ACCEPT=BROWSER)
    assert response.status_code == 404
    assert response.json() == {"detail": "No such session.", "code": "not_found", "errors": {}}


def test_health_is_a_page_for_browsers_and_json_for_probes() -> None:
    page = Client().get("/health", HTTP_ACCEPT=BROWSER)
    assert page["Content-Type"].startswith("text/html") and b"Database" in page.content
    assert Client().get("/health").json()["database"]["status"] == "connected"
    assert Client().get("/health", {"format": "json"}, HTTP_ACCEPT=BROWSER).json()["status"]


def test_favicon_ico_is_annoris_s_icon() -> None:
    from django.contrib.staticfiles import finders
    from django.templatetags.static import static

    response = Client().get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == static("annoris/favicon.svg")
    icon = finders.find("annoris/favicon.svg")
    assert icon and open(icon).read().startswith("<svg")
