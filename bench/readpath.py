"""The read path per layer (issue #4): ``Session.objects.fetch()`` against its raw floors.

What is measured, and how:

* ``--sessions`` markdown sessions of about 10 KB each (deterministic, YAML front matter,
  20 project folders, some Cyrillic and emoji) are committed to the GitHub emulator, which
  runs in a child process (so its HTTP server does not share this process's GIL) and serves
  them over real HTTP on 127.0.0.1.
* This process sets up Django in-process with ``DEBUG=0`` (a generated ``SECRET_KEY`` and
  AES-256 keyring, so no query is recorded in ``connection.queries``), a PostgreSQL database
  the bench drops and recreates (its name must contain ``bench``), and a Redis database it
  flushes (``redis://127.0.0.1:6379/12`` by default). The sessions reach PostgreSQL through
  the real sync (``sync_app.engine.run_sync()`` against the emulator).
* Every timed call is one ``fetch(id)`` followed by ``.session.text`` (the AES-GCM decrypt),
  timed with ``time.perf_counter_ns()``; reads go round-robin over the ids. The floors end at
  the same point, a ``str`` of the document:
  - cache floor: a plain ``redis.Redis`` GET of the same ciphertext token (stored under a
    bench key, one per session) + ``annoris.crypto.decrypt`` + UTF-8 decode;
  - database floor: ``SELECT content FROM sessions_app_session WHERE id = %s`` on a plain
    autocommit psycopg connection (psycopg's defaults: server-side binding, prepared after
    5 executions) + decrypt + UTF-8 decode.
  Fetch and floor run interleaved in ``--rounds`` blocks, so drift in machine load hits both.
* Layers: ``cache`` (every row in Redis); ``database`` with the cache layer switched off by
  ``override_settings(ANNORIS_SESSION_CACHE=None)`` (``cache.enabled()`` reads the setting on
  every call, so this is exactly "REDIS_URL unset"); ``database+miss`` for information, Redis
  on but the row's key deleted before each read (untimed), so the GET miss and the write-back
  are included; ``github`` with the cache off and the row deleted from PostgreSQL before each
  read (untimed), so the timed read includes the database miss, the emulator read, parsing
  and the database write-back; ``github, db open`` with the database breaker held open (no
  query, the write-back only queued in memory): the source read alone.

Targets (issue #4): cache fetch <= 1.5x its floor and < 1 ms median; PostgreSQL fetch <= 3x
its floor and < 2 ms median. PASS/FAIL is printed per target; the exit status is 1 on a miss.

Run from the project root::

    .venv/bin/python bench/readpath.py --quick
    .venv/bin/python bench/readpath.py --markdown
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import corpus as corpus_gen  # noqa: E402 - bench/ is on sys.path as the script's folder

SEED = 20251104
TARGET_BYTES = 10_000
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/annoris_bench_read"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
FLOOR_PREFIX = "annoris-bench:readpath:token:"

Op = Callable[[uuid.UUID], str]

# --- the repository ----------------------------------------------------------------


def make_corpus(count: int, seed: int = SEED) -> dict[str, bytes]:
    """``count`` sessions of about TARGET_BYTES over corpus_gen.PROJECTS folders (same seed, same bytes)."""
    return corpus_gen.make_corpus(count, seed=seed, size=TARGET_BYTES, front_matter=True)


# --- the emulator, in a child process ---------------------------------------------------


def serve_emulator(sessions: int) -> None:
    """Child: commit the corpus, print the emulator's coordinates, serve until stdin closes."""
    from annoris.testing.github_emulator import GitHubEmulator

    with tempfile.TemporaryDirectory(prefix="annoris-bench-read-") as tmp:
        emu = GitHubEmulator(Path(tmp) / "repo").start()
        try:
            emu.commit_files(make_corpus(sessions), message="Bench sessions")
            emu.rate_limit = 10**9  # the bench measures reads, not GitHub's hourly budget
            info = {"url": emu.base_url, "repo": emu.full_name, "token": emu.token, "branch": emu.branch}
            print(json.dumps(info), flush=True)
            sys.stdin.read()  # the parent closes our stdin when it is done
        finally:
            emu.stop()


@contextmanager
def emulator(sessions: int) -> Iterator[dict[str, str]]:
    """Start the emulator child and yield its coordinates; stop it on exit."""
    cmd = [sys.executable, __file__, "--serve-emulator", "--sessions", str(sessions)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"the emulator child exited ({proc.wait()}) before it was ready")
        yield json.loads(line)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=30)


