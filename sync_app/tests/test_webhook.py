"""POST /webhooks/github as GitHub calls it: signed deliveries, replays, redeliveries, bad input."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.core.handlers.asgi import ASGIRequest
from django.test import Client
from django_q.conf import Conf
from django_q.models import Task
from pytest_django.fixtures import Settings as SettingsWrapper

from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import Session
from sync_app import views
from sync_app.engine import run_sync
from sync_app.models import SyncLog, WebhookDelivery
from sync_app.tests.conftest import WEBHOOK_SECRET, WEBHOOK_URL, push_payload
from sync_app.webhooks import signature_for

Post = Callable[..., Any]
HMAC_PATH = "annoris/2025-10-22-webhook-hmac.md"
HMAC_ID = "3f6c2a9e-8b41-4d7f-9a35-1c0e5b7d2f84"  # its front matter id


def change_hmac_session(emulator: GitHubEmulator, line: str) -> None:
    """Commit a new last line to one sample session, as a person pushing to GitHub would."""
    current = emulator.repo.read_object(emulator.repo.path_index(_tree(emulator))[HMAC_PATH].sha)
    assert current is not None
    emulator.commit_files({HMAC_PATH: current[1] + f"\n{line}\n".encode()}, message="Add a line")


def _tree(emulator: GitHubEmulator) -> str:
    info = emulator.repo.commit_info(emulator.head() or "")
    assert info is not None
    return info.tree


def hmac_text() -> str:
    return Session.objects.get(pk=HMAC_ID).text


# -- signature ------------------------------------------------------------------------------


def test_it_signs_like_githubs_test_vector() -> None:
    assert signature_for(b"Hello, World!", "It's a Secret to Everybody") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


@pytest.mark.django_db
def test_it_accepts_the_test_vectors_signature(github: GitHubEmulator, post_webhook: Post) -> None:
    """GITHUB.md's vector passes the signature check: the answer is about the body, not the signature."""
    assert WEBHOOK_SECRET == "It's a Secret to Everybody"
    signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    response = post_webhook(body=b"Hello, World!", signature=signature)
    assert response.status_code == 400
    assert "malformed JSON" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("signature", "detail"),
    [
        (None, "missing X-Hub-Signature-256"),
        ("sha256=" + "0" * 64, "does not match"),
        (signature_for(b"{}", "another secret"), "does not match"),
        ("sha1=abc", "does not match"),
        ("sha256=ünïcode", "does not match"),
    ],
)
def test_it_refuses_a_missing_or_wrong_signature_with_401(
    github: GitHubEmulator, post_webhook: Post, signature: str | None, detail: str
) -> None:
    response = post_webhook(push_payload(github), signature=signature)
    assert response.status_code == 401
    assert detail in response.json()["detail"]
    assert not WebhookDelivery.objects.exists() and not Task.objects.exists()


@pytest.mark.django_db
def test_it_checks_the_signature_before_parsing_anything(github: GitHubEmulator, post_webhook: Post) -> None:
    """Invalid JSON with a wrong signature is a 401: the body was never parsed."""
    response = post_webhook(body=b"{not json", signature="sha256=" + "f" * 64)
    assert response.status_code == 401
    response = post_webhook(body=b"payload=%7Bnot", form=True, signature=None)
    assert response.status_code == 401


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "form", "detail"),
    [
        (b"{not json", False, "malformed JSON"),
        (b"[1, 2]", False, "not a JSON object"),
        (b"\xff\xfe", False, "malformed JSON"),
        (b"zen=hello", True, "form body without a payload field"),
        (b"payload=%7Bnot", True, "malformed JSON"),
    ],
)
def test_it_answers_400_to_a_malformed_body(
    github: GitHubEmulator, post_webhook: Post, body: bytes, form: bool, detail: str
) -> None:
    response = post_webhook(body=body, form=form)
    assert response.status_code == 400
    assert detail in response.json()["detail"]


@pytest.mark.django_db
def test_it_answers_400_to_a_push_without_a_delivery_id(github: GitHubEmulator, post_webhook: Post) -> None:
    response = post_webhook(push_payload(github), delivery=None)
    assert response.status_code == 400
    assert response.json() == {"detail": "missing X-GitHub-Delivery"}
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_it_answers_415_to_another_content_type(github: GitHubEmulator, post_webhook: Post) -> None:
    response = post_webhook(push_payload(github), content_type="text/plain")
    assert response.status_code == 415


