"""Sync at 10,000 files (issue #3): API calls, wall time and peak memory of ``sync_github``.

What is measured, and why this way:

* A deterministic repository of ``--files`` markdown sessions (about 5 KB each, 20 project
  folders, ``**Date:**`` fields) is committed to the GitHub emulator, which serves it over
  real HTTP on 127.0.0.1 from a real git repository.
* Every sync runs ``manage.py sync_github --json`` in its own process, configured only
  through the environment (``SESSIONS_SOURCE=github`` and the emulator's URL and token),
  exactly as production runs it. A separate process makes the peak RSS the sync's own
  (its ``VmHWM`` at exit, see ``_LAUNCHER``), not the emulator's or this script's.
* API calls are counted on the emulator side, per endpoint, so nothing the client might
  forget to count is missed (the codeload download the tarball redirects to is counted
  too, although on GitHub it spends no rate limit).
* Wall time is given twice: the whole process (Python and Django start-up included, a
  fixed cost of a few hundred ms) and the engine's own ``duration_ms`` from the JSON.
* Scenarios: the initial sync into an empty database (expected: branch, tree and one
  tarball), a sync with nothing changed (expected: one branch call), and a sync after a
  fresh commit changing 10 files (expected: branch, tree, 10 blobs). Each is repeated and
  quoted as median (min-max).
* The naive baseline, run in the same session against the same emulator, reads every file
  with its own Contents API call after one tree listing (``naive_contents.py``). It only
  fetches, so the ratios it gives are lower bounds of what the archive path saves.

Targets (issue #3): initial <= 5 calls; no-change <= 2 calls and under 1 s; 10 changes
<= 12 calls; peak RSS under 300 MB. Issue #9: the initial sync's engine duration within
3x the archive fetch-only time run right after it (median of those pairs). The script prints
PASS/FAIL per target and exits 1 when any fails.

Run from the project root::

    .venv/bin/python bench/sync_10k.py --quick
    .venv/bin/python bench/sync_10k.py --markdown \\
        --database-url postgres://postgres@127.0.0.1:5432/annoris_bench
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
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

from annoris.testing.github_emulator import GitHubEmulator  # noqa: E402

SEED = 20251020
TARGET_BYTES = 5_000
RATE_LIMIT = 5_000  # an authenticated user's hourly budget; the syncs run under it
MB = 1024 * 1024

# --- the repository ----------------------------------------------------------------


def make_corpus(count: int, seed: int = SEED) -> dict[str, bytes]:
    """``count`` sessions of about TARGET_BYTES over corpus_gen.PROJECTS folders (same seed, same bytes)."""
    return corpus_gen.make_corpus(count, seed=seed, size=TARGET_BYTES, front_matter=False)


def edit_files(corpus: dict[str, bytes], *, count: int, round_: int, seed: int = SEED) -> dict[str, bytes]:
    """``count`` files of ``corpus`` with a line appended (a new version each round)."""
    rng = random.Random(seed * 1000 + round_)
    changed = {
        path: corpus[path] + f"\n- 🔄 Follow-up added in bench round {round_}.\n".encode()
        for path in rng.sample(sorted(corpus), count)
    }
    corpus.update(changed)
    return changed


# --- the database -------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """The sync's database: a temp SQLite file or a PostgreSQL database the bench may drop."""

    url: str

    @property
    def is_postgres(self) -> bool:
        return urlsplit(self.url).scheme in {"postgres", "postgresql", "pgsql"}

    def recreate(self) -> None:
        """Drop and create it empty (SQLite: delete the file)."""
        if not self.is_postgres:
            Path(unquote(urlsplit(self.url).path)).unlink(missing_ok=True)
            return
        import psycopg
        from psycopg import sql

        parts = urlsplit(self.url)
        name = parts.path.lstrip("/")
        if "bench" not in name:
            raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
        conninfo = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 5432,
            "user": unquote(parts.username or "postgres"),
            "password": unquote(parts.password or "") or None,
            "dbname": "postgres",
        }
        with psycopg.connect(**conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --- measured child processes ------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    returncode: int
    wall_s: float
    peak_rss_mb: float
    stdout: str
    stderr: str


# Runs a Python script and, at exit, writes its own VmHWM (peak RSS, kB) to BENCH_HWM_FILE.
# Not ru_maxrss: on Linux a child's ru_maxrss starts at its parent's high-water mark at
# fork (kept across exec), so every child of this 200 MB script would report >= 200 MB.
# VmHWM belongs to the address space exec created, so it is the script's alone.
_LAUNCHER = """
import atexit, os, runpy, sys
def _report():
    with open('/proc/self/status') as status:
        kb = next(line.split()[1] for line in status if line.startswith('VmHWM:'))
    with open(os.environ['BENCH_HWM_FILE'], 'w') as out:
        out.write(kb)
atexit.register(_report)
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
runpy.run_path(sys.argv[0], run_name='__main__')
"""


def run_measured(cmd: Sequence[str], *, env: dict[str, str]) -> Proc:
    """Run Python script ``cmd`` (script, args); wall time from spawn to exit, its own peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        hwm, out_path, err_path = Path(tmp, "hwm"), Path(tmp, "out"), Path(tmp, "err")
        with out_path.open("wb") as out, err_path.open("wb") as err:
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", _LAUNCHER, *cmd],
                cwd=ROOT,
                env={**env, "BENCH_HWM_FILE": str(hwm)},
                stdout=out,
                stderr=err,
                check=False,
            )
            wall = time.perf_counter() - started
        return Proc(
            returncode=done.returncode,
            wall_s=wall,
            peak_rss_mb=int(hwm.read_text()) * 1024 / MB if hwm.exists() else float("nan"),
            stdout=out_path.read_text(errors="replace"),
            stderr=err_path.read_text(errors="replace"),
        )


def manage(*args: str) -> list[str]:
    return [str(ROOT / "manage.py"), *args]


def sync_env(emu: GitHubEmulator, db: Database) -> dict[str, str]:
    """The environment a deployment would set, pointing at the emulator and the bench DB."""
    return {
        **os.environ,
        "SESSIONS_SOURCE": "github",
        "GITHUB_API_URL": emu.base_url,
        "GITHUB_REPO": emu.full_name,
        "GITHUB_BRANCH": emu.branch,
        "GITHUB_TOKEN": emu.token,
        "DATABASE_URL": db.url,
        "DEBUG": "1",
    }


def migrate(env: dict[str, str]) -> None:
    done = run_measured(manage("migrate", "--noinput"), env=env)
    if done.returncode != 0:
        raise SystemExit(f"migrate failed ({done.returncode}):\n{done.stderr[-3000:]}")


@dataclass(frozen=True)
class SyncRun:
    wall_s: float
    engine_ms: int
    peak_rss_mb: float
    calls: int
    by_endpoint: dict[str, int]
    counts: dict[str, int]
    status: str
    client_calls: int | None


@dataclass(frozen=True)
class FetchRun:
    wall_s: float
    fetch_s: float
    peak_rss_mb: float
    calls: int


def _emulator_calls(emu: GitHubEmulator) -> tuple[int, dict[str, int]]:
    with emu._calls_lock:  # the emulator's own lock; call_count() gives totals only
        by_endpoint = Counter(c.endpoint for c in emu.calls)
    return sum(by_endpoint.values()), dict(sorted(by_endpoint.items()))


def run_sync(emu: GitHubEmulator, env: dict[str, str]) -> SyncRun:
    """One ``sync_github --json`` process, its calls counted by the emulator."""
    emu.reset_calls()
    emu.rate_limit = RATE_LIMIT  # a full hourly budget for every run
    done = run_measured(manage("sync_github", "--json"), env=env)
    calls, by_endpoint = _emulator_calls(emu)
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        raise SystemExit(
            f"sync_github exited {done.returncode} without JSON:\n{done.stderr[-3000:]}"
        ) from None
    if done.returncode != 0:
        print(f"  sync_github exited {done.returncode}: {result.get('error')}", file=sys.stderr)
    return SyncRun(
        wall_s=done.wall_s,
        engine_ms=int(result.get("duration_ms", 0)),
        peak_rss_mb=done.peak_rss_mb,
        calls=calls,
        by_endpoint=by_endpoint,
        counts=result.get("counts", {}),
        status=result.get("status", "?"),
        client_calls=result.get("api_calls"),
    )


def run_fetch(emu: GitHubEmulator, mode: str, files: int) -> FetchRun:
    """``fetch_only.py --mode`` in its own process; the naive mode gets a rate limit that lets it finish."""
    emu.reset_calls()
    emu.rate_limit = 1_000_000  # 10,000 calls exceed GitHub's 5,000/hour: the naive way needs 2+ hours
    cmd = [
        str(ROOT / "bench" / "fetch_only.py"),
        f"--mode={mode}",
        f"--base-url={emu.base_url}",
        f"--repo={emu.full_name}",
        f"--token={emu.token}",
        f"--branch={emu.branch}",
    ]
    done = run_measured(cmd, env=dict(os.environ))
    if done.returncode != 0:
        raise SystemExit(f"fetch_only.py --mode={mode} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    if report["files"] != files:
        raise SystemExit(f"fetch_only.py --mode={mode} read {report['files']} files, expected {files}")
    calls, _ = _emulator_calls(emu)
    emu.rate_limit = RATE_LIMIT
    return FetchRun(wall_s=done.wall_s, fetch_s=report["fetch_s"], peak_rss_mb=done.peak_rss_mb, calls=calls)


# --- scenarios --------------------------------------------------------------------------


@dataclass
class Results:
    files: int
    initial: list[SyncRun] = field(default_factory=list)
    baseline: list[FetchRun] = field(default_factory=list)
    archive: list[FetchRun] = field(default_factory=list)
    no_change: list[SyncRun] = field(default_factory=list)
    ten_changes: list[SyncRun] = field(default_factory=list)
    startup: list[Proc] = field(default_factory=list)
    checks: list[Proc] = field(default_factory=list)


def _log(label: str, run: SyncRun | FetchRun) -> None:
    if isinstance(run, SyncRun):
        detail = f"{run.engine_ms} ms engine, {run.peak_rss_mb:.0f} MB, {run.status} {run.counts}"
        print(
            f"  {label}: {run.calls} calls {run.by_endpoint}, {run.wall_s:.2f} s, {detail}", file=sys.stderr
        )
    else:
        print(
            f"  {label}: {run.calls} calls, {run.wall_s:.2f} s ({run.fetch_s:.2f} s fetching)",
            file=sys.stderr,
        )


def measure(emu: GitHubEmulator, db: Database, corpus: dict[str, bytes], repeats: dict[str, int]) -> Results:
    """All scenarios in order; the baseline is interleaved with the initial syncs it is compared to."""
    env = sync_env(emu, db)
    results = Results(files=len(corpus))
    for i in range(repeats["initial"]):
        db.recreate()
        migrate(env)
        results.initial.append(run := run_sync(emu, env))
        _log(f"initial {i + 1}", run)
        results.baseline.append(base := run_fetch(emu, "contents", len(corpus)))
        _log(f"naive baseline {i + 1}", base)
        results.archive.append(fetch := run_fetch(emu, "archive", len(corpus)))
        _log(f"archive fetch {i + 1}", fetch)
    for i in range(repeats["no_change"]):
        results.no_change.append(run := run_sync(emu, env))
        _log(f"no change {i + 1}", run)
    for i in range(repeats["ten_changes"]):
        emu.commit_files(
            edit_files(corpus, count=10, round_=i + 1), message=f"Bench: 10 edits, round {i + 1}"
        )
        results.ten_changes.append(run := run_sync(emu, env))
        _log(f"10 changes {i + 1}", run)
    for _ in range(repeats["no_change"]):
        results.startup.append(run_measured(manage("sync_github", "--help"), env=env))
        results.checks.append(run_measured(manage("check"), env=env))
    return results


# --- targets and report -------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    measured: str


def _med(values: Sequence[float]) -> float:
    return statistics.median(values)


def _spread(values: Sequence[float], fmt: Callable[[float], str]) -> str:
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(_med(values))} ({fmt(min(values))}–{fmt(max(values))})"


def checks(r: Results) -> list[Check]:
    """Issue #3's targets, each over every run (max), plus correctness of what was synced."""
    every = r.initial + r.no_change + r.ten_changes
    no_change_ms = _med([s.engine_ms for s in r.no_change])
    peak = max(s.peak_rss_mb for s in every)
    return [
        Check("initial sync <= 5 API calls", max(s.calls for s in r.initial) <= 5, _calls(r.initial)),
        Check(
            f"initial sync adds all {r.files} files, none failed",
            all(s.counts.get("added") == r.files and not s.counts.get("failed") for s in r.initial),
            ", ".join(f"{s.counts.get('added')} added/{s.counts.get('failed')} failed" for s in r.initial),
        ),
        Check("no-change sync <= 2 API calls", max(s.calls for s in r.no_change) <= 2, _calls(r.no_change)),
        Check(
            "no-change sync under 1 s (engine duration, median)",
            no_change_ms < 1000,
            f"{no_change_ms:.0f} ms",
        ),
        Check(
            "no-change sync changes nothing",
            all(s.counts.get("unchanged") == r.files and s.status == "success" for s in r.no_change),
            ", ".join(f"{s.counts.get('unchanged')} unchanged" for s in r.no_change),
        ),
        Check("10 changes <= 12 API calls", max(s.calls for s in r.ten_changes) <= 12, _calls(r.ten_changes)),
        Check(
            "10 changes update exactly 10 sessions",
            all(s.counts.get("updated") == 10 and s.status == "success" for s in r.ten_changes),
            ", ".join(f"{s.counts.get('updated')} updated" for s in r.ten_changes),
        ),
        Check("peak RSS of every sync process < 300 MB", peak < 300, f"max {peak:.0f} MB"),
        Check(
            "initial sync <= 3x the fetch-only time of the same run (engine / archive fetch, "
            "median of the back-to-back pairs)",
            fetch_ratio(r)[0] <= 3,
            "pairs ×{:.2f} ({}); ratio of medians ×{:.2f}; whole process ×{:.2f}".format(*fetch_ratio(r)),
        ),
    ]


def fetch_ratio(r: Results) -> tuple[float, str, float, float]:
    """Initial sync against fetching the same files (branch, tree, tarball) in the same run.

    Each initial sync is followed at once by an archive fetch, so each pair meets the same
    load; the target is the median of the pairs' engine / fetch ratios (with their range).
    Also given: the ratio of the two medians, and sync process wall / fetch process wall,
    which adds each process's start-up (Django's, about 1 s, against a bare client's)."""
    pairs = sorted(s.engine_ms / 1000 / a.fetch_s for s, a in zip(r.initial, r.archive, strict=True))
    spread = f"{pairs[0]:.2f}–{pairs[-1]:.2f}" if len(pairs) > 1 else "1 pair"
    medians = _med([s.engine_ms / 1000 for s in r.initial]) / _med([a.fetch_s for a in r.archive])
    wall = _med([s.wall_s for s in r.initial]) / _med([a.wall_s for a in r.archive])
    return _med(pairs), spread, medians, wall


def _calls(runs: Sequence[SyncRun]) -> str:
    return f"{[s.calls for s in runs]} ({', '.join(f'{k} {v}' for k, v in runs[0].by_endpoint.items())})"


def table(r: Results) -> list[list[str]]:
    """Rows: scenario | API calls | target | process wall | engine duration | peak RSS | baseline ratio."""
    base_calls = _med([b.calls for b in r.baseline])
    base_wall = _med([b.wall_s for b in r.baseline])
    base_fetch = _med([b.fetch_s for b in r.baseline])
    init_calls = _med([s.calls for s in r.initial])
    init_wall = _med([s.wall_s for s in r.initial])
    arch_calls = _med([a.calls for a in r.archive])
    arch_fetch = _med([a.fetch_s for a in r.archive])
    return [
        _sync_row(
            "Initial sync (empty DB)",
            r.initial,
            "≤ 5 calls",
            f"calls ×{base_calls / init_calls:,.0f}; wall ×{base_wall / init_wall:.2f}",
        ),
        _sync_row("No-change sync", r.no_change, "≤ 2 calls, < 1 s", "—"),
        _sync_row("10 files changed", r.ten_changes, "≤ 12 calls", "—"),
        _fetch_row("Naive baseline: Contents API per file (fetch only)", r.baseline, "1×"),
        _fetch_row(
            "Our read path: branch + tree + tarball (fetch only)",
            r.archive,
            f"calls ×{base_calls / arch_calls:,.0f}; fetch ×{base_fetch / arch_fetch:,.0f}; "
            "initial sync ×{:.2f} of it (engine, paired median)".format(fetch_ratio(r)[0]),
        ),
        _startup_row("Start-up only (`sync_github --help`: Python, settings, apps)", r.startup),
        _startup_row("Start-up + system checks (`manage.py check`)", r.checks),
    ]


def _startup_row(name: str, runs: Sequence[Proc]) -> list[str]:
    wall = _spread([p.wall_s for p in runs], _secs)
    return [name, "0", "—", wall, "—", f"{max(p.peak_rss_mb for p in runs):.0f} MB", "—"]


def _fetch_row(name: str, runs: Sequence[FetchRun], ratio: str) -> list[str]:
    return [
        name,
        _spread([b.calls for b in runs], lambda v: f"{v:,.0f}"),
        "—",
        _spread([b.wall_s for b in runs], _secs),
        f"{_spread([b.fetch_s for b in runs], _secs)} fetching",
        f"{max(b.peak_rss_mb for b in runs):.0f} MB",
        ratio,
    ]


def _secs(value: float) -> str:
    return f"{value:.2f} s"


def _sync_row(name: str, runs: Sequence[SyncRun], target: str, ratio: str) -> list[str]:
    return [
        name,
        _spread([s.calls for s in runs], lambda v: f"{v:g}"),
        target,
        _spread([s.wall_s for s in runs], _secs),
        _spread([s.engine_ms for s in runs], lambda v: f"{v:.0f} ms"),
        f"{max(s.peak_rss_mb for s in runs):.0f} MB",
        ratio,
    ]


HEADER = [
    "Scenario",
    "API calls",
    "Target",
    "Wall (process)",
    "Engine duration",
    "Peak RSS",
    "Baseline ratio",
]


def render(rows: list[list[str]], *, markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
    widths = [max(len(row[i]) for row in [HEADER, *rows]) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in [HEADER, *rows]
    )


# --- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark sync_github at 10,000 files against the emulator."
    )
    parser.add_argument("--files", type=int, default=10_000, help="Files in the repository (default 10000).")
    parser.add_argument(
        "--database-url",
        help="Database for the syncs (dropped and recreated; a PostgreSQL name must contain 'bench'). "
        "Default: a temporary SQLite file.",
    )
    parser.add_argument(
        "--repeats", type=int, help="Runs per scenario (default: initial 3, no-change 5, 10 changes 5)."
    )
    parser.add_argument("--quick", action="store_true", help="Smoke run: 1,000 files, 1 repeat.")
    parser.add_argument("--markdown", action="store_true", help="Print the table in markdown.")
    parser.add_argument("--seed", type=int, default=SEED, help="Seed of the generated repository.")
    return parser.parse_args(argv)


@contextmanager
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="annoris-bench-") as tmp:
        yield Path(tmp)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    files = 1_000 if args.quick and args.files == 10_000 else args.files
    default = 1 if args.quick else None
    n = args.repeats or default
    repeats = {"initial": n or 3, "no_change": n or 5, "ten_changes": n or 5}
    with workspace() as tmp:
        db = Database(args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}")
        started, load = time.perf_counter(), os.getloadavg()
        corpus = make_corpus(files, args.seed)
        size = sum(len(v) for v in corpus.values())
        with GitHubEmulator(tmp / "repo") as emu:
            emu.commit_files(corpus, message=f"Bench: {files} sessions")
            print(
                f"repository: {files} files, {size / MB:.1f} MB, {corpus_gen.PROJECTS} folders "
                f"(built in {time.perf_counter() - started:.1f} s); database: {db.url}",
                file=sys.stderr,
            )
            results = measure(emu, db, corpus, repeats)
    print(render(table(results), markdown=args.markdown))
    end_load = os.getloadavg()[0]
    print(f"\nLoad average (1 min): {load[0]:.2f} at start, {end_load:.2f} at end; nproc {os.cpu_count()}.")
    print()
    failed = 0
    for check in checks(results):
        failed += not check.ok
        print(f"{'PASS' if check.ok else 'FAIL'}  {check.name}: {check.measured}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
