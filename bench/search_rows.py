"""Rows PostgreSQL reads to rank a two-word query: the SQL ranking against the top-k path (issue #17).

On a bench database filled by bench/search.py (``--reuse``: nothing is rebuilt), the same random
two-word queries of the corpus's vocabulary are ranked (page of 10, as the API's default) by
``ranking``'s GROUP BY over every match and by ``topk``'s threshold algorithm. Each statement a
ranking runs is replayed under ``EXPLAIN (ANALYZE, FORMAT JSON)`` and the rows its scans return
are summed (index and table scans, times their loops): what grows with the corpus. Also prints
the statements' execution time (PostgreSQL's, without the round trips) and checks both answers
are equal.

    flock /tmp/cpu.lock .venv/bin/python bench/search_rows.py --sessions 10000 \\
        --database-url postgres://postgres@127.0.0.1:5432/annoris_c_bench_10k --queries 30
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import assistant_db  # noqa: E402 - bench/ is on sys.path as the script's folder
import corpus as corpus_gen  # noqa: E402


def scanned(plan: dict) -> int:
    """Rows the scans of ``plan`` returned, over all their loops."""
    rows = 0
    if "Scan" in plan["Node Type"]:
        rows += int(plan["Actual Rows"] * plan["Actual Loops"])
    for child in plan.get("Plans", []):
        rows += scanned(child)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--dense-min", type=int, help="topk.DENSE_MIN for the top-k run (default: as set)")
    args = parser.parse_args(argv)
    assistant_db.prepare(args.database_url, args.sessions, reuse=True, index=False)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sessions_app.search import index_key, topk
    from sessions_app.search.parser import parse
    from sessions_app.search.ranking import Filters, query_terms, rank
    from sessions_app.search.terms import term_hash

    _, key = index_key()
    rng = random.Random(17)
    vocabulary = corpus_gen._WORDS + corpus_gen._RU  # noqa: SLF001 - the generator's words
    queries = [f"{rng.choice(vocabulary)} {rng.choice(vocabulary)}" for _ in range(args.queries)]

    def measured(query: str) -> tuple[list, int, int, float]:
        parsed = parse(query)
        hashes = {term: term_hash(key, term) for term in query_terms(parsed)}
        rank(parsed, hashes, filters=Filters(), limit=10, offset=0)  # warm the statistics caches
        with CaptureQueriesContext(connection) as captured:
            ranked, total = rank(parsed, hashes, filters=Filters(), limit=10, offset=0)
        rows, ms = 0, 0.0
        with connection.cursor() as cursor:
            for statement in captured.captured_queries:
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement['sql']}")
                explained = cursor.fetchone()[0]
                explained = json.loads(explained) if isinstance(explained, str) else explained
                rows += scanned(explained[0]["Plan"])
                ms += explained[0]["Execution Time"]
        return ranked, total, rows, ms

    figures: dict[str, list[tuple[int, float]]] = {"sql": [], "topk": []}
    served = 0
    dense_min = topk.DENSE_MIN if args.dense_min is None else args.dense_min
    for query in queries:
        topk.DENSE_MIN = 10**12
        expected, total, rows, ms = measured(query)
        figures["sql"].append((rows, ms))
        topk.DENSE_MIN = dense_min
        found, count, rows, ms = measured(query)
        figures["topk"].append((rows, ms))
        assert found == expected, query
        served += isinstance(count, topk.AtLeast)
    print(f"| {args.sessions} sessions, {args.queries} two-word queries, page of 10 "
          f"({served} served by topk; {assistant_db.machine()}) | rows read: median (max) "
          "| PostgreSQL execution ms: median (max) |\n|---|---:|---:|")  # fmt: skip
    for name, values in figures.items():
        rows = [r for r, _ in values]
        ms = [m for _, m in values]
        print(f"| {name} | {statistics.median(rows):,.0f} ({max(rows):,}) "
              f"| {statistics.median(ms):.1f} ({max(ms):.1f}) |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
