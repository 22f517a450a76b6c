"""A captured, correctly signed push replayed under fresh delivery ids queues one sync, not ten
(issue #20, finding 12). Syncs are counted as django-q2 queues them (its ORM broker)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django_q.models import OrmQ

from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import Session
from sync_app.models import WebhookDelivery
from sync_app.tests.conftest import WEBHOOK_SECRET, WEBHOOK_URL, push_payload
from sync_app.webhooks import signature_for

Post = Callable[..., Any]


def _queued_syncs() -> int:
    return sum(1 for q in OrmQ.objects.all() if q.func() == "sync_app.tasks.sync_sessions")


@pytest.mark.django_db(transaction=True)
def test_a_push_replayed_under_ten_fresh_delivery_ids_queues_one_sync(
    github: GitHubEmulator, post_webhook: Post
) -> None:
    payload = push_payload(github)
    answers = [post_webhook(payload, delivery=str(uuid.uuid4())) for _ in range(10)]

    assert [a.status_code for a in answers] == [202] + [200] * 9
    assert all("replay of push" in a.json()["detail"] for a in answers[1:])
    assert _queued_syncs() == 1
    statuses = sorted(WebhookDelivery.objects.values_list("status", flat=True))
    assert statuses == ["ignored"] * 9 + ["queued"]


@pytest.mark.django_db(transaction=True)
def test_a_new_push_still_queues_its_own_sync(github: GitHubEmulator, post_webhook: Post) -> None:
    assert post_webhook(push_payload(github), delivery="first").status_code == 202
    github.commit_files({"annoris/2025-11-01-new.md": b"# New\n"}, message="push 2")
    assert post_webhook(push_payload(github), delivery="second").status_code == 202
    assert _queued_syncs() == 2


@pytest.mark.django_db(transaction=True)
def test_a_push_whose_sync_failed_can_be_delivered_again(
    github: GitHubEmulator, post_webhook: Post, q_sync: None
) -> None:
    github.fail_next(1, status=401)  # the first sync fails: the push is not in the database
    assert post_webhook(push_payload(github), delivery="first").status_code == 202
    assert WebhookDelivery.objects.get(delivery_id="first").status == "failed"

    again = post_webhook(push_payload(github), delivery="second")  # a fresh id, the same push
    assert again.status_code == 202
    assert Session.objects.live().count() == 9


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_replays_queue_one_sync(github: GitHubEmulator) -> None:
    body = json.dumps(push_payload(github)).encode()
    headers = {
        "HTTP_X_GITHUB_EVENT": "push",
        "HTTP_X_HUB_SIGNATURE_256": signature_for(body, WEBHOOK_SECRET),
    }
    start = threading.Barrier(10)
    statuses: list[int] = []

    def replay() -> None:
        try:
            start.wait()
            response = Client().post(
                WEBHOOK_URL, data=body, content_type="application/json",
                HTTP_X_GITHUB_DELIVERY=str(uuid.uuid4()), **headers,
            )  # fmt: skip
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=replay) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200] * 9 + [202]
    assert _queued_syncs() == 1
