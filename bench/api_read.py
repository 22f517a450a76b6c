"""Benchmark: GET /api/sessions/{id}/ from the cache under gunicorn vs a bare DRF view (issue #7).

Setup: PostgreSQL (a database whose name contains ``bench``, dropped and recreated) and a
Redis db (flushed); 50 generated sessions of ~10 KB synced from a local folder; a write
token. gunicorn runs ``annoris.wsgi`` with 2 sync workers, DEBUG off, the real settings
(middleware, token auth, scope permission, throttle) plus one extra URL: a bare DRF view
returning the same JSON from memory with no authentication (``bench/api_read_urls.py``),
routed inside the ``api/`` include just before the session route, as the real one is.

Each round runs ``wrk -t2 -c16 -d10s --latency`` on the real endpoint and on the bare one,
alternating which goes first. Reported: per-round requests/s and p99, the medians, and the
ratio of the medians. Targets: real >= 70 % of bare, real p99 < 25 ms. Also reported, to
explain the ratio: gunicorn's CPU time per request (master and workers, from /proc), which
varies less between runs than requests/s on a shared machine, and the CPU time a request
costs the bench's own redis-server and wrk.

    .venv/bin/python bench/api_read.py --markdown            # published run (5 rounds)
    .venv/bin/python bench/api_read.py --quick               # smoke run (1 round of 3 s)

The throttle stays on, at a rate the run cannot reach (ANNORIS_API_THROTTLE_RATE), so its
cost is measured without it answering 429.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from corpus import make_corpus  # noqa: E402
from readpath import conninfo, flush_redis, recreate_database  # noqa: E402

VENV_BIN = Path(sys.executable).parent
TARGET_RATIO, TARGET_P99_MS = 0.70, 25.0


@dataclass
class Run:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float = 0.0  # gunicorn's CPU time (master, workers, recycled workers) per request
    redis_us: float = 0.0  # the bench's own redis-server's CPU time per request (0 with --redis-url)
    wrk_us: float = 0.0  # wrk's own CPU time per request
    steal: float = 0.0  # share of the machine's CPU time its host took away during the run


_TICK = os.sysconf("SC_CLK_TCK")


def gunicorn_cpu_seconds(master: int) -> float:
    """CPU time of gunicorn so far: the master with its reaped workers, plus the live workers."""

    def fields(pid: int) -> list[str]:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rpartition(")")[2].split()

    own = fields(master)  # after the name: state is [0], utime [11], stime [12], cutime [13], cstime [14]
    total = sum(int(v) for v in own[11:15])
    with open(f"/proc/{master}/task/{master}/children") as file:
        for child in file.read().split():
            try:
                total += sum(int(v) for v in fields(int(child))[11:13])
            except (FileNotFoundError, ProcessLookupError):
                pass  # a worker that just exited: counted in cutime from now on
    return total / _TICK


def process_cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) of one process so far; 0 for None."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def steal_and_total_seconds() -> tuple[float, float]:
    """(steal, all) CPU seconds of the machine so far, from /proc/stat (steal: a VM's host took them)."""
    with open("/proc/stat") as file:
        ticks = [int(v) for v in file.readline().split()[1:9]]
    return ticks[7] / _TICK, sum(ticks) / _TICK


def children_cpu_seconds() -> float:
    """CPU time of this process's reaped children (each wrk run, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    recreate_database(args.database_url)
    redis_server = None
    if args.redis_url is None:  # a redis-server of the bench's own: no other job's commands queue with ours
        redis_server = subprocess.Popen(  # noqa: S603
            [
                "redis-server",
                "--port",
                str(args.port + 1),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
        )
        args.redis_url = f"redis://127.0.0.1:{args.port + 1}/0"
        args.redis_pid = redis_server.pid
        time.sleep(0.5)
    flush_redis(args.redis_url)
    try:
        return run(args)
    finally:
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait(timeout=10)


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="annoris-api-bench-") as tmp:
        env = environment(args, Path(tmp))
        token = prepare(env, Path(tmp))
        with gunicorn(env, args.port) as server:
            real_url, bare_url = urls(args.port, token, env)
            for url in (real_url, bare_url):  # warm both workers: token seen, row cached, code loaded
                wrk(url, token, seconds=2)
            check_served_from_cache(real_url, token)
            check_same_answer(real_url, bare_url, token)
            before = backend_counts(args)
            rounds = measure(args, real_url, bare_url, token, server.proc.pid)
            after = backend_counts(args)
            check_served_from_cache(real_url, token)
    requests = sum(r.requests for r, _ in rounds) + sum(b.requests for _, b in rounds)
    real_requests = sum(r.requests for r, _ in rounds)
    print(
        f"per real request: {(after[0] - before[0]) / real_requests:.3f} Redis commands, "
        f"{(after[1] - before[1]) / requests:.4f} database transactions (all {requests} requests)",
        file=sys.stderr,
    )
    return report(rounds, args)


def backend_counts(args: argparse.Namespace) -> tuple[int, int]:
    """(Redis commands processed, PostgreSQL transactions committed in the bench database) so far."""
    import psycopg
    import redis

    client = redis.Redis.from_url(args.redis_url)
    stats = client.info("commandstats")
    client.close()
    commands = sum(
        v["calls"] for k, v in stats.items() if k.startswith(("cmdstat_get", "cmdstat_set", "cmdstat_mget"))
    )
    info = conninfo(args.database_url)
    with psycopg.connect(**info, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", [info["dbname"]]
        ).fetchone()
    return commands, int(row[0]) if row else 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/annoris_bench_api")
    parser.add_argument(
        "--redis-url",
        default=None,
        help="Default: a redis-server of its own on --port + 1 (flushed either way).",
    )
    parser.add_argument(
        "--redis-nice",
        type=int,
        default=0,
        help="Run the bench's redis-server at this nice value (e.g. -10: as if Redis had a CPU of its own).",
    )
    parser.add_argument("--port", type=int, default=18450, help="gunicorn's port (default 18450).")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10, help="Seconds per wrk run (default 10).")
    parser.add_argument("--quick", action="store_true", help="One round of 3 s (smoke run).")
    parser.add_argument("--markdown", action="store_true", help="Print the table as markdown.")
    args = parser.parse_args()
    args.redis_pid = None  # set once the bench starts a redis-server of its own
    if args.quick:
        args.rounds, args.duration = 1, 3
    return args


def environment(args: argparse.Namespace, tmp: Path) -> dict[str, str]:
    """What a production deployment sets (DEBUG off, real keys), pointed at the bench services."""
    from annoris import crypto

    corpus = tmp / "sessions"
    for path, data in make_corpus(50, seed=7, size=10_240).items():
        (corpus / path).parent.mkdir(parents=True, exist_ok=True)
        (corpus / path).write_bytes(data)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "api_read_settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "bench")]),
        "DEBUG": "0",
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "ANNORIS_ENCRYPTION_KEYS": crypto.generate_key("bench"),
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "SESSIONS_SOURCE": str(corpus),
        "ALLOWED_HOSTS": "127.0.0.1",
        "ANNORIS_API_THROTTLE_RATE": "100000000/min",
        "LOG_LEVEL": "WARNING",
        # Plain HTTP on loopback stands for the TLS-terminating proxy in front of gunicorn:
        # no redirect to https (every other production setting, CSP and HSTS included, stays on).
        "SECURE_SSL_REDIRECT": "0",
        "BENCH_BARE_JSON": str(tmp / "bare.json"),
    }


def prepare(env: dict[str, str], tmp: Path) -> str:
    manage = [str(VENV_BIN / "python"), str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)  # noqa: S603
    subprocess.run([*manage, "sync_github"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)  # noqa: S603
    created = subprocess.run(  # noqa: S603
        [*manage, "api_token", "create", "bench", "--scope", "write"],
        env=env, check=True, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    return created.stdout.strip().splitlines()[-1]


class gunicorn:  # noqa: N801 - used as a context manager
    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env, self.port = env, port

    def __enter__(self) -> gunicorn:
        command = [str(VENV_BIN / "gunicorn"), "annoris.wsgi", "-w", "2", "-k", "sync"]
        command += ["-b", f"127.0.0.1:{self.port}", "--log-level", "warning"]
        self.proc = subprocess.Popen(command, env=self.env, cwd=ROOT)  # noqa: S603
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1)  # noqa: S310
                return self
            except OSError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not start")

    def __exit__(self, *exc: object) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def _get(url: str, token: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return response.status, dict(response.headers), response.read()


def urls(port: int, token: str, env: dict[str, str]) -> tuple[str, str]:
    """The real URL of the session closest to 10 KB, and the bare view serving its exact JSON."""
    base = f"http://127.0.0.1:{port}"
    _, _, body = _get(f"{base}/api/sessions/?page_size=200", token)
    rows = json.loads(body)["results"]
    chosen = min(rows, key=lambda row: abs(row["size"] - 10_240))
    real = f"{base}/api/sessions/{chosen['id']}/"
    _, _, body = _get(real, token)
    Path(env["BENCH_BARE_JSON"]).write_bytes(body)
    print(f"session {chosen['id']}: document {chosen['size']} B, JSON {len(body)} B", file=sys.stderr)
    return real, f"{base}/api/bench-bare/"


def check_served_from_cache(url: str, token: str) -> None:
    status, headers, _ = _get(url, token)
    if status != 200 or headers.get("X-Annoris-Source") != "cache":
        raise SystemExit(f"the real endpoint answered {status} from {headers.get('X-Annoris-Source')}")


def check_same_answer(real: str, bare: str, token: str) -> None:
    """Both endpoints answer 200 with the same JSON document, before anything is timed."""
    (real_status, real_headers, real_body), (bare_status, bare_headers, bare_body) = (
        _get(real, token),
        _get(bare, token),
    )
    if (real_status, bare_status) != (200, 200):
        raise SystemExit(f"real answered {real_status}, bare {bare_status}: nothing to time")
    if json.loads(real_body) != json.loads(bare_body) or "content" not in json.loads(real_body):
        raise SystemExit("the bare view does not serve the real endpoint's session document")
    types = real_headers.get("Content-Type"), bare_headers.get("Content-Type")
    if types[0] != types[1]:
        raise SystemExit(f"content types differ: {types}")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, token: str, *, seconds: int) -> Run:
    command = [
        "wrk",
        "-t2",
        "-c16",
        f"-d{seconds}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
        url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]

    def percentile(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * _UNITS[unit]

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    errors = int(bad.group(1)) if bad else 0
    if errors or socket_errors:
        print(f"wrk reported errors on {url}:\n{out}", file=sys.stderr)
    return Run(requests, rps, percentile("50"), percentile("99"), errors)


def measure(args: argparse.Namespace, real: str, bare: str, token: str, master: int) -> list[tuple[Run, Run]]:
    rounds = []
    for number in range(args.rounds):
        order = [("real", real), ("bare", bare)] if number % 2 == 0 else [("bare", bare), ("real", real)]
        runs = {}
        for name, url in order:
            cpu, redis = gunicorn_cpu_seconds(master), process_cpu_seconds(args.redis_pid)
            own, (steal, ticks) = children_cpu_seconds(), steal_and_total_seconds()
            run = runs[name] = wrk(url, token, seconds=args.duration)
            steal_after, ticks_after = steal_and_total_seconds()
            run.steal = (steal_after - steal) / max(ticks_after - ticks, 1e-9)
            run.cpu_us = (gunicorn_cpu_seconds(master) - cpu) / run.requests * 1e6
            run.redis_us = (process_cpu_seconds(args.redis_pid) - redis) / run.requests * 1e6
            run.wrk_us = (children_cpu_seconds() - own) / run.requests * 1e6
        rounds.append((runs["real"], runs["bare"]))
        r, b = runs["real"], runs["bare"]
        print(
            f"round {number + 1}: real {r.rps:.0f} req/s p99 {r.p99_ms:.2f} ms CPU {r.cpu_us:.0f} us "
            f"gunicorn, {r.redis_us:.0f} Redis, {r.wrk_us:.0f} wrk | bare {b.rps:.0f} req/s p99 "
            f"{b.p99_ms:.2f} ms CPU {b.cpu_us:.0f} us gunicorn, {b.redis_us:.0f} Redis, {b.wrk_us:.0f} wrk "
            f"| ratio {r.rps / b.rps:.2f} | steal {r.steal:.1%} / {b.steal:.1%}",
            file=sys.stderr,
        )
    return rounds


def report(rounds: list[tuple[Run, Run]], args: argparse.Namespace) -> int:
    real_rps = statistics.median(r.rps for r, _ in rounds)
    bare_rps = statistics.median(b.rps for _, b in rounds)
    real_p99 = statistics.median(r.p99_ms for r, _ in rounds)
    bare_p99 = statistics.median(b.p99_ms for _, b in rounds)
    real_p50 = statistics.median(r.p50_ms for r, _ in rounds)
    bare_p50 = statistics.median(b.p50_ms for _, b in rounds)
    real_cpu = statistics.median(r.cpu_us for r, _ in rounds)
    bare_cpu = statistics.median(b.cpu_us for _, b in rounds)
    redis_cpu = [statistics.median(run.redis_us for run in side) for side in zip(*rounds, strict=True)]
    wrk_cpu = [statistics.median(run.wrk_us for run in side) for side in zip(*rounds, strict=True)]
    ratio = real_rps / bare_rps
    errors = sum(r.errors + b.errors for r, b in rounds)
    ok_ratio, ok_p99 = ratio >= TARGET_RATIO, real_p99 < TARGET_P99_MS
    verdict_ratio, verdict_p99 = ("PASS" if ok else "FAIL" for ok in (ok_ratio, ok_p99))
    lines = [
        "| Endpoint | Requests/s (median) | p50 (ms) | p99 (ms) | gunicorn CPU per request (µs) |",
        "|---|---|---|---|---|",
        f"| `GET /api/sessions/{{id}}/` (cache, token) | {real_rps:.0f} | {real_p50:.2f} | {real_p99:.2f} "
        f"| {real_cpu:.0f} |",
        f"| bare DRF view, same JSON, no auth | {bare_rps:.0f} | {bare_p50:.2f} | {bare_p99:.2f} "
        f"| {bare_cpu:.0f} |",
        "",
        f"- ratio of medians: **{ratio:.2f}** (target >= {TARGET_RATIO:.2f}): {verdict_ratio}",
        f"- real p99: **{real_p99:.2f} ms** (target < {TARGET_P99_MS:.0f} ms): {verdict_p99}",
        f"- rounds: {len(rounds)} x {args.duration} s each way, alternating; per-round ratios "
        + ", ".join(f"{r.rps / b.rps:.2f}" for r, b in rounds),
        f"- non-2xx responses: {errors}",
        f"- CPU per request of the other processes on the machine, real / bare: the bench's redis-server "
        f"{redis_cpu[0]:.0f} / {redis_cpu[1]:.0f} µs, wrk {wrk_cpu[0]:.0f} / {wrk_cpu[1]:.0f} µs",
        "- CPU time the machine's host took (steal) per round, real / bare: "
        + ", ".join(f"{r.steal:.1%} / {b.steal:.1%}" for r, b in rounds),
    ]
    print("\n".join(lines))
    return 0 if ok_ratio and ok_p99 and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
