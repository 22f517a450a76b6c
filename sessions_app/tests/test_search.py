"""Search through the blind index: body words in any case, no deleted sessions, no plaintext stored."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from annoris.api import tokens
from sessions_app.documents.folding import words
from sessions_app.documents.nextsteps import front_matter_or_text
from sessions_app.models import SearchDocument, SearchPosting, Session
from sessions_app.search import (
    IndexDocument,
    index_documents,
    index_pending,
    search_session_ids,
    search_sessions,
)
from sessions_app.search.parser import matches, parse, prune
from sessions_app.search.terms import term_set
from sessions_app.services import session_soft_delete_missing

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from corpus import make_corpus  # noqa: E402 - bench/ is not a package

SCRAPER = "pricewise/2025-09-18-scraper-rate-limits.md"


@pytest.fixture
def api(db: None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name='assistant')[1]}")
    return client


def by_path(path: str) -> Session:
    return Session.objects.get(github_path=path)


def scan(query: str, *, include_deleted: bool = False) -> set:
    """The reference: decrypt every session and keep those holding every query word."""
    rows = Session.objects.all() if include_deleted else Session.objects.live()
    decrypted = {row.id: term_set(row.title, row.text) for row in rows}
    known = set().union(*(term_set(r.title, r.text) for r in Session.objects.all()))  # what the index holds
    parsed = prune(parse(query), known)
    return {sid for sid, terms in decrypted.items() if matches(parsed, terms)}


def test_it_finds_a_body_word_in_any_case_cyrillic_included(synced: list[Session]) -> None:
    scraper = by_path(SCRAPER)
    body = scraper.text
    assert "забанил" in body and "забанил" not in scraper.title  # a word of the body only
    for query in ("забанил", "ЗАБАНИЛ", "Забанил", "баны", "БАНЫ", "Бан", "бан", "velo-teile"):
        ids, total = search_session_ids(query)
        assert scraper.id in ids, query
        assert total == len(ids)


def test_it_folds_accents_and_yo(synced: list[Session]) -> None:
    # "придётся" is written with ё in the Annoris redis-strategy session.
    expected = scan("придется")
    assert expected and set(search_session_ids("придётся")[0]) == expected == set(
        search_session_ids("ПРИДЕТСЯ")[0]
    )


def test_recall_equals_decrypt_and_scan_for_every_word_and_pair_of_the_samples(synced: list[Session]) -> None:
    decrypted = {s.id: term_set(s.title, s.text) for s in synced}  # the scan, decrypted once
    vocabulary = sorted({w for s in synced for w in words(f"{s.title}\n{s.text}")})
    assert len(vocabulary) > 500
    pairs = [f"{a} {b}" for a, b in zip(vocabulary[::7], vocabulary[3::7], strict=False)]
    known = set().union(*decrypted.values())
    for query in vocabulary + pairs:
        parsed = prune(parse(query), known)
        expected = {sid for sid, found in decrypted.items() if matches(parsed, found)}
        assert set(search_session_ids(query, limit=None)[0]) == expected, query


def test_recall_equals_decrypt_and_scan_on_a_generated_corpus(db: None, tmp_path: Path) -> None:
    from annoris.sources.local import LocalSource
    from sync_app.engine import run_sync

    for path, data in make_corpus(60, seed=3, size=3000).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    run_sync(source=LocalSource(tmp_path, repository="bench/corpus"))
    index_pending()  # what the worker's queued task does after an import of this size
    for query in ("redis", "sync tree", "кэш очередь", "ETAG Blob", "median percentile", "signature запрос"):
        expected = scan(query)
        assert expected, query
        assert set(search_session_ids(query, limit=None)[0]) == expected, query


def test_it_ranks_by_bm25_and_snippets_come_from_the_body(synced: list[Session]) -> None:
    hits, total = search_sessions("забанил")
    assert total == 1 and hits[0].session_id == by_path(SCRAPER).id
    assert "забанил" in hits[0].snippet and hits[0].score > 0
    hits, _ = search_sessions("redis")
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_it_never_finds_a_deleted_session(synced: list[Session]) -> None:
    scraper = by_path(SCRAPER)
    session_soft_delete_missing(paths=[SCRAPER], deleted_at=datetime.now(UTC))
    assert scraper.id not in search_session_ids("забанил")[0]
    assert search_sessions("забанил") == ([], 0)
    Session.objects.filter(id=scraper.id).delete()
    assert not SearchPosting.objects.filter(session_id=scraper.id).exists()


@pytest.mark.django_db(transaction=True)
def test_indexing_a_session_deleted_meanwhile_leaves_no_postings() -> None:
    """The postings carry no foreign key constraint of their own (checking it per row cost
    more than half of PostgreSQL's indexing CPU): the index entry written in the same
    transaction must make the whole write fail, so no posting outlives its session."""
    gone = uuid.uuid4()
    with pytest.raises(IntegrityError), transaction.atomic():
        index_documents([IndexDocument(session_id=gone, title="Ghost", text="phantom words only")])
    assert not SearchPosting.objects.filter(session_id=gone).exists()
    assert not SearchDocument.objects.filter(session_id=gone).exists()


def test_it_filters_by_project(synced: list[Session]) -> None:
    scraper = by_path(SCRAPER)
    assert search_session_ids("shopify", project=scraper.project)[0] == [scraper.id]
    other = next(s.project for s in synced if s.project and s.project != scraper.project)
    assert search_session_ids("shopify", project=other)[0] == []


MARKERS = ("Zorblatwicket", "Квазиморфотрон", "ЁЖИКОПАРУСНИК", "naïvetécrumble")


def dump(tables: list[str]) -> str:
    """Every value of every row of ``tables``, as text, case-folded."""
    values = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            values.extend(str(value) for row in cursor.fetchall() for value in row)
    return " ".join(values).casefold()


def test_the_session_tables_hold_no_plaintext_word_of_a_body(synced: list[Session]) -> None:
    stored_in_clear = set()
    for s in synced:
        meta, _ = front_matter_or_text(s.text)
        clear = [
            s.title,
            s.status,
            s.priority,
            s.next_step,
            s.github_path,
            s.created_time,  # the time of day the document gave ("Evening"), stored like created_at
            s.project.name if s.project else "",
        ]
        clear += [f"{k} {v}" for k, v in meta.items()]
        stored_in_clear |= set(words(" ".join(clear)))
    body_words = {w for s in synced for w in words(s.text)} - stored_in_clear
    secret = {w for w in body_words if len(w) >= 7 and not w.isdigit()}
    assert len(secret) > 200 and "забанил" in secret
    assert SearchPosting.objects.count() > 1000
    tables = [
        Session._meta.db_table,
        SearchDocument._meta.db_table,
        SearchPosting._meta.db_table,
        "projects_app_project",
    ]
    stored_words = set(words(dump(tables)))  # whole words: "session" is in the title "Sessions"
    assert sorted(secret & stored_words) == []


def test_the_database_holds_no_plaintext_word_of_a_body_anywhere(
    synced: list[Session], tmp_path: Path
) -> None:
    from annoris.sources.local import LocalSource
    from sync_app.engine import run_sync

    body = "# Markers\n\n" + "\n\n".join(
        f"Paragraph with {m} inside, {m.upper()} and {m.lower()}." for m in MARKERS
    )
    (tmp_path / "markers").mkdir()
    (tmp_path / "markers" / "2026-01-01-markers.md").write_text(body, encoding="utf-8")
    # Another repository: the samples' rows would be soft-deleted, which the delete guard refuses.
    run_sync(source=LocalSource(tmp_path, repository="acme/markers"), allow_deletes=True)
    marker = Session.objects.get(github_path="markers/2026-01-01-markers.md")
    for m in MARKERS:
        assert search_session_ids(m.lower())[0] == [marker.id]
    text = dump(connection.introspection.table_names())
    for m in MARKERS:
        for form in {m, m.casefold(), *words(m)}:
            assert form.casefold() not in text, form


def test_reindex_search_rebuilds_the_index(synced: list[Session]) -> None:
    before = set(search_session_ids("забанил")[0])
    SearchPosting.objects.all().delete()
    SearchDocument.objects.all().delete()
    assert search_session_ids("забанил")[0] == []
    call_command("reindex_search")
    assert set(search_session_ids("забанил")[0]) == before
    assert SearchDocument.objects.count() == len(synced)


def test_rotate_keys_reindexes_under_the_new_key(synced: list[Session], settings, new_keyring) -> None:  # noqa: ANN001
    before = set(search_session_ids("забанил")[0])
    settings.ANNORIS_KEYRING = new_keyring
    assert search_session_ids("забанил")[0] == []  # hashed under the new key: the old index cannot answer
    call_command("rotate_keys")
    assert set(search_session_ids("забанил")[0]) == before
    assert set(SearchDocument.objects.values_list("key_id", flat=True)) == {"k-new"}


def test_index_pending_indexes_each_waiting_session_once_wherever_it_sits(
    synced: list[Session],
    settings,
    new_keyring,  # noqa: ANN001
) -> None:
    """Batches of 2 over sessions where, in id order, ones indexed under the current key, ones
    under an older key and ones never indexed alternate: every waiting one is indexed, under the
    current key, and no batch rewrites (or skips past) one already indexed."""
    before = set(search_session_ids("забанил")[0])
    ids = sorted(session.id for session in synced)
    current, missing, stale = ids[::3], ids[1::3], ids[2::3]
    settings.ANNORIS_KEYRING = new_keyring  # the samples' entries are now under an older key
    index_documents([IndexDocument(s.id, s.title, s.text) for s in Session.objects.filter(id__in=current)])
    kept = datetime(2001, 1, 1, tzinfo=UTC)
    SearchDocument.objects.filter(session_id__in=current).update(indexed_at=kept)
    SearchPosting.objects.filter(session_id__in=missing).delete()
    SearchDocument.objects.filter(session_id__in=missing).delete()

    assert index_pending(batch_size=2) == len(missing) + len(stale)
    documents = {d.session_id: d for d in SearchDocument.objects.all()}
    assert sorted(documents) == ids
    assert {d.key_id for d in documents.values()} == {"k-new"}
    assert {sid for sid, d in documents.items() if d.indexed_at == kept} == set(current)
    assert set(search_session_ids("забанил")[0]) == before
    assert index_pending(batch_size=2) == 0


def test_the_api_searches_and_links_results(api: APIClient, synced: list[Session]) -> None:
    response = api.get("/api/search/", {"q": "Бан shopify", "project": "pricewise"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["results"][0]["id"] == str(by_path(SCRAPER).id)
    assert body["results"][0]["url"].endswith(f"/api/sessions/{by_path(SCRAPER).id}/")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "nul\x00byte"},
        {"q": "x" * 501},
        {"q": "redis", "limit": 0},
        {"q": "redis", "limit": 101},
        {"q": "redis", "offset": -1},
        {"q": "redis", "project": "bad\x00"},
    ],
)
def test_the_api_refuses_bad_input(api: APIClient, synced: list[Session], params: dict) -> None:
    response = api.get("/api/search/", params)
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "code", "errors"}


def test_a_query_of_punctuation_finds_nothing_without_error(api: APIClient, synced: list[Session]) -> None:
    response = api.get("/api/search/", {"q": "!!! ---"})
    assert response.status_code == 200 and response.json()["count"] == 0