@pytest.mark.django_db
def test_it_answers_413_to_a_body_over_the_limit_before_anything_else(
    github: GitHubEmulator, post_webhook: Post, settings: SettingsWrapper
) -> None:
    settings.GITHUB_WEBHOOK_MAX_BYTES = 1000
    big = push_payload(github, padding="x" * 2000)
    assert post_webhook(big).status_code == 413  # correctly signed, still too big
    assert post_webhook(big, signature=None).status_code == 413  # size is checked first
    assert "limit" in post_webhook(big).json()["detail"]
    assert post_webhook(push_payload(github), event="ping").status_code == 200  # under it: fine


@pytest.mark.django_db
def test_it_enforces_the_limit_while_reading_a_body_of_unknown_length(
    github: GitHubEmulator, settings: SettingsWrapper
) -> None:
    """An ASGI request may come without Content-Length; the limit still holds while reading."""
    settings.GITHUB_WEBHOOK_MAX_BYTES = 1000
    body = b'{"zen": "' + b"x" * 5000 + b'"}'
    scope = {
        "type": "http",
        "method": "POST",
        "path": WEBHOOK_URL,
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"x-github-event", b"ping"),
            (b"x-hub-signature-256", signature_for(body, WEBHOOK_SECRET).encode()),
        ],
    }
    request = ASGIRequest(scope, io.BytesIO(body))
    assert "CONTENT_LENGTH" not in request.META
    response = views.github_webhook(request)
    assert response.status_code == 413


@pytest.mark.django_db
def test_it_answers_503_without_a_secret_and_logs_why(
    github: GitHubEmulator, post_webhook: Post, settings: SettingsWrapper, caplog: pytest.LogCaptureFixture
) -> None:
    settings.GITHUB_WEBHOOK_SECRET = ""
    with caplog.at_level(logging.ERROR, logger="sync_app.webhooks"):
        response = post_webhook(push_payload(github), signature=signature_for(b"{}", ""))
    assert response.status_code == 503
    assert response.json() == {"detail": "webhook secret not configured on this server"}
    assert "GITHUB_WEBHOOK_SECRET is not set" in caplog.text
    assert not WebhookDelivery.objects.exists()


def test_it_answers_405_to_other_methods(client: Client) -> None:
    assert client.get(WEBHOOK_URL).status_code == 405


# -- events that are acknowledged and ignored ----------------------------------------------------


@pytest.mark.django_db
def test_it_answers_ping_with_200(github: GitHubEmulator, post_webhook: Post) -> None:
    response = post_webhook({"zen": "Keep it logically awesome.", "hook_id": 1}, event="ping")
    assert (response.status_code, response.json()) == (200, {"detail": "pong"})
    assert not Task.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ref", "extra", "reason"),
    [
        ("refs/heads/feature", {}, "push to refs/heads/feature, not the tracked refs/heads/main"),
        ("refs/tags/v1.0", {}, "tag push refs/tags/v1.0"),
        ("refs/heads/main", {"deleted": True, "after": "0" * 40}, "refs/heads/main was deleted"),
    ],
)
def test_it_acknowledges_and_ignores_pushes_it_does_not_sync(
    github: GitHubEmulator, post_webhook: Post, q_sync: None, ref: str, extra: dict, reason: str
) -> None:
    response = post_webhook(push_payload(github, ref=ref, **extra))
    assert (response.status_code, response.json()) == (200, {"detail": f"ignored: {reason}"})
    delivery = WebhookDelivery.objects.get(delivery_id="d-1")
    assert (delivery.status, delivery.ref, delivery.error) == ("ignored", ref, reason)
    assert not SyncLog.objects.exists() and not Task.objects.exists()


@pytest.mark.django_db
def test_it_acknowledges_and_ignores_other_events(
    github: GitHubEmulator, post_webhook: Post, q_sync: None
) -> None:
    response = post_webhook({"action": "opened", "issue": {"number": 1}}, event="issues")
    assert response.status_code == 200
    assert response.json() == {"detail": "ignored: event 'issues' is not synced"}
    assert WebhookDelivery.objects.get(delivery_id="d-1").status == "ignored"
    again = post_webhook({"action": "opened"}, event="issues")
    assert again.json() == {"detail": "already handled (ignored)"}
    assert not SyncLog.objects.exists()


# -- pushes to the tracked branch -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_it_queues_exactly_one_sync_for_a_push(
    github: GitHubEmulator, post_webhook: Post, q_sync: None, form: bool
) -> None:
    response = post_webhook(push_payload(github), delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958", form=form)
    assert (response.status_code, response.json()) == (202, {"detail": "sync queued"})
    assert Task.objects.filter(func="sync_app.tasks.sync_sessions").count() == 1
    log = SyncLog.objects.get()
    assert (log.source, log.status, log.files_synced) == ("webhook", "success", 9)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.sync_log, delivery.after) == ("done", log, github.head())
    assert Session.objects.live().count() == 9


