"""The bench database shared by bench/context.py and bench/search.py (issue #8).

``prepare()`` fills a PostgreSQL database with ``count`` generated sessions (bench/corpus.py,
unchanged) through the real sync from a local folder, so rows, projects and the blind
index are written exactly as in production. ``--reuse`` keeps a database a previous run
filled (same count, same key), which saves the few minutes the sync takes.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import corpus as corpus_gen  # noqa: E402 - bench/ is on sys.path as the script's folder

SEED = 8
SIZE = 5000


def parser(description: str, *, iterations: int, what: str) -> argparse.ArgumentParser:
    """The options every corpus benchmark takes: database, corpus size, timed calls, reuse."""
    found = argparse.ArgumentParser(description=description)
    found.add_argument("--database-url", required=True, help="PostgreSQL URL; the name must contain 'bench'.")
    found.add_argument(
        "--sessions", type=int, default=10_000, help="Sessions in the corpus (default 10,000)."
    )
    found.add_argument(
        "--iterations", type=int, default=iterations, help=f"Timed {what} (default {iterations:,})."
    )
    found.add_argument("--reuse", action="store_true", help="Keep a database a previous run filled.")
    return found


def bench_key() -> str:
    """A fixed keyring entry for the throwaway bench database (so --reuse can decrypt it)."""
    raw = hashlib.sha256(b"annoris bench key, not for real data").digest()
    return "bench:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def configure(database_url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="annoris.settings",
        DEBUG="0",
        SECRET_KEY=uuid.uuid4().hex + uuid.uuid4().hex,
        ANNORIS_ENCRYPTION_KEYS=bench_key(),
        DATABASE_URL=database_url,
        REDIS_URL="",
        LOG_LEVEL="WARNING",
        ALLOWED_HOSTS="testserver,localhost,127.0.0.1",
        # The test client speaks plain HTTP, as loopback behind the TLS proxy would: without
        # this every request timed was a 301 to https (issue #18).
        SECURE_SSL_REDIRECT="0",
    )


def _conninfo(url: str, dbname: str | None = None) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or "") or None,
        "dbname": dbname or parts.path.lstrip("/"),
    }


def _recreate(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = _conninfo(url)["dbname"]
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    with psycopg.connect(**_conninfo(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _filled(url: str, count: int, *, indexed: bool = True) -> bool:
    import psycopg

    try:
        with psycopg.connect(**_conninfo(url)) as conn:
            sessions = conn.execute("SELECT count(*) FROM sessions_app_session").fetchone()[0]
            documents = conn.execute("SELECT count(*) FROM sessions_app_searchdocument").fetchone()[0]
            return sessions == count and (documents == count or not indexed)
    except psycopg.Error:
        return False


def prepare(database_url: str, count: int, *, reuse: bool, index: bool = True) -> dict[str, bytes]:
    """Configure Django on the bench database holding ``count`` sessions; returns the corpus.

    ``index=False`` leaves the search index to the caller (bench/index_build.py times it)."""
    files = corpus_gen.make_corpus(count, seed=SEED, size=SIZE)
    configure(database_url)
    fresh = not (reuse and _filled(database_url, count, indexed=index))
    if fresh:
        _recreate(database_url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    if fresh:
        from annoris.sources.local import LocalSource
        from sync_app.engine import run_sync

        with tempfile.TemporaryDirectory() as folder:
            for path, data in files.items():
                target = Path(folder) / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            started = time.perf_counter()
            result = run_sync(source=LocalSource(folder, repository="bench/sessions"), trigger="manual")
            print(
                f"sync of {count} files: {result.status} in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
            from sessions_app.search import index_pending

            if not index:
                vacuum()
                return files
            started = time.perf_counter()  # what the worker's queued task does after an import
            print(f"search index: {index_pending()} sessions in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr)  # fmt: skip
        vacuum()
    return files


def vacuum() -> None:
    """VACUUM ANALYZE, as autovacuum does after a bulk load: statistics for the planner and the
    visibility map that lets PostgreSQL answer a search from the postings index alone.
    """
    import psycopg
    from django.db import connection

    with psycopg.connect(**_conninfo(os.environ["DATABASE_URL"]), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    connection.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(values_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(values_ms),
        "median": statistics.median(values_ms),
        "p99": percentile(values_ms, 99),
        "max": max(values_ms),
    }


def machine() -> str:
    """The machine, and the database server's settings that decide large builds and scans."""
    import platform

    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {server_settings()}"


def server_settings() -> str:
    """PostgreSQL's version and the settings a 100,000-session index depends on (README)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return connection.vendor
    names = ("shared_buffers", "max_wal_size", "checkpoint_timeout")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0].split()[0]
        shown = []
        for name in names:
            cursor.execute(f"SHOW {name}")
            shown.append(f"{name} {cursor.fetchone()[0]}")
    return f"PostgreSQL {version} ({', '.join(shown)})"
