"""The outbox admin's retry and discard (issue #20, finding 4) in a real deployment: gunicorn
(gunicorn.conf.py) serves the API and the admin, ``manage.py worker`` (qcluster) drains the
outbox, both on PostgreSQL with the emulator as GitHub. Staff sign in through the admin's
login form, with its CSRF cookie, as a browser does. A view-only member's discard and retry
change nothing; an operator's discard asks first, then sticks: the worker never sends the
discarded write once GitHub is back, and the admin's history names who discarded it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from annoris.api import tokens
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import PendingWrite
from sessions_app.tests.writes.conftest import file_at
from sessions_app.tests.writes.processes import serving, tuned_env, working

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-123456789"


def _staff(url: str, username: str, *perms: str) -> requests.Session:
    """A browser session of a staff member holding ``perms``, signed in through the login form."""
    user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    browser = requests.Session()
    login = f"{url}{reverse('admin:login')}"
    form = browser.get(login, timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert csrf, form.text[:500]
    fields = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf[1], "next": "/admin/"}
    signed_in = browser.post(login, data=fields, timeout=30)
    assert signed_in.status_code == 200 and "Log out" in signed_in.text, signed_in.text[:500]
    return browser


def _act(browser: requests.Session, url: str, action: str, entry: int, *, confirm: bool) -> requests.Response:
    changelist = f"{url}{reverse('admin:sessions_app_pendingwrite_changelist')}"
    data = {
        "action": action, "_selected_action": [entry], "index": "0",
        "csrfmiddlewaretoken": browser.cookies.get("csrftoken", ""),
    }  # fmt: skip
    if confirm:
        data["post"] = "yes"
    return browser.post(changelist, data=data, timeout=30)


def test_only_an_operator_can_discard_and_the_worker_never_sends_the_discarded_write(
    gh: GitHubEmulator, tmp_path: Path
) -> None:
    auth = {"Authorization": f"Bearer {tokens.issue(name='writer', scope=tokens.WRITE)[1]}"}
    gh.fail_next(100_000, status=503)
    env = tuned_env(gh)

    with serving(env, tmp_path / "web.log", config=True) as web:
        created = requests.post(
            f"{web.url}/api/sessions/", json={"content": "# Accepted\n"}, headers=auth, timeout=30
        )
        assert created.status_code == 202, created.text
        entry, path = created.json()["outbox"]["id"], created.json()["path"]

        viewer = _staff(web.url, "viewer", "view_pendingwrite")
        tried = [_act(viewer, web.url, action, entry, confirm=True) for action in ("discard", "retry")]
        after_viewer = PendingWrite.objects.get(pk=entry).status

        operator = _staff(web.url, "operator", "view_pendingwrite", "change_pendingwrite")
        asked = _act(operator, web.url, "discard", entry, confirm=False)
        after_asking = PendingWrite.objects.get(pk=entry).status
        done = _act(operator, web.url, "discard", entry, confirm=True)

        tried_at_github = gh.call_count("PUT")  # the create's own first try (503)
        gh.reset_faults()  # GitHub is back: a worker would now land anything still pending
        with working(env, tmp_path / "worker.log"):
            time.sleep(3)

    assert all(answer.status_code in (200, 302, 403) for answer in tried), [a.status_code for a in tried]
    assert after_viewer == "pending"
    assert asked.status_code == 200 and "Yes, discard them" in asked.text and after_asking == "pending"
    assert done.status_code == 200 and PendingWrite.objects.get(pk=entry).status == "discarded"
    assert gh.call_count("PUT") == tried_at_github and file_at(gh, path) is None  # never sent again
    log = LogEntry.objects.get()
    assert (log.user.username, log.object_id) == ("operator", str(entry))
    assert "discard" in log.get_change_message()
