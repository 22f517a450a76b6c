"""Keyword query latency on an indexed bench database: phrases, two words, prefixes.

``run_search(q, hybrid=False)`` (ranking and the snippets' decryption: the API minus DRF) on a
database ``bench/index_build.py`` built, with no sentence vectors needed, so that two versions
of the index can be compared on the same queries in a minute (``bench/search.py`` embeds every
session first, ~12 sessions/s). Runs VACUUM ANALYZE first, as autovacuum would after a build.

    flock /tmp/cpu.lock .venv/bin/python bench/keyword_latency.py \\
        --database-url postgres://postgres@127.0.0.1:5432/annoris_idx_bench_10k
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args(argv)
    os.environ["ANNORIS_SEARCH_SEMANTIC"] = "0"
    assistant_db.configure(args.database_url)
    import django

    django.setup()
    assistant_db.vacuum()
    from sessions_app.models import Session
    from sessions_app.search import run_search

    rng = random.Random(17)
    ids = list(Session.objects.order_by("id").values_list("id", flat=True))
    phrases = []
    for row in Session.objects.filter(id__in=rng.sample(ids, min(50, len(ids)))).order_by("id"):
        run = re.findall(r"(?<![\w-])[a-z]{3,} [a-z]{3,}(?![\w-])", row.text.lower())
        if run:
            phrases.append(f'"{rng.choice(run)}"')
    vocabulary = corpus_gen._WORDS + corpus_gen._RU  # noqa: SLF001 - the generator's words
    two_words = [f"{rng.choice(vocabulary)} {rng.choice(vocabulary)}" for _ in range(50)]
    prefixes = [word[:4] + "*" for word in rng.sample(corpus_gen._WORDS, 10)]  # noqa: SLF001
    for query in phrases + two_words + prefixes:
        run_search(query, hybrid=False)  # warm the caches, as a running server has them

    def timed(queries: list[str], count: int) -> str:
        times = []
        for i in range(count):
            started = time.perf_counter()
            run_search(queries[i % len(queries)], hybrid=False)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p99 = times[max(0, int(len(times) * 0.99) - 1)]
        return f"median {statistics.median(times):.1f} ms, p99 {p99:.1f} ms ({count} queries)"

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{len(ids)} sessions, load average {load}")
    print(f"| phrase | {timed(phrases, args.iterations)} |")
    print(f"| two words | {timed(two_words, args.iterations)} |")
    print(f"| prefix | {timed(prefixes, args.iterations // 4)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
