"""Search at 10,000 and 100,000 sessions on PostgreSQL (issue #17): build, size, latency, memory.

Fills a bench database with generated sessions (bench/corpus.py) through the real sync, then:

1. rebuilds the keyword index from scratch (``reindex_all``, what the worker's task does after
   an import) and times it: sessions per second;
2. embeds sessions with the model (``store_vectors``) and times it: every session up to
   ``--embed`` (default 2,000), else a random sample of ``--embed`` that holds the sessions the
   hybrid check looks for. The model embeds ~12 sessions/s here (100,000 would take 2.3 hours),
   so above that the other sessions get *synthetic* vectors: random unit vectors, quantized
   and encrypted exactly as real ones (same size, same AES-GCM, same table). What the latency
   and memory figures depend on (how many vectors a process holds, scans and re-ranks) is the
   same; which session comes out nearest is only checked on the really embedded sample;
3. reports the postings' rows and bytes (table + indexes);
4. checks every query before timing it: each answer of ``GET /api/search/`` must be a 200
   whose hits are the expected ones (keyword: the ids ``search_session_ids`` returns, and for
   a sample, exactly the decrypt-and-scan's set; phrase: every hit holds the phrase in its
   decrypted text; hybrid: a paraphrase of a session's title finds that session);
5. times two-word queries (median, p99), phrase queries (p99) and hybrid queries (p99) through
   the API, in-process, with settings that do not redirect to HTTPS, the model loaded and
   ``gc.freeze()`` called first, as the project's gunicorn master does before it forks;
6. measures the semantic layer's memory per web process: a real gunicorn (the project's
   gunicorn.conf.py, 2 workers forked from a preloaded master) serves 20 searches with hybrid
   search off, then another with it on; each worker's PSS (its share of the pages it uses:
   the model the master loaded is shared by the forks) is read from /proc. The semantic layer
   costs the difference.

Targets (issue #17 at 100,000): build under 3 min, two-word median < 25 ms and p99 < 100 ms,
phrase p99 < 150 ms, hybrid p99 < 150 ms, semantic memory < 128 MB. Prints PASS/FAIL.

    .venv/bin/python bench/search.py --database-url postgres://postgres@127.0.0.1:5432/annoris_search_bench \\
        --sessions 10000            # and 100000 [--reuse]; --sessions 300 --iterations 40 is the smoke run
"""

from __future__ import annotations

import gc
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import assistant_db  # noqa: E402 - bench/ is on sys.path as the script's folder
import corpus as corpus_gen  # noqa: E402


def worker_memory(token: str, *, semantic: bool, queries: list[str]) -> list[dict[str, float]]:
    """Memory of each worker of a real gunicorn (the project's gunicorn.conf.py: 2 workers forked
    from a preloaded master) on this bench database, after ``queries`` went through the API:
    RSS, PSS (shared pages split between the processes sharing them) and USS (its own), in MB."""
    import socket
    import subprocess
    import urllib.parse
    import urllib.request

    root = Path(__file__).resolve().parent.parent
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    env = dict(os.environ, SECURE_SSL_REDIRECT="0", ANNORIS_SEARCH_SEMANTIC="1" if semantic else "0",
               WEB_CONCURRENCY="2", PORT=str(port), LOG_LEVEL="WARNING")  # fmt: skip
    master = subprocess.Popen(  # noqa: S603
        [str(Path(sys.executable).parent / "gunicorn"), "annoris.wsgi", "-b", f"127.0.0.1:{port}"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2)  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.3)
        for query in queries:  # each worker takes some: both load the vectors
            url = f"{base}/api/search/?" + urllib.parse.urlencode({"q": query, "limit": 10})
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                assert response.status == 200, response.status
                assert json.loads(response.read())["results"], query
        with open(f"/proc/{master.pid}/task/{master.pid}/children") as children:
            workers = [int(pid) for pid in children.read().split()]
        out = []
        for pid in workers:
            fields = {}
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    name, _, value = line.partition(":")
                    if value.strip().endswith("kB"):
                        fields[name] = int(value.split()[0]) / 1024
            uss = fields["Private_Clean"] + fields["Private_Dirty"]
            out.append({"rss": fields["Rss"], "pss": fields["Pss"], "uss": uss})
        return out
    finally:
        master.terminate()
        master.wait(timeout=30)


