"""get_context and recent_activity as MCP tool calls at 10,000 sessions on PostgreSQL (issue #15).

Each call goes through the MCP server's own ``call_tool`` (argument validation, the tool, the
budget checks, the output schema's validation), in process, so what is timed is the tool
call and not the transport. Every answer is asserted before it is counted: not an error, its
structuredContent present and the text block within the tool's budget. Target: p99 under
50 ms. Prints PASS/FAIL; exit 1 on FAIL.

Run from the project root::

    .venv/bin/python bench/mcp_tools.py --database-url postgres://postgres@127.0.0.1:5432/annoris_h15_bench
    .venv/bin/python bench/mcp_tools.py --sessions 300 --iterations 20 --database-url ...   # smoke run
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import assistant_db  # noqa: E402 - bench/ is on sys.path as the script's folder

BUDGETS = (500, 2_500, 8_000)


def main(argv: list[str] | None = None) -> int:
    parser = assistant_db.parser(__doc__.splitlines()[0], iterations=300, what="calls per kind")
    parser.add_argument("--markdown", action="store_true", help="Print the table as markdown.")
    args = parser.parse_args(argv)
    assistant_db.prepare(args.database_url, args.sessions, reuse=args.reuse)

    import anyio

    from annoris.mcp import budget
    from annoris.mcp.server import get_server
    from projects_app.models import Project
    from sessions_app.models import Session

    server = get_server()
    names = list(Project.objects.values_list("name", flat=True))
    rng = random.Random(15)

    def call(tool: str, arguments: dict[str, Any], limit: int) -> float:
        started = time.perf_counter()
        result = anyio.run(server.call_tool, tool, arguments)
        elapsed = (time.perf_counter() - started) * 1000
        text = result.content[0].text
        assert not result.is_error, f"{tool} {arguments}: {text}"
        assert result.structured_content and len(result.content) == 1, (tool, arguments)
        assert budget.tokens(text) <= limit, (tool, arguments, budget.tokens(text))
        return elapsed

    kinds = {
        "get_context, a project": lambda: call(
            "get_context", {"project": rng.choice(names), "budget_tokens": (b := rng.choice(BUDGETS))}, b
        ),
        "get_context, no project": lambda: call("get_context", {"budget_tokens": 2_500}, 2_500),
        "recent_activity, a project": lambda: call("recent_activity", {"project": rng.choice(names)}, 2_000),
        "recent_activity, all projects": lambda: call("recent_activity", {}, 2_000),
    }
    for run in kinds.values():  # warm-up: connections, plans, caches
        for _ in range(5):
            run()
    timings: dict[str, list[float]] = {label: [] for label in kinds}
    for _ in range(args.iterations):
        for label, run in kinds.items():  # interleaved, so machine drift hits every kind alike
            timings[label].append(run())

    lines = ["| Tool call | n | median ms | p99 ms | max ms |", "|---|---:|---:|---:|---:|"]
    for label, values in timings.items():
        s = assistant_db.summary(values)
        lines.append(f"| {label} | {s['n']} | {s['median']:.1f} | {s['p99']:.1f} | {s['max']:.1f} |")
    print("\n".join(lines) if args.markdown else "\n".join(line.replace("|", " ") for line in lines))
    worst = max(assistant_db.summary(values)["p99"] for values in timings.values())
    ok = worst < 50
    print(f"{'PASS' if ok else 'FAIL'} p99 under 50 ms (worst: {worst:.1f} ms)")
    print(f"sessions: {Session.objects.count()}, machine: {assistant_db.machine()}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
