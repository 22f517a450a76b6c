"""Context at 10,000 sessions on PostgreSQL (issue #8): latency of build_context and GET /api/context/.

For random projects and budgets (500, 2,500, 10,000 and 50,000 tokens, plus the no-project
context), each call is timed; alternating with it, in the same run, the floor: the same
query of the 30 newest sessions of the project and their decryption, which any context
must do. Target: p99 under 50 ms (issue #8). Every (project, budget) pair is first asked
once over REST and checked (200, markdown, within budget) before anything is timed, and
every timed response is checked too. The app runs with DEBUG=0 and without the HTTPS
redirect (the test client speaks plain HTTP; a 301 is not a context). Prints PASS/FAIL;
exit 1 on FAIL.

Run from the project root::

    .venv/bin/python bench/context.py --database-url postgres://postgres@127.0.0.1:5432/annoris_h8_bench
    .venv/bin/python bench/context.py --reuse --markdown ...   # keep the filled database
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import assistant_db  # noqa: E402 - bench/ is on sys.path as the script's folder

BUDGETS = (500, 2_500, 10_000, 50_000)


def main(argv: list[str] | None = None) -> int:
    parser = assistant_db.parser(__doc__.splitlines()[0], iterations=400, what="calls per kind")
    parser.add_argument("--markdown", action="store_true", help="Print the table as markdown.")
    args = parser.parse_args(argv)
    os.environ["SECURE_SSL_REDIRECT"] = "0"  # DEBUG=0 redirects plain HTTP to HTTPS (a 301)
    assistant_db.prepare(args.database_url, args.sessions, reuse=args.reuse)

    from rest_framework.test import APIClient

    from projects_app.models import Project
    from sessions_app.context import build_context
    from sessions_app.models import Session

    names = list(Project.objects.values_list("name", flat=True))
    projects = {p.name: p for p in Project.objects.all()}
    client = APIClient()
    from annoris.api import tokens

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name='bench')[1]}")
    rng = random.Random(4)

    def floor(name: str) -> None:
        rows = Session.objects.live().filter(project=projects[name]).order_by("-created_at")[:30]
        for row in rows:
            _ = row.text

    def check(response, budget: int) -> None:  # noqa: ANN001 - a DRF test response
        assert response.status_code == 200, (response.status_code, response.content[:200])
        assert response.content.startswith(b"# Context"), response.content[:200]
        assert int(response["X-Context-Tokens"]) <= budget, response["X-Context-Tokens"]

    for name in names:  # every answer is a context before anything is timed
        for budget in BUDGETS:
            check(client.get("/api/context/", {"project": name, "budget_tokens": budget}), budget)
    check(client.get("/api/context/", {"budget_tokens": 2_500}), 2_500)

    timings: dict[str, list[float]] = {key: [] for key in ("floor", "service", "api", "recent")}
    per_budget: dict[int, list[float]] = {b: [] for b in BUDGETS}
    over = 0
    for _ in range(20):  # warm-up: connections, prepared plans, caches
        build_context(rng.choice(names), 2_500)
    for _ in range(args.iterations):
        name, budget = rng.choice(names), rng.choice(BUDGETS)
        started = time.perf_counter()
        floor(name)
        timings["floor"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        result = build_context(name, budget)
        elapsed = (time.perf_counter() - started) * 1000
        timings["service"].append(elapsed)
        per_budget[budget].append(elapsed)
        over += result.tokens > budget
        started = time.perf_counter()
        response = client.get("/api/context/", {"project": name, "budget_tokens": budget})
        timings["api"].append((time.perf_counter() - started) * 1000)
        check(response, budget)
        started = time.perf_counter()
        build_context(None, budget)
        timings["recent"].append((time.perf_counter() - started) * 1000)

    rows = [("floor: 30 newest rows + decrypt", timings["floor"])]
    rows += [(f"build_context, budget {b:,}", per_budget[b]) for b in BUDGETS]
    rows += [
        ("build_context, all budgets", timings["service"]),
        ("GET /api/context/ (DRF, all budgets)", timings["api"]),
        ("build_context without project", timings["recent"]),
    ]
    floor_median = assistant_db.summary(timings["floor"])["median"]
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
    worst = max(assistant_db.summary(timings[k])["p99"] for k in ("service", "api", "recent"))
    checks = [
        (f"p99 under 50 ms (worst of service, API, no project: {worst:.1f} ms)", worst < 50),
        (f"no context over its budget ({over} over)", over == 0),
    ]
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'} {label}")
    print(f"sessions: {Session.objects.count()}, machine: {assistant_db.machine()}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
