"""The threshold algorithm (search/topk.py) answers exactly what the SQL ranking answers.

On a generated corpus whose words every session holds (bench/corpus.py's small vocabulary), the
same queries are ranked twice: by ``ranking``'s GROUP BY over every match, and by the top-k
path with its thresholds lowered so that it serves them. The pages (order, scores to the bit,
ties by session id) must be equal; the count is a lower bound there. On SQLite the top-k path is
never taken (PostgreSQL only) and the test checks the same calls answer alike.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from annoris.api import tokens
from projects_app.models import Project
from sessions_app.models import Session
from sessions_app.search import (
    frequencies,
    index_key,
    index_pending,
    phrase_topk,
    ranking,
    search_sessions,
    topk,
)
from sessions_app.search.parser import EXACT, parse
from sessions_app.search.ranking import Filters, query_terms, rank
from sessions_app.search.terms import term_hash
from sessions_app.services import session_soft_delete_missing

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from corpus import _WORDS, make_corpus  # noqa: E402 - bench/ is not a package

QUERIES = [
    "median latency",
    f"{_WORDS[0]} {_WORDS[1]}",
    f"{_WORDS[2]} {_WORDS[5]} {_WORDS[7]}",
    f"{_WORDS[3]}",
    f"{_WORDS[4]} -{_WORDS[6]}",
    f"{_WORDS[8]} {_WORDS[8]}",
    f"{_WORDS[9]} {_WORDS[10]} -{_WORDS[11]} -{_WORDS[12]}",
]
PAGES = [(10, 0), (7, 5), (1, 0), (100, 0), (3, 40)]


@pytest.fixture
def dense(db: None, tmp_path: Path) -> list[Session]:
    from annoris.sources.local import LocalSource
    from sync_app.engine import run_sync

    for path, data in make_corpus(120, seed=11, size=1500).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    run_sync(source=LocalSource(tmp_path, repository="bench/corpus"))
    index_pending()
    gone = list(Session.objects.order_by("id").values_list("github_path", flat=True)[::9])
    session_soft_delete_missing(paths=gone, deleted_at=datetime.now(UTC))  # deleted: never found
    return list(Session.objects.live())


@pytest.fixture
def kept_statistics(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fresh statistics kept for the whole test: counts cached by an earlier test could expire
    between the two rankings compared, and their idf (so their scores) would differ."""
    monkeypatch.setattr(frequencies, "STATS_TTL", 3600.0)
    monkeypatch.setattr(frequencies, "_count_cache", [0, 0, 0.0])  # documents, total length, until
    monkeypatch.setattr(frequencies, "_df_cache", {})


def ranked(query: str, filters: Filters, limit: int, offset: int) -> tuple[list, int]:
    parsed = parse(query)
    _, key = index_key()
    hashes = {term: term_hash(key, term) for term in query_terms(parsed)}
    return rank(parsed, hashes, filters=filters, limit=limit, offset=offset)