def build_vectors(all_ids: list, embedded_ids: set) -> list[tuple[str, str]]:
    """Vectors for every session: the model's for ``embedded_ids``, synthetic for the others."""
    import numpy as np
    from django.conf import settings

    from annoris.crypto import encrypt
    from sessions_app.models import SearchVector, Session
    from sessions_app.search.embedding import DIMENSIONS, quantize
    from sessions_app.search.vectors import store_vectors

    SearchVector.objects.all().delete()
    started = time.perf_counter()
    done = 0
    wanted = sorted(embedded_ids)
    for start in range(0, len(wanted), 64):
        rows = Session.objects.filter(id__in=wanted[start : start + 64]).only("id", "title", "content")
        done += store_vectors((row.id, row.title, row.text) for row in rows)
    embed_s = time.perf_counter() - started
    out = [("vectors embedded by the model", f"{done} sessions in {embed_s:.1f} s ({done / embed_s:.1f}/s)")]
    rest = [sid for sid in all_ids if sid not in embedded_ids]
    if rest:
        keyring = settings.ANNORIS_KEYRING
        key_id = keyring.keys[0][0]
        generator = np.random.default_rng(17)
        started = time.perf_counter()
        for start in range(0, len(rest), 5000):
            chunk = rest[start : start + 5000]
            floats = generator.standard_normal((len(chunk), DIMENSIONS)).astype(np.float32)
            vectors = quantize(floats / np.linalg.norm(floats, axis=1, keepdims=True))
            SearchVector.objects.bulk_create(
                SearchVector(session_id=sid, ciphertext=encrypt(vector.tobytes(), keyring), key_id=key_id)
                for sid, vector in zip(chunk, vectors, strict=True)
            )
        out.append((
            "vectors, synthetic (random unit vectors, quantized and encrypted as real ones)",
            f"{len(rest)} sessions in {time.perf_counter() - started:.1f} s",
        ))  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = assistant_db.parser(__doc__.splitlines()[0], iterations=300, what="queries of each kind")
    parser.add_argument(
        "--scan-queries", type=int, default=10, help="Queries checked against decrypt-and-scan."
    )
    parser.add_argument(
        "--embed", type=int, default=2000, help="Sessions the model embeds (others: synthetic)."
    )
    parser.add_argument(
        "--keep-index", action="store_true", help="With --reuse, keep a complete keyword index (no build)."
    )
    args = parser.parse_args(argv)
    os.environ["SECURE_SSL_REDIRECT"] = "0"  # the API answers here; a 301 to HTTPS would be timed otherwise
    os.environ["ANNORIS_SEARCH_SEMANTIC"] = "0"  # the fill indexes words only; vectors are timed below
    assistant_db.prepare(args.database_url, args.sessions, reuse=args.reuse, index=False)  # built below

    from django.conf import settings
    from django.db import connection
    from rest_framework.test import APIClient

    from annoris.api import tokens
    from sessions_app.models import SearchDocument, SearchPosting, SearchVector, Session
    from sessions_app.search import reindex_all, search_session_ids
    from sessions_app.search.embedding import embed
    from sessions_app.search.parser import matches, parse
    from sessions_app.search.terms import term_set
    from sessions_app.search.vectors import _index

    report: list[tuple[str, str]] = []
    checks: list[tuple[str, bool]] = []

    # 1-2. Build times.
    if args.keep_index and SearchDocument.objects.count() == Session.objects.count():
        report.append(("keyword index build", "kept from the previous run (--keep-index)"))
    else:
        with connection.cursor() as cursor:  # a DELETE of 18 million postings outlasts the statement timeout
            cursor.execute(f"TRUNCATE {SearchPosting._meta.db_table}, {SearchDocument._meta.db_table}")
        started = time.perf_counter()
        indexed, _ = reindex_all(batch_size=500)
        build_s = time.perf_counter() - started
        report.append(
            ("keyword index build", f"{indexed} sessions in {build_s:.1f} s ({indexed / build_s:.0f}/s)")
        )
        checks.append((f"keyword build under 3 min ({build_s:.0f} s)", build_s < 180))
    rng = random.Random(17)
    all_ids = list(Session.objects.live().order_by("id").values_list("id", flat=True))
    sample_ids = rng.sample(all_ids, min(50, len(all_ids)))  # the hybrid check's sessions
    embedded_ids = set(all_ids) if len(all_ids) <= args.embed else set(sample_ids)
    others = [sid for sid in all_ids if sid not in embedded_ids]
    embedded_ids |= set(rng.sample(others, max(0, min(args.embed, len(all_ids)) - len(embedded_ids))))
    if not (args.reuse and SearchVector.objects.count() == len(all_ids)):
        report += build_vectors(all_ids, embedded_ids)
    assistant_db.vacuum()
    # As the project's gunicorn does in its master before it forks the workers (gunicorn.conf.py,
    # when_ready): the model loaded, then gc.freeze(). Without it, each full collection of this
    # one process scanned the ~107,000 objects of Django and the model (54-73 ms here, timed with
    # gc.collect()), a tail that no worker of the real server has.
    embed(["warm up"])
    gc.freeze()

    # 3. Size.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size(%s), pg_total_relation_size(%s)", [
            SearchPosting._meta.db_table, SearchVector._meta.db_table,
        ])  # fmt: skip
        postings_bytes, vectors_bytes = cursor.fetchone()
    rows = SearchPosting.objects.count()
    report.append(
        (
            "postings",
            f"{rows} rows, {postings_bytes / 2**20:.0f} MB with indexes ({rows / len(all_ids):.0f}/session)",
        )
    )
    report.append(("vectors (encrypted)", f"{vectors_bytes / 2**20:.1f} MB"))

    # Queries.
    vocabulary = corpus_gen._WORDS + corpus_gen._RU  # noqa: SLF001 - the generator's words
    two_words = [f"{rng.choice(vocabulary)} {rng.choice(vocabulary)}" for _ in range(args.iterations * 2)]
    two_words = [q for q in two_words if search_session_ids(q, limit=1)[1]][: args.iterations]  # with hits
    sample_rows = list(Session.objects.filter(id__in=sample_ids))
    phrases = []
    for row in sample_rows:
        run = re.findall(r"(?<![\w-])[a-z]{3,} [a-z]{3,}(?![\w-])", row.text.lower())
        if run:
            phrases.append(f'"{rng.choice(run)}"')
    phrases = [phrases[i % len(phrases)] for i in range(args.iterations)]
    titles = [(row.id, row.title) for row in sample_rows]  # generated text has no meaning to paraphrase

    client = APIClient()
    token = tokens.issue(name="bench")[1]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    def get(query: str) -> dict:
        response = client.get("/api/search/", {"q": query, "limit": 10})
        assert response.status_code == 200, (response.status_code, query)
        return response.json()

    # 4. Every answer checked before it is timed.
    settings.ANNORIS_SEARCH_SEMANTIC = False
    for query in dict.fromkeys(two_words + phrases):
        expected, total = search_session_ids(query, limit=10)
        body = get(query)
        assert [hit["id"] for hit in body["results"]] == [str(i) for i in expected], query
        assert body["count"] == total and total > 0, query
    scanned = {query: parse(query) for query in two_words[: args.scan_queries] + phrases[: args.scan_queries]}
    expected: dict[str, set] = {query: set() for query in scanned}
    for row in Session.objects.live().iterator(chunk_size=500) if scanned else ():  # one decrypting pass
        terms = term_set(row.title, row.text)
        for query, parsed in scanned.items():
            if matches(parsed, terms):
                expected[query].add(row.id)
    for query in scanned:
        assert set(search_session_ids(query, limit=None)[0]) == expected[query], query
    for query in set(phrases):
        words = query.strip('"')
        for hit in get(query)["results"]:
            text = Session.objects.get(id=hit["id"]).text.lower()
            assert words in " ".join(re.findall(r"\w+", text)), (query, hit["id"])
    checks.append(("every answer a 200 with the expected hits; recall = decrypt-and-scan", True))

    settings.ANNORIS_SEARCH_SEMANTIC = True
    found = 0
    for session_id, query in titles:
        found += str(session_id) in [hit["id"] for hit in get(query)["results"]]
    assert found >= len(titles) * 0.8, f"hybrid found {found} of {len(titles)} sessions by their titles"
    vectors_mb = (_index.ids.nbytes + _index.bits.nbytes) / 2**20
    report.append(("hybrid check", f"{found}/{len(titles)} sessions found by their title in hybrid mode"))

    # 5. Timing.
    def timed(queries: list[str], semantic: bool) -> list[float]:
        settings.ANNORIS_SEARCH_SEMANTIC = semantic
        out = []
        for query in queries:
            started = time.perf_counter()
            get(query)
            out.append((time.perf_counter() - started) * 1000)
        return out

    two = assistant_db.summary(timed(two_words, False))
    phrase = assistant_db.summary(timed(phrases, False))
    hybrid = assistant_db.summary(timed(two_words, True))
    report += [
        ("two-word search (API)", f"median {two['median']:.1f} ms, p99 {two['p99']:.1f} ms"),
        ("phrase search (API)", f"median {phrase['median']:.1f} ms, p99 {phrase['p99']:.1f} ms"),
        ("hybrid search (API)", f"median {hybrid['median']:.1f} ms, p99 {hybrid['p99']:.1f} ms"),
    ]
    # 6. Memory: gunicorn's workers with the semantic layer off, then on (the same 20 queries).
    off = worker_memory(token, semantic=False, queries=two_words[:20])
    on = worker_memory(token, semantic=True, queries=two_words[:20])

    def median_of(rows: list[dict[str, float]], field: str) -> float:
        return statistics.median(row[field] for row in rows)

    semantic_mb = median_of(on, "pss") - median_of(off, "pss")
    shown = {
        field: f"{median_of(off, field):.0f} -> {median_of(on, field):.0f}" for field in ("rss", "pss", "uss")
    }
    report.append((
        "memory per gunicorn worker (MB, median of 2), semantic layer off -> on",
        f"PSS {shown['pss']} (**+{semantic_mb:.0f}**), USS {shown['uss']}, RSS {shown['rss']}; "
        f"vectors held (sign bits + ids) {vectors_mb:.1f} MB",
    ))  # fmt: skip
    checks += [
        (f"two-word median < 25 ms ({two['median']:.1f})", two["median"] < 25),
        (f"two-word p99 < 100 ms ({two['p99']:.1f})", two["p99"] < 100),
        (f"phrase p99 < 150 ms ({phrase['p99']:.1f})", phrase["p99"] < 150),
        (f"hybrid p99 < 150 ms ({hybrid['p99']:.1f})", hybrid["p99"] < 150),
        (f"semantic layer < 128 MB per web process (PSS +{semantic_mb:.0f})", semantic_mb < 128),
    ]
    print(f"| Measure ({args.sessions} sessions, {assistant_db.machine()}) | Value |\n|---|---|")
    for label, value in report:
        print(f"| {label} | {value} |")
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'} {label}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
