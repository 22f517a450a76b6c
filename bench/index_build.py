"""Keyword index build speed on PostgreSQL (issue #17): sessions per second, checked by searches.

Fills a bench database with generated sessions (bench/corpus.py, ~5 KB each, through the real
sync from a local folder, left unindexed), then:

1. empties the index and times ``index_pending()`` with sentence vectors off: what the worker's
   queued task does after a bulk import, so at 1,000 sessions it is the "searchable within 5 s
   of the sync finishing" figure (decrypting, tokenizing, stemming, hashing, writing);
2. with ``--rebuild``, times ``reindex_all()`` over the full index (``reindex_search``: the old
   postings are deleted too);
3. checks the index: ``--queries`` two-word and phrase queries must find exactly the sessions a
   decrypt-and-scan with the same semantics finds, and a fingerprint of the postings (rows,
   term frequencies, a hash of every (session, term, tf)) is printed so that two versions of
   the code can be compared for identical postings;
4. with ``--vectors N``, times embedding N sessions (``embed_pending``), reported separately.

Targets (issue #17): at least 1,000 sessions/s; 1,000 sessions searchable within 5 s; 100,000
built in under 3 minutes. Prints PASS/FAIL per target.

    flock /tmp/cpu.lock .venv/bin/python bench/index_build.py --sessions 10000 \\
        --database-url postgres://postgres@127.0.0.1:5432/annoris_idx_bench_10k [--reuse] [--profile FILE]
"""

from __future__ import annotations

import os
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import assistant_db  # noqa: E402 - bench/ is on sys.path as the script's folder
import corpus as corpus_gen  # noqa: E402