@pytest.mark.django_db(transaction=True)
def test_it_syncs_the_pushed_change(github: GitHubEmulator, post_webhook: Post, q_sync: None) -> None:
    post_webhook(push_payload(github), delivery="first")
    change_hmac_session(github, "Rotated the webhook secret.")
    github.reset_calls()
    assert post_webhook(push_payload(github), delivery="second").status_code == 202
    assert "Rotated the webhook secret." in hmac_text()
    assert github.call_count(endpoint="blob") == 1  # only the changed file was read
    assert list(SyncLog.objects.values_list("source", flat=True)) == ["webhook", "webhook"]


@pytest.mark.django_db(transaction=True)
def test_it_does_not_queue_a_replayed_delivery(
    github: GitHubEmulator, post_webhook: Post, q_sync: None
) -> None:
    assert post_webhook(push_payload(github)).status_code == 202
    for _ in range(3):
        response = post_webhook(push_payload(github))
        assert (response.status_code, response.json()) == (200, {"detail": "already handled (done)"})
    assert Task.objects.filter(func="sync_app.tasks.sync_sessions").count() == 1
    assert SyncLog.objects.count() == 1
    assert WebhookDelivery.objects.get().attempts == 1


@pytest.mark.django_db(transaction=True)
def test_it_processes_a_redelivery_of_a_delivery_whose_sync_failed(
    github: GitHubEmulator, post_webhook: Post, q_sync: None
) -> None:
    github.fail_next(1, status=401)  # GitHub refuses the token once: the sync fails
    assert post_webhook(push_payload(github)).status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and "token" in delivery.error
    assert not Session.objects.exists()

    response = post_webhook(push_payload(github))  # GitHub's "Redeliver": the same delivery id
    assert (response.status_code, response.json()) == (202, {"detail": "sync queued"})
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == ("done", 2, "")
    statuses = SyncLog.objects.order_by("synced_at").values_list("status", flat=True)
    assert list(statuses) == ["failed", "success"]
    assert Session.objects.live().count() == 9


@pytest.mark.django_db(transaction=True)
def test_it_closes_a_failed_delivery_once_a_later_sync_succeeds(
    github: GitHubEmulator, post_webhook: Post, q_sync: None
) -> None:
    """The schedule (the safety net) synced the push meanwhile: a redelivery has nothing left to do."""
    github.fail_next(1, status=401)
    post_webhook(push_payload(github))
    assert WebhookDelivery.objects.get().status == "failed"
    scheduled = run_sync(trigger="schedule")
    assert scheduled is not None and scheduled.status == "success"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, str(delivery.sync_log_id)) == ("done", scheduled.log_id)
    assert post_webhook(push_payload(github)).json() == {"detail": "already handled (done)"}
    assert SyncLog.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_it_refuses_with_503_when_the_queue_is_down_and_runs_the_redelivery(
    github: GitHubEmulator, post_webhook: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An outage of the queue: GitHub sees a failure (so it can be redelivered), nothing is lost."""
    monkeypatch.setattr(Conf, "ORM", "no-such-database")  # the broker's database is unreachable
    response = post_webhook(push_payload(github))
    assert response.status_code == 503
    assert "redeliver" in response.json()["detail"]
    assert WebhookDelivery.objects.get().status == "failed"

    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(Conf, "SYNC", True)
    assert post_webhook(push_payload(github)).status_code == 202
    assert WebhookDelivery.objects.get().status == "done"
    assert SyncLog.objects.get().source == "webhook"


# -- end to end -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_shows_a_pushed_change_in_the_admin(
    github: GitHubEmulator, post_webhook: Post, q_sync: None, admin_client: Client
) -> None:
    post_webhook(push_payload(github), delivery="initial")
    change_hmac_session(github, "Seen in the admin after a signed push.")
    assert post_webhook(push_payload(github), delivery="the-push").status_code == 202
    page = admin_client.get(f"/admin/sessions_app/session/{HMAC_ID}/change/")
    assert page.status_code == 200
    assert "Seen in the admin after a signed push." in page.content.decode()
    deliveries = admin_client.get("/admin/sync_app/webhookdelivery/?status__exact=done")
    assert deliveries.status_code == 200 and "the-push" in deliveries.content.decode()
