"""Cutting a 1 MB session into a context (issue #20, finding 1): time per budget, target 200 ms.

The session is ``'w ' * 490000`` (980 KB, a legal size), the input that held a gunicorn
worker for 30 s when the word-level cut was quadratic. For each budget (2,500, 20,000 and
50,000 tokens) the context is first checked (not empty, the session cut, within budget
by cl100k_base, o200k_base and Claude's tokenizer), then timed. Prints PASS/FAIL; exit 1 on FAIL.

    .venv/bin/python bench/context_cut.py              # 5 runs per budget
    .venv/bin/python bench/context_cut.py --runs 20 --markdown
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annoris.settings")

BUDGETS = (2_500, 20_000, 50_000)
TARGET_MS = 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="Timed runs per budget (default 5).")
    parser.add_argument("--markdown", action="store_true", help="Print the table as markdown.")
    args = parser.parse_args(argv)

    import django

    django.setup()
    from sessions_app.context.compose import ContextSession, compose_context
    from sessions_app.context.encoders import encoders
    from sessions_app.context.tokens import forget_counts
    from sessions_app.tests.real_tokenizer import real_counts

    encoders()  # loading the tokenizers (about 1 s, once per process) is not the cut
    session = ContextSession(
        id="big",
        title="A 980 KB session",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        state="unknown",
        next="",
        url="https://annoris.example/api/sessions/big/",
        text="w " * 490_000,
    )

    def cut(budget: int):  # noqa: ANN202 - ContextResult
        return compose_context(header="# Context: big", steps=[], sessions=[session], budget_tokens=budget)

    lines = [
        "| budget (tokens) | runs | median ms | max ms | real tokens (largest) | reported |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    worst = 0.0
    for budget in BUDGETS:
        result = cut(budget)
        counts = real_counts(result.markdown)
        assert result.cut == ["big"] and "w w w" in result.markdown, (
            "the session was not cut into the context"
        )
        assert max(counts.values()) <= result.tokens <= budget, (budget, counts, result.tokens)
        times = []
        for _ in range(args.runs):
            forget_counts()  # a cold cut: no count kept from the check or the run before
            started = time.perf_counter()
            cut(budget)
            times.append((time.perf_counter() - started) * 1000)
        worst = max(worst, max(times))
        lines.append(
            f"| {budget:,} | {args.runs} | {statistics.median(times):.1f} | {max(times):.1f} | "
            f"{max(counts.values()):,} | {result.tokens:,} |"
        )
    print("\n".join(lines) if args.markdown else "\n".join(line.replace("|", " ") for line in lines))
    ok = worst < TARGET_MS
    print(f"{'PASS' if ok else 'FAIL'} every cut under {TARGET_MS} ms (slowest {worst:.1f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
