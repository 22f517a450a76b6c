"""Hybrid search: paraphrases find their session, and no vector is readable at rest."""

from __future__ import annotations

import os

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection

from annoris.crypto import decrypt
from sessions_app.documents.folding import words
from sessions_app.models import SearchVector, Session
from sessions_app.search import embed_pending, run_search, search_session_ids
from sessions_app.search.embedding import document_text, embed, quantize
from sessions_app.search.freshness import forget

# (query, the file it should find): none of them shares a searchable word set with its target.
PARAPHRASES = [
    ("keeping hot data in memory so reads are fast", "2025-10-20-redis-strategy.md"),
    ("cloud hosting and a relational database went live", "2025-10-21-railway-postgres-setup.md"),
    ("checking that incoming notifications really come from the code host", "2025-10-22-webhook-hmac.md"),
    ("replacing the secret that protects stored data", "2025-10-24-encryption-keys.md"),
    ("removing duplicate chat messages from the dataset", "2025-08-23-corpus-cleanup.md"),
    ("how annotators label switches between languages", "2025-08-27-annotation-schema.md"),
    ("paid plans and a free period before the first charge", "2025-09-15-stripe-billing.md"),
    ("the shop blocked our crawler for sending too many requests", "2025-09-18-scraper-rate-limits.md"),
    ("how do we avoid charging a customer twice", "2025-09-15-stripe-billing.md"),
    ("как не попасть в бан при парсинге", "2025-09-18-scraper-rate-limits.md"),
]


@pytest.fixture
def embedded(synced: list[Session]) -> list[Session]:
    """The samples with their vectors (an import of 9 leaves them to the queued task)."""
    embed_pending()
    assert SearchVector.objects.count() == len(synced)
    return synced


def top3(query: str) -> list[str]:
    return [hit.path.rsplit("/", 1)[-1] for hit in run_search(query, hybrid=True, limit=3).hits]


@pytest.mark.parametrize(("query", "target"), PARAPHRASES)
def test_a_paraphrase_finds_its_session_through_hybrid_search_only(
    embedded: list[Session], query: str, target: str
) -> None:
    keyword = [
        Session.objects.get(id=i).github_path.rsplit("/", 1)[-1]
        for i in search_session_ids(query, limit=3)[0]
    ]
    assert target not in keyword
    assert target in top3(query)


def test_hybrid_keeps_keyword_hits_and_marks_how_each_matched(embedded: list[Session]) -> None:
    hits = run_search("забанил", hybrid=True).hits
    assert hits[0].path.endswith("2025-09-18-scraper-rate-limits.md") and hits[0].match == "exact"
    assert {h.match for h in hits[1:]} <= {"meaning"}


METADATA_TABLES = ("auth_permission", "django_content_type", "django_migrations")


def dump_bytes(tables: tuple[str, ...] | None = None) -> bytes:
    """Every value of every table (or of ``tables``), as bytes."""
    chunks = []
    with connection.cursor() as cursor:
        for table in tables or connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        chunks.append(bytes(value))
                    elif value is not None:
                        chunks.append(str(value).encode("utf-8", "replace"))
    return b"\x00".join(chunks)


def plaintext_vectors(sessions: list[Session]) -> list[bytes]:
    """Each session's vector as int8 and as float32 bytes (16-byte windows of it, to find partial copies)."""
    floats = embed([document_text(s.title, s.text) for s in sessions])
    found = []
    for vector in floats:
        for raw in (quantize(vector[None, :])[0].tobytes(), vector.tobytes()):
            found += [raw[i : i + 16] for i in range(0, len(raw), 128)]
    return found


def test_no_table_and_no_redis_key_holds_a_plaintext_vector_or_body_word(embedded: list[Session]) -> None:
    for s in embedded:
        Session.objects.fetch(s.id)  # through the cache layer when there is one
    stored = dump_bytes()
    assert all(bytes(v.ciphertext).startswith(b"enc:v1:") for v in SearchVector.objects.all())
    for window in plaintext_vectors(embedded):
        assert window not in stored
    values = [stored]
    if os.environ.get("REDIS_URL"):
        import redis

        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        values += [client.dump(key) or b"" for key in client.scan_iter(count=1000)]
        for window in plaintext_vectors(embedded):
            assert all(window not in value for value in values[1:])
    clear = " ".join(
        f"{s.title} {s.status} {s.next_step} {s.github_path} {s.created_time} {s.id}" for s in embedded
    )
    secret = {w for s in embedded for w in words(s.text) if len(w) >= 9 and not w.isdigit()} - set(
        words(clear)
    )
    # Words the schema itself names (a permission "Can view connected app") are no leak.
    secret -= set(words(dump_bytes(METADATA_TABLES).decode("utf-8", "replace").casefold()))
    assert len(secret) > 100
    text = b" ".join(values).decode("utf-8", "replace").casefold()
    leaked = sorted(w for w in secret if w in set(words(text)))
    assert leaked == []


def test_rotate_keys_re_encrypts_the_vectors(embedded: list[Session], settings, new_keyring) -> None:  # noqa: ANN001
    before = {
        v.session_id: decrypt(bytes(v.ciphertext), settings.ANNORIS_KEYRING)
        for v in SearchVector.objects.all()
    }
    settings.ANNORIS_KEYRING = new_keyring
    call_command("rotate_keys")
    after = SearchVector.objects.all()
    assert {v.key_id for v in after} == {"k-new"}
    assert {v.session_id: decrypt(bytes(v.ciphertext), new_keyring) for v in after} == before
    assert "2025-09-18-scraper-rate-limits.md" in top3(
        "the shop blocked our crawler for sending too many requests"
    )