# GONE_MAX 1: more soft-deleted sessions (every 9th) than a search reads once, so each round
# asks the sessions table which candidates are live.
@pytest.mark.parametrize("gone_max", [topk.GONE_MAX, 1])
@pytest.mark.usefixtures("kept_statistics")
def test_the_top_k_path_ranks_exactly_as_the_sql(
    dense: list[Session], monkeypatch: pytest.MonkeyPatch, gone_max: int
) -> None:
    project = Project.objects.order_by("name").first()
    assert project is not None
    since = sorted(s.created_at for s in dense)[len(dense) // 3]
    filters = [Filters(), Filters(project_id=project.pk), Filters(since=since), Filters(state=dense[0].state)]
    used = 0
    for query in QUERIES:
        for where in filters:
            for limit, offset in PAGES:
                monkeypatch.setattr(topk, "DENSE_MIN", 10**9)  # the SQL
                expected, total = ranked(query, where, limit, offset)
                monkeypatch.setattr(topk, "DENSE_MIN", 1)
                monkeypatch.setattr(topk, "COUNT_CAP", 10)
                monkeypatch.setattr(topk, "FIRST_BATCH", 4)  # several rounds of sorted access
                monkeypatch.setattr(topk, "MAX_K", 200)
                monkeypatch.setattr(topk, "GONE_MAX", gone_max)
                found, count = ranked(query, where, limit, offset)
                assert found == expected, (query, where, limit, offset)
                if isinstance(count, topk.AtLeast):
                    used += 1
                    assert count == 10 <= total, (query, where)
                else:
                    assert count == total, (query, where)
    if connection.vendor == "postgresql":
        assert used > len(QUERIES) * len(PAGES)  # the path did serve (not every filter leaves 10 exact)
    else:
        assert used == 0


def test_a_capped_count_says_so_and_small_ones_stay_exact(
    dense: list[Session], monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.ANNORIS_SEARCH_SEMANTIC = False  # hybrid takes the best 100: more than 10 hold both
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name='assistant')[1]}")
    body = client.get("/api/search/", {"q": "median latency", "limit": 5}).json()
    assert body["count_exact"] is True and body["count"] == search_sessions("median latency")[1]
    monkeypatch.setattr(topk, "DENSE_MIN", 1)
    monkeypatch.setattr(topk, "COUNT_CAP", 10)
    monkeypatch.setattr(topk, "MAX_K", 200)
    capped = client.get("/api/search/", {"q": "median latency", "limit": 5}).json()
    assert [hit["id"] for hit in capped["results"]] == [hit["id"] for hit in body["results"]]
    if connection.vendor == "postgresql":
        assert capped["count_exact"] is False and capped["count"] == 10
    else:
        assert capped == body