def fingerprint() -> str:
    """Rows, total tf, an order-free hash of every (session, term, tf) (equal for equal postings), sizes."""
    from django.db import connection

    from sessions_app.models import SearchDocument, SearchPosting

    table = SearchPosting._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")  # 18 million postings (100,000 sessions) take minutes
        cursor.execute(
            "SELECT count(*), sum(tf), sum(('x' || substr(md5(session_id::text || ':' || term::text"  # noqa: S608
            f" || ':' || tf::text), 1, 12))::bit(48)::bigint) FROM {table}"
        )
        rows, tf, digest = cursor.fetchone()
        documents = SearchDocument._meta.db_table
        cursor.execute(
            f"SELECT count(*), avg(cardinality(pairs)), avg(cardinality(prefixes)), "  # noqa: S608
            f"pg_total_relation_size('{table}'), pg_total_relation_size('{documents}') FROM {documents}"
        )
        sessions, pairs, prefixes, posting_bytes, document_bytes = cursor.fetchone()
    per = rows / max(1, sessions)
    return (
        f"{rows} rows ({per:.0f} a session; plus {pairs or 0:.0f} pair and {prefixes or 0:.0f} prefix hashes"
        f" a session in search documents), tf {tf}, hash {digest}; postings {posting_bytes / 1e6:.0f} MB,"
        f" documents {document_bytes / 1e6:.0f} MB"
    )


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: state is [0], ppid [1], utime [11], stime [12],
    cutime [13], cstime [14]; None once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _stat_seconds(pid: int, first: int = 11) -> float:
    """User + system CPU seconds of a process of this machine (0 if it is gone); with
    ``first=13``, of its children it has waited for."""
    fields = _stat_fields(pid)
    return 0.0 if fields is None else (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


class BackendCpu:
    """CPU seconds of the PostgreSQL backends serving this database during a build, read at its
    start and its end only. A backend that exits meanwhile (the writer thread's connection closes
    at the end; an index build's parallel workers) is reaped by the postmaster, whose children's
    time (cutime, cstime) then holds its CPU; so: the live backends' CPU at the end minus at the
    start, plus what the postmaster's reaped children used meanwhile (an autovacuum worker of any
    database that ended in between would count too). The server runs on this machine (loopback).

    Why not sample: a thread asking pg_stat_activity every 50 ms took ~5% of the 1,000-session
    build it measured (4 alternating runs: median 1,136 against 1,200 sessions/s without)."""

    def __init__(self) -> None:
        import psycopg

        self._conn = psycopg.connect(**assistant_db._conninfo(os.environ["DATABASE_URL"]), autocommit=True)  # noqa: SLF001
        mine = self._conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        fields = _stat_fields(mine)
        assert fields is not None, "PostgreSQL must run on this machine"
        self._postmaster = int(fields[1])
        self._start = {pid: _stat_seconds(pid) for pid in self._pids()}
        self._reaped = _stat_seconds(self._postmaster, first=13)

    def _pids(self) -> list[int]:
        rows = self._conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
        return [pid for (pid,) in rows]

    def stop(self) -> float:
        end = {pid: _stat_seconds(pid) for pid in self._pids()}
        reaped = _stat_seconds(self._postmaster, first=13) - self._reaped
        reaped -= sum(seconds for pid, seconds in self._start.items() if pid not in end)  # before the start
        self._conn.close()
        return reaped + sum(seconds - self._start.get(pid, 0.0) for pid, seconds in end.items())


def python_seconds() -> float:
    """CPU seconds of this process (every thread)."""
    times = os.times()
    return times.user + times.system


def wal_bytes() -> int:
    """WAL written by the whole server so far (PostgreSQL 14+; other databases' writes count too)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT wal_bytes FROM pg_stat_wal")
        return int(cursor.fetchone()[0])


def check_queries(count: int) -> int:
    """``count`` two-word and ``count`` phrase queries find exactly what a decrypt-and-scan finds."""
    from sessions_app.models import Session
    from sessions_app.search import search_session_ids
    from sessions_app.search.parser import matches, parse
    from sessions_app.search.terms import term_set

    rng = random.Random(17)
    vocabulary = corpus_gen._WORDS + corpus_gen._RU  # noqa: SLF001 - the generator's words
    rows = list(Session.objects.live().order_by("id"))
    decrypted = {row.id: term_set(row.title, row.text) for row in rows}
    queries = [f"{rng.choice(vocabulary)} {rng.choice(vocabulary)}" for _ in range(count)]
    for row in rng.sample(rows, min(count, len(rows))):
        run = re.findall(r"(?<![\w-])[a-z]{3,} [a-z]{3,}(?![\w-])", row.text.lower())
        queries.append(f'"{rng.choice(run)}"')
    found_any = 0
    for query in queries:
        parsed = parse(query)
        expected = {sid for sid, terms in decrypted.items() if matches(parsed, terms)}
        found = set(search_session_ids(query, limit=None)[0])
        assert found == expected, (query, len(found), len(expected))
        found_any += bool(found)
    assert found_any >= len(queries) // 2, f"only {found_any} of {len(queries)} queries found anything"
    return len(queries)


def main(argv: list[str] | None = None) -> int:
    parser = assistant_db.parser(__doc__.splitlines()[0], iterations=0, what="(unused)")
    parser.add_argument("--queries", type=int, default=20, help="Queries of each kind checked (default 20).")
    parser.add_argument("--rebuild", action="store_true", help="Also time reindex_all() over the full index.")
    parser.add_argument("--vectors", type=int, default=0, help="Also time embedding this many sessions.")
    parser.add_argument("--profile", help="Write cProfile stats of the build to this file.")
    args = parser.parse_args(argv)
    os.environ["ANNORIS_SEARCH_SEMANTIC"] = "0"  # words only: vectors are timed apart (--vectors)
    assistant_db.prepare(args.database_url, args.sessions, reuse=args.reuse, index=False)

    from django.db import connection

    from sessions_app.models import SearchDocument, SearchPosting, SearchVector
    from sessions_app.search import index_pending, reindex_all

    report: list[tuple[str, str]] = []
    checks: list[tuple[str, bool]] = []
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {SearchPosting._meta.db_table}, {SearchDocument._meta.db_table}")
    assistant_db.vacuum()

    backends, python_before, wal_before = BackendCpu(), python_seconds(), wal_bytes()
    started = time.perf_counter()
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        indexed = profiler.runcall(index_pending)
        profiler.dump_stats(args.profile)
    else:
        indexed = index_pending()
    build_s = time.perf_counter() - started
    server_cpu, wal = backends.stop(), wal_bytes() - wal_before
    python_cpu = python_seconds() - python_before
    assert indexed == args.sessions, (indexed, args.sessions)
    rate = indexed / build_s
    report.append(
        ("build from empty (index_pending)", f"{indexed} sessions in {build_s:.2f} s: {rate:.0f}/s")
    )
    print(f"{report[-1][0]}: {report[-1][1]}", file=sys.stderr, flush=True)  # before the long checks
    cpu = (
        f"Python {python_cpu:.1f} s,"
        f" PostgreSQL backends {server_cpu:.1f} s (wall {build_s:.1f} s); WAL {wal / 1e6:.0f} MB"
    )
    report.append(("CPU of the build", cpu))
    checks.append((f"at least 1,000 sessions/s ({rate:.0f})", rate >= 1000))
    if args.sessions <= 1000:
        checks.append((f"{indexed} sessions searchable within 5 s ({build_s:.1f} s)", build_s < 5))
    checks.append((f"projected 100,000 under 3 min ({100_000 / rate:.0f} s)", 100_000 / rate < 180))
    report.append(("postings", fingerprint()))

    if args.rebuild:
        started = time.perf_counter()
        indexed, failed = reindex_all()
        rebuild_s = time.perf_counter() - started
        assert indexed == args.sessions and not failed, (indexed, failed)
        report.append(
            ("rebuild (reindex_all)", f"{indexed} sessions in {rebuild_s:.2f} s: {indexed / rebuild_s:.0f}/s")
        )
        report.append(("postings after rebuild", fingerprint()))

    checked = check_queries(args.queries)
    checks.append((f"{checked} queries find exactly what decrypt-and-scan finds", True))

    if args.vectors:
        os.environ["ANNORIS_SEARCH_SEMANTIC"] = "1"
        from sessions_app.models import Session
        from sessions_app.search import embed_pending

        SearchVector.objects.all().delete()

        # Only the first N sessions wait for a vector: the others get a placeholder row under
        # the current key, removed afterwards.
        rest = list(Session.objects.order_by("id").values_list("id", flat=True)[args.vectors :])
        key_id = assistant_db.bench_key().split(":")[0]
        SearchVector.objects.bulk_create(
            [SearchVector(session_id=sid, ciphertext=b"", key_id=key_id) for sid in rest], batch_size=5000
        )
        started = time.perf_counter()
        embedded = embed_pending()
        embed_s = time.perf_counter() - started
        SearchVector.objects.filter(session_id__in=rest).delete()
        vector_rate = f"{embedded} sessions in {embed_s:.1f} s: {embedded / embed_s:.1f}/s"
        report.append(("vectors (embed_pending, separate from the keyword target)", vector_rate))

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"| Measure ({args.sessions} sessions, {assistant_db.machine()}, load average {load}) | Value |")
    print("|---|---|")
    for label, value in report:
        print(f"| {label} | {value} |")
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'} {label}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
