"""Search quality on real documents (issue #17): precision@10 and recall@10 against plaintext truth.

The corpus is a package's documentation from its sdist on PyPI (Django's docs/*.txt by
default), each file synced as a session through the real sync. Ground truth is computed over
the plaintext files with a regular expression per query that says what a person typing the
query wants (the identifier as written; the phrase; any inflection of the word), never with
our tokenizer. For each query:

- precision@10 = relevant hits in the top 10 / hits returned in the top 10 (1.0 when none are
  returned and none are relevant; 0.0 when none are returned but some are relevant);
- recall@10 = relevant hits in the top 10 / min(10, relevant documents).

Keyword search and hybrid search are both measured. Run from the project root::

    .venv/bin/pip download --no-binary :all: --no-deps django==5.2.19 -d /tmp/django-sdist
    .venv/bin/python bench/realdocs.py --sdist /tmp/django-sdist/django-5.2.19.tar.gz --limit 300 \\
        --database-url postgres://postgres@127.0.0.1:5432/annoris_search_bench
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import assistant_db  # noqa: E402 - bench/ is on sys.path as the script's folder

_I = re.IGNORECASE
# (query, what a relevant document holds, as a regex over its plaintext)
QUERIES: list[tuple[str, re.Pattern[str]]] = [
    ("DEFAULT_AUTO_FIELD", re.compile(r"\bDEFAULT_AUTO_FIELD\b")),
    ("get_object_or_404", re.compile(r"\bget_object_or_404\b")),
    ("select_related", re.compile(r"\bselect_related\b")),
    ("prefetch_related", re.compile(r"\bprefetch_related\b")),
    ("bulk_create", re.compile(r"\bbulk_create\b")),
    ("on_delete", re.compile(r"\bon_delete\b")),
    ("ALLOWED_HOSTS", re.compile(r"\bALLOWED_HOSTS\b")),
    ("csrf_token", re.compile(r"\bcsrf_token\b")),
    ("ModelForm", re.compile(r"\bModelForm\b")),
    ("QuerySet", re.compile(r"\bQuerySet\b", _I)),
    ("read-only", re.compile(r"\bread-only\b", _I)),
    ("many-to-many", re.compile(r"\bmany-to-many\b", _I)),
    ('"time zone"', re.compile(r"\btime zone\b", _I)),
    ('"class-based views"', re.compile(r"\bclass-based views\b", _I)),
    ('"database backend"', re.compile(r"\bdatabase backend\b", _I)),
    ("migrations", re.compile(r"\bmigrat(?:e|es|ed|ing|ion|ions)\b", _I)),
    ("caching", re.compile(r"\bcach(?:e|es|ed|ing)\b", _I)),
    ("signals", re.compile(r"\bsignal(?:s|ed|ing|led|ling)?\b", _I)),
    ("deprecated", re.compile(r"\bdeprecat(?:e|es|ed|ing|ion|ions)\b", _I)),
    ("paginator", re.compile(r"\bpaginators?\b", _I)),
    ("serializ*", re.compile(r"\bserializ", _I)),
    ("redirect OR reverse", re.compile(r"\b(?:redirect|reverse)(?:s|ed|ing)?\b", _I)),
    ("postgresql -mysql", None),  # built below: PostgreSQL and not MySQL
    ("сервер", re.compile(r"\bсервер\w*", _I)),
]


def _relevant(pattern: re.Pattern[str] | None, query: str, text: str) -> bool:
    if pattern is None and query == "postgresql -mysql":
        return bool(re.search(r"\bpostgresql\b", text, _I)) and not re.search(r"\bmysql\b", text, _I)
    return bool(pattern.search(text))


def load(sdist: Path, limit: int) -> dict[str, str]:
    """docs/**/*.txt of the sdist (the first ``limit`` by path): {name: text}."""
    docs: dict[str, str] = {}
    with tarfile.open(sdist) as archive:
        members = sorted(
            (
                m
                for m in archive.getmembers()
                if m.isfile() and "/docs/" in m.name and m.name.endswith(".txt")
            ),
            key=lambda m: m.name,
        )
        for member in members[:limit]:
            text = archive.extractfile(member).read().decode("utf-8", "replace")
            docs[member.name.split("/docs/", 1)[1]] = text
    return docs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, required=True, help="The sdist (.tar.gz) holding docs/*.txt.")
    parser.add_argument("--limit", type=int, default=300, help="Documents to take (default 300).")
    parser.add_argument(
        "--database-url", required=True, help="PostgreSQL URL; the name must contain 'bench'."
    )
    args = parser.parse_args(argv)
    docs = load(args.sdist, args.limit)
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    assistant_db.prepare(args.database_url, 0, reuse=False)

    from annoris.sources.local import LocalSource
    from sessions_app.models import Session
    from sessions_app.search import index_pending, run_search, search_session_ids
    from sync_app.engine import run_sync

    with tempfile.TemporaryDirectory() as folder:
        for name, text in docs.items():
            target = Path(folder) / "docs" / (name.replace("/", "--")[:-4] + ".md")
            target.parent.mkdir(parents=True, exist_ok=True)
            title = next((line for line in text.splitlines() if line.strip(" =-*#")), name)
            target.write_text(f"# {title.strip()}\n\n{text}", encoding="utf-8")
        run_sync(source=LocalSource(folder, repository="realdocs/django"), trigger="manual")
    started = time.perf_counter()
    index_pending()
    print(
        f"{len(docs)} documents indexed and embedded in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    by_id = {}
    for row in Session.objects.all():
        by_id[row.id] = row.github_path.split("/", 1)[1].replace("--", "/")[:-3] + ".txt"

    print(
        "| query | relevant | keyword P@10 | keyword R@10 | hybrid P@10 | hybrid R@10 |\n"
        "|---|---:|---:|---:|---:|---:|"
    )
    scores: dict[str, list[float]] = {"kp": [], "kr": [], "hp": [], "hr": []}
    for query, pattern in QUERIES:
        relevant = {name for name, text in docs.items() if _relevant(pattern, query, text)}
        keyword = [by_id[i] for i in search_session_ids(query, limit=10)[0]]
        hybrid = [by_id[h.session_id] for h in run_search(query, limit=10, hybrid=True).hits]
        row = [query, str(len(relevant))]
        for prefix, found in (("k", keyword), ("h", hybrid)):
            hits = sum(1 for name in found if name in relevant)
            precision = hits / len(found) if found else (0.0 if relevant else 1.0)
            recall = hits / min(10, len(relevant)) if relevant else 1.0
            scores[prefix + "p"].append(precision)
            scores[prefix + "r"].append(recall)
            row += [f"{precision:.2f}", f"{recall:.2f}"]
        print("| " + " | ".join(row) + " |")
    means = {k: statistics.mean(v) for k, v in scores.items()}
    print(
        f"| **mean of {len(QUERIES)}** | | **{means['kp']:.2f}** | **{means['kr']:.2f}** | "
        f"**{means['hp']:.2f}** | **{means['hr']:.2f}** |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