@pytest.mark.usefixtures("kept_statistics")
def test_matches_one_short_of_the_cap_get_the_sqls_exact_count(
    dense: list[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The threshold algorithm scores a few matches; the rest are counted past its cursor. One
    match short of COUNT_CAP, the answer is the SQL's exact count; at the cap, "at least"."""
    query = QUERIES[1]
    monkeypatch.setattr(topk, "DENSE_MIN", 10**9)  # the SQL
    expected, total = ranked(query, Filters(), 3, 0)
    every, _ = ranked(query, Filters(), None, 0)  # both words exactly: the top tier
    exact = sum(1 for _, score in every if score >= ranking.TIER * EXACT * 2)
    assert total >= exact > 20
    monkeypatch.setattr(topk, "DENSE_MIN", 1)
    monkeypatch.setattr(topk, "FIRST_BATCH", 2)  # a few matches scored, most left to the count
    monkeypatch.setattr(topk, "COUNT_CAP", exact + 1)
    assert ranked(query, Filters(), 3, 0) == (expected, total)
    assert not isinstance(ranked(query, Filters(), 3, 0)[1], topk.AtLeast)
    monkeypatch.setattr(topk, "COUNT_CAP", exact)
    found, count = ranked(query, Filters(), 3, 0)
    assert found == expected
    if connection.vendor == "postgresql":
        assert isinstance(count, topk.AtLeast) and count == exact


@pytest.mark.usefixtures("kept_statistics")
def test_a_phrase_every_session_holds_gets_the_sql_page(
    dense: list[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``"def step"`` (a code block of the generated sessions) and a sentence's pair: the
    threshold algorithm over the phrase's words, its candidates checked for the pair, answers the
    SQL's page (order and scores to the bit); its count says "at least"."""
    holders = [s for s in dense if "def step" in s.text]
    assert len(holders) > len(dense) // 2  # held by most: the pages below are full
    project = Project.objects.order_by("name").first()
    assert project is not None
    filters = [Filters(), Filters(project_id=project.pk), Filters(state=dense[0].state)]
    used = 0
    for query in ['"def step"', f'"{_WORDS[0]} {_WORDS[1]}"', f"{_WORDS[2]}-{_WORDS[3]}"]:
        for where, holding in [(where, 0.5) for where in filters] + [(Filters(), 1.5)]:
            # MIN_HOLDING 1.5: the first path gives up, every holder is read, then the words ranked
            monkeypatch.setattr(phrase_topk, "MIN_HOLDING", holding)
            for limit, offset in PAGES:
                monkeypatch.setattr(topk, "COUNT_CAP", 10**9)  # the SQL
                expected, total = ranked(query, where, limit, offset)
                monkeypatch.setattr(topk, "COUNT_CAP", 10)
                monkeypatch.setattr(topk, "FIRST_BATCH", 4)  # several rounds of sorted access
                monkeypatch.setattr(topk, "MAX_K", 200)
                found, count = ranked(query, where, limit, offset)
                assert found == expected, (query, where, limit, offset)
                if isinstance(count, topk.AtLeast):
                    used += query == '"def step"' and where == Filters()
                    assert count == 10 <= total, (query, where)
                else:
                    assert count == total, (query, where)
    if connection.vendor == "postgresql":
        assert used == len(PAGES)  # every page of "def step" unfiltered
    else:
        assert used == 0


def test_a_phrase_ranks_the_sessions_that_repeat_its_words_first(db: None, tmp_path: Path) -> None:
    """A pair set says only that a session holds a phrase: its words' BM25 ranks the matches, so
    a session about the phrase comes before a shorter one that mentions it once."""
    from annoris.sources.local import LocalSource
    from sync_app.engine import run_sync

    texts = {
        "about.md": "# Time zones\n\nThe time zone of a user. " + "Each time zone has a zone name. " * 5,
        "short.md": "# Note\n\nSet the time zone.",
        "other.md": "# Other\n\nTime is short; the zone is far. " * 3,
    }
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
    run_sync(source=LocalSource(tmp_path, repository="acme/zones"))
    index_pending()
    hits, total = search_sessions('"time zone"')
    assert [hit.path for hit in hits] == ["about.md", "short.md"] and total == 2


@pytest.mark.usefixtures("kept_statistics")
def test_a_deep_page_takes_the_top_k_path_only_when_the_words_are_common(
    dense: list[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hybrid search fuses the best 100 by words: deeper than MAX_K, served here only when the
    rarest word is held by DEEP_MIN sessions (at 10,000 the SQL is cheaper), with the SQL's page."""
    monkeypatch.setattr(topk, "DENSE_MIN", 10**9)
    expected, total = ranked("median latency", Filters(), 40, 0)
    monkeypatch.setattr(topk, "DENSE_MIN", 1)
    monkeypatch.setattr(topk, "COUNT_CAP", 10)
    monkeypatch.setattr(topk, "FIRST_BATCH", 4)
    monkeypatch.setattr(topk, "DEEP_K", 40)
    monkeypatch.setattr(topk, "DEEP_MIN", 10**9)
    assert ranked("median latency", Filters(), 40, 0) == (expected, total)  # the SQL: words too rare
    monkeypatch.setattr(topk, "DEEP_MIN", 1)
    found, count = ranked("median latency", Filters(), 40, 0)
    assert found == expected
    assert isinstance(count, topk.AtLeast) == (connection.vendor == "postgresql")


def test_a_count_is_reused_longer_the_more_it_counted_within_a_bound() -> None:
    """A word held by every one of 100,000 sessions took 13-22 ms to recount: such a count is
    kept STATS_SPAN times as long as a small one, which a new session changes at once."""
    assert frequencies.kept(3) == frequencies.STATS_TTL
    assert frequencies.kept(5 * frequencies.STATS_PER) == 5 * frequencies.STATS_TTL
    assert frequencies.kept(100_000) == frequencies.STATS_SPAN * frequencies.STATS_TTL
