"""Generated session repositories for the benchmarks: realistic, deterministic, any size.

Documents look like the samples: English with some Russian, emoji, bullet lists, fenced
code and tables, about 20 % non-ASCII bytes. The same seed gives the same bytes.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

PROJECTS = 20

_WORDS = (
    "sync tree blob archive webhook cache redis postgres migration index query schema "
    "deploy worker queue retry timeout token signature header commit branch review "
    "parser encoding session project admin template rate limit budget latency memory "
    "batch upsert listing etag conditional request response client server emulator "
    "read path layer breaker fallback decrypt nonce keyring rotation median percentile"
).split()
_RU = "синхронизация дерево архив кэш очередь проверка подпись ветка запрос ответ задержка".split()
_STATUS = ("✅ Done", "🚧 In progress", "⏳ Waiting for review", "🔄 Reworking", "❌ Dropped")
_PRIORITY = ("HIGH", "MEDIUM", "LOW")
_EMOJI = "🎯🔧📬✅💡🧪📈🔐"


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_RU if rng.random() < 0.2 else _WORDS) for _ in range(rng.randint(8, 18))]
    return " ".join(words).capitalize() + "."


def _section(rng: random.Random, number: int) -> str:
    title = f"## {_EMOJI[number % len(_EMOJI)]} {rng.choice(_WORDS).upper()} {rng.choice(_WORDS).upper()}:"
    kind = number % 4
    if kind == 1:
        body = "\n".join(f"- {rng.choice('✅🔄⏳')} {_sentence(rng)}" for _ in range(rng.randint(3, 6)))
    elif kind == 2:
        lines = [f"    {rng.choice(_WORDS)}_{i} = fetch({rng.randint(1, 999)!r})" for i in range(5)]
        body = "```python\ndef step():\n" + "\n".join(lines) + "\n```"
    elif kind == 3:
        rows = [
            f"| {rng.choice(_WORDS):<12} | {rng.randint(1, 5000):>6} | {rng.choice(_STATUS)} |"
            for _ in range(4)
        ]
        body = "| Item         |  Count | State |\n|--------------|-------:|-------|\n" + "\n".join(rows)
    else:
        body = "\n".join(_sentence(rng) for _ in range(rng.randint(3, 6)))
    return f"{title}\n\n{body}\n\n---\n"


def _head(rng: random.Random, *, project: str, day: date, title: str, front_matter: bool) -> str:
    if front_matter:
        return (
            f"---\ntitle: {title}\ndate: {day:%Y-%m-%d}\nstatus: {rng.choice(_STATUS)}\n"
            f"priority: {rng.choice(_PRIORITY)}\nproject: {project}\nnext: {_sentence(rng)}\n---\n\n"
            f"# {title}\n"
        )
    return (
        f"# {title}\n\n**Date:** {day:%B} {day.day}, {day.year} ({rng.choice(('Morning', 'Evening'))})\n"
        f"**Status:** {rng.choice(_STATUS)}\n**Priority:** {rng.choice(_PRIORITY)}\n"
        f"**Project:** {project}\n**Next:** {_sentence(rng)}\n\n---\n"
    )


def session_markdown(
    rng: random.Random, *, project: str, day: date, title: str, size: int, front_matter: bool
) -> bytes:
    """One session document of about ``size`` bytes, with YAML front matter or bold fields."""
    parts = [_head(rng, project=project, day=day, title=title, front_matter=front_matter)]
    total, number = len(parts[0].encode()), 0
    while total < size - 300:
        number += 1
        parts.append(_section(rng, number))
        total += len(parts[-1].encode()) + 1
    return "\n".join(parts).encode()


def make_corpus(count: int, *, seed: int, size: int, front_matter: bool = False) -> dict[str, bytes]:
    """``count`` sessions over PROJECTS folders (``project-NN/<date>-<slug>-<n>.md``)."""
    rng = random.Random(seed)
    corpus: dict[str, bytes] = {}
    for index in range(count):
        project = f"project-{index % PROJECTS:02d}"
        day = date(2023, 1, 1) + timedelta(days=rng.randrange(3 * 365))
        slug = "-".join(rng.sample(_WORDS, 3))
        title = f"{slug.replace('-', ' ').capitalize()} #{index}"
        path = f"{project}/{day:%Y-%m-%d}-{slug}-{index:05d}.md"
        corpus[path] = session_markdown(
            rng, project=project.title(), day=day, title=title, size=size, front_matter=front_matter
        )
    return corpus