# --- environment, database, Django ----------------------------------------------------------


def conninfo(url: str, dbname: str | None = None) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or "") or None,
        "dbname": dbname or parts.path.lstrip("/"),
    }


def recreate_database(url: str) -> None:
    """Drop and create the bench database (rows encrypted under an old run's key are useless)."""
    import psycopg
    from psycopg import sql

    name = conninfo(url)["dbname"]
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    with psycopg.connect(**conninfo(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def configure_environment(emu: dict[str, str], database_url: str, redis_url: str) -> None:
    """What a production deployment sets, pointed at the emulator, the bench DB and Redis db."""
    from annoris import crypto

    os.environ.update(
        DJANGO_SETTINGS_MODULE="annoris.settings",
        DEBUG="0",
        SECRET_KEY=uuid.uuid4().hex + uuid.uuid4().hex,
        ANNORIS_ENCRYPTION_KEYS=crypto.generate_key("bench"),
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SESSIONS_SOURCE="github",
        GITHUB_API_URL=emu["url"],
        GITHUB_REPO=emu["repo"],
        GITHUB_BRANCH=emu["branch"],
        GITHUB_TOKEN=emu["token"],
        LOG_LEVEL="WARNING",
    )


def setup_django() -> None:
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    if settings.DEBUG:
        raise SystemExit("DEBUG must be off: with DEBUG on Django records every query")
    call_command("migrate", verbosity=0, interactive=False)


def sync_sessions(expected: int) -> list[uuid.UUID]:
    """Run the real sync against the emulator; the ids of the synced sessions, sorted by path."""
    from sessions_app.models import Session
    from sync_app.engine import run_sync

    started = time.perf_counter()
    result = run_sync(trigger="manual")
    assert result is not None
    ids = list(Session.objects.order_by("github_path").values_list("id", flat=True))
    print(f"sync: {result.status} {result.counts} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if len(ids) != expected:
        raise SystemExit(f"the sync stored {len(ids)} sessions, expected {expected}")
    return ids


# --- measuring -------------------------------------------------------------------------


@dataclass
class Samples:
    """Nanoseconds per call, and which layer answered each call."""

    ns: list[int] = field(default_factory=list)
    layers: Counter[str] = field(default_factory=Counter)

    def median_ms(self) -> float:
        return statistics.median(self.ns) / 1e6

    def p99_ms(self) -> float:
        ordered = sorted(self.ns)
        return ordered[math.ceil(0.99 * len(ordered)) - 1] / 1e6

    def mean_ms(self) -> float:
        return statistics.fmean(self.ns) / 1e6


def timed(op: Op, ids: Sequence[uuid.UUID], start: int, count: int, into: Samples, before: Op | None) -> None:
    """``count`` calls of ``op`` round-robin over ``ids`` from ``start``; ``before`` runs untimed."""
    clock = time.perf_counter_ns
    for i in range(start, start + count):
        sid = ids[i % len(ids)]
        if before is not None:
            before(sid)
        t0 = clock()
        layer = op(sid)
        into.ns.append(clock() - t0)
        into.layers[layer] += 1


def compare(
    fetch: Op, floor: Op | None, ids: Sequence[uuid.UUID], reads: int, rounds: int, before: Op | None = None
) -> tuple[Samples, Samples | None]:
    """Fetch and floor, interleaved in ``rounds`` blocks (alternating which goes first)."""
    warm = min(len(ids), reads)
    timed(fetch, ids, 0, warm, Samples(), before)
    if floor is not None:
        timed(floor, ids, 0, warm, Samples(), None)
    fetched, floored = Samples(), Samples() if floor is not None else None
    block = max(1, reads // rounds)
    for r in range(rounds):
        start = r * block
        count = block if r < rounds - 1 else reads - start
        runs = [(fetch, fetched, before), (floor, floored, None)]
        for op, into, prep in runs if r % 2 == 0 else reversed(runs):
            if op is not None and into is not None:
                timed(op, ids, start, count, into, prep)
    return fetched, floored


# --- the operations ------------------------------------------------------------------------


def fetch_text(sid: uuid.UUID) -> str:
    """What a reader does: fetch, then read the text (the decrypt)."""
    from sessions_app.models import Session

    result = Session.objects.fetch(sid)
    if result.session.id != sid or not result.session.text:  # the decrypt is part of the read
        raise SystemExit(f"fetch({sid}) answered session {result.session.id} with an empty text")
    return result.layer


class Floors:
    """The raw floors: a plain redis-py client and a plain psycopg connection, same data."""

    SQL = "SELECT content FROM sessions_app_session WHERE id = %s"

    def __init__(self, database_url: str, redis_url: str) -> None:
        import psycopg
        import redis
        from django.conf import settings

        self.keyring = settings.ANNORIS_KEYRING
        self.redis = redis.Redis.from_url(redis_url)
        self.pg = psycopg.connect(**conninfo(database_url), autocommit=True)

    def store_tokens(self, ids: Sequence[uuid.UUID]) -> int:
        """Put each session's ciphertext token (as in PostgreSQL) under a bench key; mean bytes."""
        tokens = {sid: self._select(sid) for sid in ids}
        self.redis.mset({FLOOR_PREFIX + str(sid): token for sid, token in tokens.items()})
        return round(statistics.fmean(len(t) for t in tokens.values()))

    def _select(self, sid: uuid.UUID) -> str:
        row = self.pg.execute(self.SQL, (sid,)).fetchone()
        assert row is not None, sid
        return row[0]

    def cache(self, sid: uuid.UUID) -> str:
        from annoris import crypto

        crypto.decrypt(self.redis.get(FLOOR_PREFIX + str(sid)), self.keyring).decode("utf-8")
        return "floor"

    def database(self, sid: uuid.UUID) -> str:
        from annoris import crypto

        crypto.decrypt(self._select(sid), self.keyring).decode("utf-8")
        return "floor"

    def delete_row(self, sid: uuid.UUID) -> str:
        # The row's search index entries first: Django cascades, the raw DELETE must do it itself.
        tables = ("sessions_app_searchposting", "sessions_app_searchdocument", "sessions_app_searchvector")
        for table in (*tables, "sessions_app_session"):
            column = "id" if table == "sessions_app_session" else "session_id"
            self.pg.execute(f"DELETE FROM {table} WHERE {column} = %s", (sid,))  # noqa: S608 - fixed names
        return "untimed"

    def close(self) -> None:
        self.redis.close()
        self.pg.close()


def drop_cached(sid: uuid.UUID) -> str:
    from django.conf import settings
    from django.core.cache import caches

    from sessions_app.readpath import cache

    caches[settings.ANNORIS_SESSION_CACHE].delete(cache.row_key(sid))
    return "untimed"


@contextmanager
def cache_off() -> Iterator[None]:
    """The cache layer off exactly as with REDIS_URL unset: cache.enabled() reads this per call."""
    from django.test import override_settings

    with override_settings(ANNORIS_SESSION_CACHE=None):
        yield


@contextmanager
def database_open() -> Iterator[None]:
    """The database breaker held open (a very long cool-down), as while PostgreSQL is down."""
    from django.test import override_settings

    from sessions_app import readpath

    with override_settings(ANNORIS_BREAKER_COOLDOWN=1e9):
        readpath.breakers()["database"].record_failure("bench: database layer skipped on purpose")
        try:
            yield
        finally:
            readpath.reset()


# --- the run -----------------------------------------------------------------------------


@dataclass
class Row:
    layer: str
    how: str
    fetch: Samples
    floor: Samples | None
    calls_per_read: float | None = None


def source_calls() -> int:
    from sessions_app.readpath import source

    return source.read_source().client.calls  # type: ignore[attr-defined]


def measure(args: argparse.Namespace, ids: list[uuid.UUID], floors: Floors) -> list[Row]:
    from sessions_app.models import Session
    from sessions_app.readpath import cache

    rows: list[Row] = []
    cache.set_rows(Session.objects.select_related("project").filter(pk__in=ids))  # every row cached
    f, b = compare(fetch_text, floors.cache, ids, args.reads, args.rounds)
    rows.append(Row("cache", "Redis on, every row cached", f, b))
    with cache_off():
        f, b = compare(fetch_text, floors.database, ids, args.reads, args.rounds)
    rows.append(Row("database", "cache layer off (ANNORIS_SESSION_CACHE=None)", f, b))
    f, b = compare(fetch_text, floors.database, ids, args.reads, args.rounds, before=drop_cached)
    rows.append(Row("database", "Redis on, key deleted first: GET miss + write-back", f, b))
    with cache_off():
        calls = source_calls()
        f, _ = compare(fetch_text, None, ids, args.source_reads, args.rounds, before=floors.delete_row)
        rows.append(Row("github", "cache off, row deleted first: DB miss + read + DB write-back", f, None))
        rows[-1].calls_per_read = (source_calls() - calls) / (
            args.source_reads + min(len(ids), args.source_reads)
        )
        with database_open():
            calls = source_calls()
            f, _ = compare(fetch_text, None, ids, args.source_reads, args.rounds)
            rows.append(Row("github", "cache off, DB breaker open: source read only", f, None))
            rows[-1].calls_per_read = (source_calls() - calls) / (
                args.source_reads + min(len(ids), args.source_reads)
            )
    return rows


@dataclass(frozen=True)
class Check:
    name: str
    value: str
    target: str
    ok: bool


def checks(rows: list[Row]) -> list[Check]:
    cache_row, db_row = rows[0], rows[1]
    result: list[Check] = []
    for row, ratio_max, ms_max in ((cache_row, 1.5, 1.0), (db_row, 3.0, 2.0)):
        assert row.floor is not None
        ratio = row.fetch.median_ms() / row.floor.median_ms()
        label = "cache" if row is cache_row else "PostgreSQL"
        result.append(
            Check(f"{label} fetch / floor (median)", f"{ratio:.2f}x", f"<= {ratio_max}x", ratio <= ratio_max)
        )
        med = row.fetch.median_ms()
        result.append(Check(f"{label} fetch median", f"{med:.3f} ms", f"< {ms_max:g} ms", med < ms_max))
    for row in rows:
        wrong = {k: v for k, v in row.fetch.layers.items() if k != row.layer}
        result.append(
            Check(
                f"{row.layer} ({row.how}) served by its layer",
                str(dict(row.fetch.layers)),
                row.layer,
                not wrong,
            )
        )
    return result


def _ms(value: float) -> str:
    return f"{value:.3f}"


def table(rows: list[Row]) -> list[list[str]]:
    out = [
        [
            "Layer",
            "How",
            "Reads",
            "fetch median ms",
            "fetch p99 ms",
            "fetch mean ms",
            "floor median ms",
            "floor p99 ms",
            "ratio (median)",
        ]
    ]
    for row in rows:
        floor = row.floor
        ratio = f"{row.fetch.median_ms() / floor.median_ms():.2f}x" if floor else "-"
        how = row.how + (
            f"; {row.calls_per_read:.2f} API calls/read" if row.calls_per_read is not None else ""
        )
        out.append(
            [
                row.layer,
                how,
                f"{len(row.fetch.ns):,}",
                _ms(row.fetch.median_ms()),
                _ms(row.fetch.p99_ms()),
                _ms(row.fetch.mean_ms()),
                _ms(floor.median_ms()) if floor else "-",
                _ms(floor.p99_ms()) if floor else "-",
                ratio,
            ]
        )
    return out


def render(rows: list[list[str]], *, markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join("---" for _ in rows[0]) + "|"]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows[1:]])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def machine() -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    cpus = len(os.sched_getaffinity(0))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"nproc {cpus}, Python {platform.python_version()}, {platform.machine()}, load {load}, {stamp}"


# --- main -----------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sessions", type=int, default=1000, help="sessions in the repository (default 1000)"
    )
    parser.add_argument("--reads", type=int, default=10_000, help="timed reads per cache/database layer")
    parser.add_argument("--source-reads", type=int, default=1000, help="timed reads per GitHub variant")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved fetch/floor blocks")
    parser.add_argument("--quick", action="store_true", help="200 sessions, 2,000 reads, 200 source reads")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table for docs/")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="dropped and recreated")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="flushed at start")
    parser.add_argument("--serve-emulator", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.sessions, args.reads, args.source_reads = 200, 2000, 200
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_emulator:
        serve_emulator(args.sessions)
        return 0
    with emulator(args.sessions) as emu:
        configure_environment(emu, args.database_url, args.redis_url)
        recreate_database(args.database_url)
        flush_redis(args.redis_url)
        setup_django()
        ids = sync_sessions(args.sessions)
        floors = Floors(args.database_url, args.redis_url)
        try:
            token_bytes = floors.store_tokens(ids)
            gc.collect()
            rows = measure(args, ids, floors)
        finally:
            floors.close()
    results = checks(rows)
    print(f"machine: {machine()}")
    print(f"data: {len(ids)} sessions, ciphertext token {token_bytes:,} bytes on average; GC on")
    print(render(table(rows), markdown=args.markdown))
    print()
    for c in results:
        print(f"{'PASS' if c.ok else 'FAIL'}  {c.name}: {c.value} (target {c.target})")
    return 0 if all(c.ok for c in results) else 1


if __name__ == "__main__":
    sys.exit(main())
