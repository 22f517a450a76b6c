"""Search at 10,000 sessions on PostgreSQL (issue #8): latency of two-word queries, and recall.

Two-word queries are drawn from the corpus vocabulary (English and Russian, so most terms
are in thousands of sessions: the index's worst case). Alternating with each search, in
the same run, the floor: one index-only lookup of the two terms' postings, which any
inverted index must read. Recall: for every query, the sessions found (no limit) must be
exactly those a decrypt-and-scan of all sessions finds. The naive alternative, decrypting
and scanning every session per query, is timed too.

Targets (issue #8): median under 50 ms and p99 under 150 ms; recall 100 %. Prints
PASS/FAIL; exit 1 on FAIL.

Run from the project root::

    .venv/bin/python bench/search.py --database-url postgres://postgres@127.0.0.1:5432/annoris_h8_bench
    .venv/bin/python bench/search.py --reuse --markdown ...   # keep the filled database
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import assistant_db  # noqa: E402 - bench/ is on sys.path as the script's folder
import corpus as corpus_gen  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", required=True, help="PostgreSQL URL; the name must contain 'bench'."
    )
    parser.add_argument(
        "--sessions", type=int, default=10_000, help="Sessions in the corpus (default 10,000)."
    )
    parser.add_argument("--iterations", type=int, default=400, help="Timed queries (default 400).")
    parser.add_argument(
        "--recall-queries", type=int, default=60, help="Queries checked for recall (default 60)."
    )
    parser.add_argument("--reuse", action="store_true", help="Keep a database a previous run filled.")
    parser.add_argument("--markdown", action="store_true", help="Print the table as markdown.")
    args = parser.parse_args(argv)
    assistant_db.prepare(args.database_url, args.sessions, reuse=args.reuse)

    from django.db import connection
    from rest_framework.test import APIClient

    from sessions_app.documents.folding import words
    from sessions_app.models import SearchPosting, Session
    from sessions_app.search import index_key, search_session_ids, search_sessions
    from sessions_app.search.terms import matches, query_terms, term_hash

    rng = random.Random(5)
    vocabulary = [w for w in corpus_gen._WORDS + corpus_gen._RU]  # noqa: SLF001 - the generator's words
    queries = [f"{rng.choice(vocabulary)} {rng.choice(vocabulary)}" for _ in range(args.iterations)]
    # Rarer terms too: session numbers appear in one title each.
    queries += [
        f"{rng.choice(vocabulary)} {rng.randrange(args.sessions)}" for _ in range(args.iterations // 4)
    ]
    rng.shuffle(queries)
    _, key = index_key()
    table = SearchPosting._meta.db_table

    def floor(query: str) -> None:
        hashes = [term_hash(key, t.word) for t in query_terms(query)]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE term = ANY(%s)", [hashes])  # noqa: S608
            cursor.fetchone()

    client = APIClient()
    from annoris.api import tokens

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name='bench')[1]}")
    for query in queries[:20]:  # warm-up
        search_sessions(query)
    timings: dict[str, list[float]] = {"floor": [], "ids": [], "hits": [], "api": []}
    for query in queries:
        for label, call in (
            ("floor", lambda q=query: floor(q)),
            ("ids", lambda q=query: search_session_ids(q, limit=10)),
            ("hits", lambda q=query: search_sessions(q, limit=10)),
            ("api", lambda q=query: client.get("/api/search/", {"q": q})),
        ):
            started = time.perf_counter()
            answer = call()
            timings[label].append((time.perf_counter() - started) * 1000)
            if label == "api":
                check_api_answer(answer, query, search_session_ids(query, limit=10)[0])

    # Recall against decrypt-and-scan, and the time the scan takes.
    started = time.perf_counter()
    decrypted = {
        row.id: words(f"{row.title}\n{row.text}") for row in Session.objects.live().iterator(chunk_size=500)
    }
    decrypt_ms = (time.perf_counter() - started) * 1000
    checked = queries[: args.recall_queries]
    missed = extra = 0
    scan_ms = []
    for query in checked:
        started = time.perf_counter()
        terms = query_terms(query)
        expected = {sid for sid, found in decrypted.items() if matches(found, terms)}
        scan_ms.append((time.perf_counter() - started) * 1000 + decrypt_ms)
        found = set(search_session_ids(query, limit=None)[0])
        missed += len(expected - found)
        extra += len(found - expected)

    # What writing a session pays for its index entry: one at a time (the upsert) and batched.
    from django.db import transaction

    from sessions_app.search import IndexDocument, index_documents, index_session

    sample = [IndexDocument(row.id, row.title, row.text) for row in Session.objects.order_by("?")[:200]]
    one_ms = []
    for doc in sample[:100]:
        started = time.perf_counter()
        with transaction.atomic():
            index_session(session_id=doc.session_id, title=doc.title, text=doc.text)
        one_ms.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    index_documents(sample[100:])
    batched_ms = (time.perf_counter() - started) * 1000 / len(sample[100:])

    floor_median = assistant_db.summary(timings["floor"])["median"]
    rows = [
        ("floor: index lookup of the 2 terms", timings["floor"]),
        ("search_session_ids (BM25, top 10)", timings["ids"]),
        ("search_sessions (+ 10 snippets decrypted)", timings["hits"]),
        ("GET /api/search/ (DRF, 10 results)", timings["api"]),
        ("naive: decrypt all + scan", scan_ms),
    ]
    lines = [
        "| Measure | n | median ms | p99 ms | max ms | median / floor |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, values in rows:
        s = assistant_db.summary(values)
        lines.append(
            f"| {label} | {s['n']} | {s['median']:.1f} | {s['p99']:.1f} | {s['max']:.1f} | "
            f"{s['median'] / floor_median:.2f}x |"
        )
    print("\n".join(lines) if args.markdown else "\n".join(line.replace("|", " ") for line in lines))
    api = assistant_db.summary(timings["api"])
    checks = [
        (f"API median under 50 ms ({api['median']:.1f} ms)", api["median"] < 50),
        (f"API p99 under 150 ms ({api['p99']:.1f} ms)", api["p99"] < 150),
        (
            f"recall equal to decrypt-and-scan on {len(checked)} queries ({missed} missed, {extra} extra)",
            missed == extra == 0,
        ),
    ]
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'} {label}")
    print(
        f"indexing a session: {statistics.median(one_ms):.1f} ms one at a time (median of 100), "
        f"{batched_ms:.1f} ms each in a batch of 100"
    )
    postings = SearchPosting.objects.count()
    print(f"sessions: {len(decrypted)}, postings: {postings}, machine: {assistant_db.machine()}")
    return 0 if all(ok for _, ok in checks) else 1


def check_api_answer(response: Any, query: str, expected: list[Any]) -> None:
    """What was timed is the search: 200, the query echoed, the service's ids in its order."""
    if response.status_code != 200:
        raise SystemExit(
            f"GET /api/search/?q={query!r} answered {response.status_code}: {response.content[:200]!r}"
        )
    body = response.json()
    found = [row["id"] for row in body["results"]]
    if body["query"] != query or found != [str(sid) for sid in expected]:
        raise SystemExit(f"GET /api/search/?q={query!r} answered other results than the service: {found}")


if __name__ == "__main__":
    raise SystemExit(main())
