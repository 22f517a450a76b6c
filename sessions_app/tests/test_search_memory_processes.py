"""The sentence model in a real gunicorn (issue #17, memory per web process): the Procfile's
gunicorn.conf.py loads it once in the preloaded master, and its forked workers answer hybrid
searches without a private copy of it (~120 MB each otherwise)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from annoris.api import tokens
from sessions_app.models import SearchVector, Session
from sessions_app.search import embed_pending
from sessions_app.tests.writes.processes import database_url, serving

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def megabytes(pid: int) -> dict[str, float]:
    """RSS and USS (pages no other process shares) of ``pid``, from /proc."""
    fields: dict[str, float] = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            name, _, value = line.partition(":")
            if value.strip().endswith("kB"):
                fields[name] = int(value.split()[0]) / 1024
    return {"rss": fields["Rss"], "uss": fields["Private_Clean"] + fields["Private_Dirty"]}


def test_gunicorn_workers_search_by_meaning_with_the_model_the_master_loaded(
    synced: list[Session], sample_dir: Path, tmp_path: Path
) -> None:
    embed_pending()
    assert SearchVector.objects.count() == len(synced)
    token = tokens.issue(name="reader")[1]
    env = {**os.environ, "DATABASE_URL": database_url(), "SESSIONS_SOURCE": str(sample_dir),
           "ANNORIS_SEARCH_SEMANTIC": "1"}  # fmt: skip
    with serving(env, tmp_path / "web.log", config=True, workers=2) as web:
        answers = [
            requests.get(
                f"{web.url}/api/search/",
                params={"q": "how do we avoid charging a customer twice"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )  # fmt: skip
            for _ in range(8)  # both workers take some
        ]
        with open(f"/proc/{web.proc.pid}/task/{web.proc.pid}/children") as children:
            workers = [int(pid) for pid in children.read().split()]
        master, used = megabytes(web.proc.pid), [megabytes(pid) for pid in workers]

    for answer in answers:
        assert answer.status_code == 200, answer.text[:300]
        first = answer.json()["results"][0]
        assert first["path"].endswith("2025-09-15-stripe-billing.md") and first["match"] == "meaning"
    assert len(workers) == 2
    assert master["rss"] > 150, master  # the master holds the model (~120 MB)
    for worker in used:  # and each worker shares it: its own pages are far fewer than the model's
        assert worker["uss"] < 70, (worker, used)
