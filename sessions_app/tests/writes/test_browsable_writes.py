"""Writing from the browser (issue #19, items 2 and 8): the browsable API's form and raw-data tab
create sessions, forms and JSON take the same fields, other body types are refused with 415."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from sessions_app.models import Session

LIST = "/api/sessions/"


def staff_browser() -> Client:
    user = get_user_model().objects.create_user("editor", password="pw", is_staff=True)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    return browser


def page(browser: Client) -> str:
    response = browser.get(LIST, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    return response.content.decode()


def csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_the_form_shows_the_fields_a_session_is_written_with(local: Path) -> None:
    html = page(staff_browser())
    form = html[html.index('id="post-object-form"') :]
    form = form[: form.index("</form>")]
    for name in ("content", "title", "project", "status", "priority", "date", "path"):
        assert f'name="{name}"' in form, name
    for read_only in ("sha", "size", "last_synced", "url", "checksum"):
        assert f'name="{read_only}"' not in form, read_only
    assert "<textarea" in form  # the document gets room


def test_the_form_creates_a_session_in_its_project(local: Path) -> None:
    browser = staff_browser()
    html = page(browser)
    fields = {
        "csrfmiddlewaretoken": csrf(html), "content": "# From the form\n\nWritten in the browser.\n",
        "title": "", "project": "Pricewise", "status": "✅ done", "priority": "", "date": "2025-12-04",
        "path": "",
    }  # fmt: skip
    created = browser.post(LIST, fields, HTTP_ACCEPT="text/html")
    assert created.status_code == 201, created.content[:500]
    session = Session.objects.get(title="From the form")
    assert session.project is not None and session.project.name == "Pricewise"
    assert session.github_path == "pricewise/2025-12-04-from-the-form.md"
    assert (local / session.github_path).read_text().startswith("---\n")  # the fields went in
    assert "Annoris API" in created.content.decode()  # answered with the browsable page, not raw JSON


def test_the_raw_data_tab_starts_from_a_body_that_works(local: Path) -> None:
    browser = staff_browser()
    html = page(browser)
    raw = re.search(r'<textarea name="_content"[^>]*>(.*?)</textarea>', html, re.S).group(1)  # type: ignore[union-attr]
    body = json.loads(unescape(raw))
    assert set(body) == {"content"} and body["content"].startswith("# ")
    # What the tab's POST button sends (DRF's ajax-form.js): the text as the body, with its media type.
    sent = browser.post(
        LIST, unescape(raw), content_type="application/json", HTTP_X_CSRFTOKEN=csrf(html),
        HTTP_ACCEPT="application/json",
    )  # fmt: skip
    assert sent.status_code == 201, sent.content
    assert Session.objects.filter(github_path=sent.json()["path"]).exists()


def test_json_forms_and_multipart_take_the_same_fields_and_other_bodies_get_415(
    writer: APIClient, local: Path
) -> None:
    fields = {"content": "# Same fields\n", "project": "Lingua Drift", "date": "2025-12-05"}
    as_json = writer.post(LIST, fields, format="json")
    form = urlencode({**fields, "content": "# Same fields, form\n"})
    as_form = writer.post(LIST, form, content_type="application/x-www-form-urlencoded")
    as_multipart = writer.post(LIST, {**fields, "content": "# Same fields, multipart\n"}, format="multipart")
    for response in (as_json, as_form, as_multipart):
        assert response.status_code == 201, response.content
        session = Session.objects.get(github_path=response.json()["path"])
        assert session.project is not None and session.project.name == "Lingua Drift"
    text = writer.post(LIST, "# Plain text\n", content_type="text/plain")
    assert text.status_code == 415 and text.json()["code"] == "unsupported_media_type"