def test_reindex_search_rebuilds_the_vectors(embedded: list[Session], settings) -> None:  # noqa: ANN001
    SearchVector.objects.all().delete()
    forget()
    waiting = run_search("annotators", hybrid=True).as_dict()
    assert waiting["incomplete"] is True and waiting["waiting_to_index"] == len(embedded)
    call_command("reindex_search")
    forget()
    assert SearchVector.objects.count() == len(embedded)
    assert run_search("annotators", hybrid=True).as_dict()["incomplete"] is False
    token = bytes(SearchVector.objects.first().ciphertext)
    vector = np.frombuffer(decrypt(token, settings.ANNORIS_KEYRING), dtype=np.int8)
    assert vector.shape == (512,) and int(np.abs(vector).max()) > 10


def test_the_sign_bit_index_finds_what_an_exact_scan_finds_and_follows_updates(
    db: None, tmp_path, settings
) -> None:  # noqa: ANN001
    """80 sessions: a bulk load (deduplicated), then an update; the top 5 equal an exact cosine scan."""
    import sys
    from pathlib import Path as _Path

    from annoris.sources.local import LocalSource
    from sessions_app.search.vectors import VectorIndex, store_vectors
    from sync_app.engine import run_sync

    sys.path.insert(0, str(_Path(__file__).resolve().parents[2] / "bench"))
    from corpus import make_corpus

    for path, data in make_corpus(80, seed=4, size=1500).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    run_sync(source=LocalSource(tmp_path, repository="bench/vectors"))
    embed_pending()
    index, narrow = VectorIndex(), VectorIndex(rerank=20)  # narrow: the sign bits choose 20 of 80
    vectors = {
        v.session_id: np.frombuffer(decrypt(bytes(v.ciphertext), settings.ANNORIS_KEYRING), dtype=np.int8)
        for v in SearchVector.objects.all()
    }
    for query in ("redis cache latency", "очередь задержка", "webhook signature header"):
        q = embed([query])[0]
        exact = sorted(vectors, key=lambda sid: -float(vectors[sid].astype(np.float32) @ q))[:5]
        assert [sid for sid, _ in index.nearest(q, 5)] == exact
        prefiltered = [sid for sid, _ in narrow.nearest(q, 5)]
        assert prefiltered[0] == exact[0] and len(set(prefiltered) & set(exact)) >= 4
    session = Session.objects.order_by("id").first()
    store_vectors([(session.id, "Квазиморфотрон", "совсем другой текст о пчёлах и мёде")])
    index.checked = 0.0
    index.refresh()
    assert len(index.ids) == 80 == len({row.tobytes() for row in index.ids})
    assert index.nearest(embed(["совсем другой текст о пчёлах и мёде"])[0], 1)[0][0] == session.id


def test_a_vector_stored_by_this_process_is_searchable_at_once(embedded: list[Session]) -> None:
    """The process's index is fresh for REFRESH_SECONDS; its own writes do not wait that long."""
    import uuid

    from sessions_app.search.vectors import store_vectors

    assert "2025-09-18-scraper-rate-limits.md" in top3("the shop blocked our crawler")  # index loaded
    new = Session.objects.get(id=embedded[0].id)
    new.id, new.github_path = uuid.uuid4(), "sessions/annoris/2025-12-01-beekeeping.md"
    new.save(force_insert=True)
    store_vectors([(new.id, "Пасека", "пчёлы, ульи и мёд: как мы качали мёд этим летом")])
    assert top3("beekeeping: bees, hives and honey")[0] == "2025-12-01-beekeeping.md"


def test_scores_order_the_answer_and_are_never_negative(embedded: list[Session]) -> None:
    """The API's score once carried the internal tier offset in hybrid mode (-2999.97)."""
    for hybrid in (False, True):
        for query in ("redis", "webhook signature", "keeping hot data in memory"):
            scores = [hit.score for hit in run_search(query, hybrid=hybrid).hits]
            assert (scores or not hybrid) and all(0 <= s < 100 for s in scores), (query, hybrid, scores)
    keyword = [hit.score for hit in run_search("redis", hybrid=False).hits]
    assert keyword == sorted(keyword, reverse=True)


def test_a_deleted_session_is_never_nearest_and_leaves_the_index_at_the_recount(
    embedded: list[Session],
) -> None:
    """Another process deletes a session: this one's re-rank leaves it out at once (its row is
    gone), and the recount (at most every RECOUNT_SECONDS) drops its sign bits."""
    from sessions_app.search.vectors import VectorIndex

    index = VectorIndex()
    query = embed(["how do we avoid charging a customer twice"])[0]
    nearest_id = index.nearest(query, 1)[0][0]
    Session.objects.filter(id=nearest_id).delete()  # its vector goes with it (CASCADE)
    index.checked = 0.0  # the next 2-second refresh, not yet a recount
    assert nearest_id not in [sid for sid, _ in index.nearest(query, len(embedded))]
    assert len(index.ids) == len(embedded)
    index.checked = index.recount_at = 0.0  # RECOUNT_SECONDS later
    assert nearest_id not in [sid for sid, _ in index.nearest(query, len(embedded))]
    assert len(index.ids) == len(embedded) - 1
