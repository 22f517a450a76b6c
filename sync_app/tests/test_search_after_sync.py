"""A sync leaves nothing waiting to be indexed once the worker has run the task it queued.

A sync of 9 to 50 files indexes their words inline but embeds at most 8 sessions inline: the rest
wait for the worker's ``index_search`` task. That task was only queued for imports over 50
files, so the 9 sample sessions of ``make run`` waited for their vectors forever, and every
hybrid answer said ``incomplete`` (found on a fresh clone, 2026-12-07)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_q.models import OrmQ

from annoris.api import tokens
from annoris.sources.local import LocalSource
from sessions_app.models import SearchVector, Session
from sessions_app.search import run_search
from sessions_app.search.freshness import forget
from sync_app.engine import run_sync
from sync_app.services import INDEX_TASK


def queued_index_tasks() -> int:
    return sum(1 for task in OrmQ.objects.all() if task.func() == INDEX_TASK)


def health_search_index() -> dict:
    token = tokens.issue(name="ops", scope=tokens.READ)[1]  # /health's counts need a token or staff
    return Client().get("/health", HTTP_AUTHORIZATION=f"Bearer {token}").json()["search_index"]


def test_a_sync_of_the_samples_queues_their_vectors_and_health_shows_them_waiting(
    db: None, local_source: LocalSource, settings
) -> None:  # noqa: ANN001
    settings.ANNORIS_SEARCH_SEMANTIC = True
    run_sync(source=local_source)
    sessions = Session.objects.live().count()
    assert 8 < sessions <= 50  # more than a write embeds inline, fewer than an import
    assert queued_index_tasks() == 1
    assert health_search_index() == {"status": "behind", "waiting": sessions}
    answer = run_search("webhook", hybrid=True).as_dict()
    assert answer["results"] and answer["incomplete"] is True and answer["waiting_to_index"] == sessions

    run_sync(source=local_source)  # nothing changed, and the queued task will index them: no other
    assert queued_index_tasks() == 1


def test_a_sync_that_changes_nothing_queues_the_index_for_sessions_left_waiting(
    db: None, local_source: LocalSource, q_sync: None, settings
) -> None:  # noqa: ANN001
    """Sessions an earlier run left without vectors (a worker that was down, a version before
    this fix) are queued by the next sync, even one that changes no file."""
    settings.ANNORIS_SEARCH_SEMANTIC = True
    run_sync(source=local_source)
    SearchVector.objects.all().delete()
    forget()
    assert health_search_index()["status"] == "behind"
    run_sync(source=local_source)  # q_sync: the task it queues runs at once
    assert SearchVector.objects.count() == Session.objects.live().count()
    assert health_search_index() == {"status": "ok", "waiting": 0}


def test_once_the_worker_ran_the_task_hybrid_answers_are_complete(
    db: None, local_source: LocalSource, q_sync: None, settings
) -> None:  # noqa: ANN001
    settings.ANNORIS_SEARCH_SEMANTIC = True
    run_sync(source=local_source)  # q_sync: the queued task runs at once, as the worker would
    assert SearchVector.objects.count() == Session.objects.live().count()
    assert health_search_index() == {"status": "ok", "waiting": 0}
    answer = run_search("webhook", hybrid=True).as_dict()
    assert answer["results"] and answer["incomplete"] is False and "waiting_to_index" not in answer


def test_with_hybrid_search_off_a_small_sync_queues_nothing(
    db: None, local_source: LocalSource, settings
) -> None:  # noqa: ANN001
    settings.ANNORIS_SEARCH_SEMANTIC = False
    run_sync(source=local_source)
    assert queued_index_tasks() == 0
    assert health_search_index() == {"status": "ok", "waiting": 0}


@pytest.mark.parametrize("semantic", [True, False])
def test_health_counts_vectors_only_while_hybrid_search_is_on(
    db: None, local_source: LocalSource, q_sync: None, settings, semantic: bool
) -> None:  # noqa: ANN001
    settings.ANNORIS_SEARCH_SEMANTIC = True
    run_sync(source=local_source)
    SearchVector.objects.filter(session__in=Session.objects.all()[:2]).delete()
    settings.ANNORIS_SEARCH_SEMANTIC = semantic
    forget()
    expected = {"status": "behind", "waiting": 2} if semantic else {"status": "ok", "waiting": 0}
    assert health_search_index() == expected
