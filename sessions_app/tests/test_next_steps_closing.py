"""Next steps close in other words, in English and Russian, and stay open on a mere mention."""

from __future__ import annotations

import pytest

from sessions_app.context import project_next_steps
from sessions_app.documents.nextsteps import extract_steps, open_steps
from sessions_app.models import Session

OLDER = """# Build pipeline

## Next steps
- Deploy the new build to staging
- Rotate the encryption keys
"""

OLDER_RU = """# Сборка

## Дальнейшие шаги
- Развернуть новую сборку на стейджинге
- Проверить бэкапы базы
"""


def still_open(older: str, newer: str, *, title: str = "", done: bool = False) -> list[str]:
    mentions = [("newer", extract_steps(newer, title=title, done=done)), ("older", extract_steps(older))]
    return [text for text, _ in open_steps(mentions)]


@pytest.mark.parametrize(
    "newer",
    [
        "# Staging deploy — DONE ✅\n\nAll green.\n",
        "# Notes\n\n- [x] staging deploy of the new build\n",
        "# Notes\n\n- Deployed the new build to staging ✅\n",
        "# Notes\n\n- deploy new build staging: done\n",
        "# Notes\n\n## Done\n- The new build is on staging (deploy)\n",
    ],
)
def test_a_later_session_closes_a_step_in_other_words(newer: str) -> None:
    assert still_open(OLDER, newer) == ["Rotate the encryption keys"]


@pytest.mark.parametrize(
    "newer",
    [
        "# Notes\n\n- the staging deploy still fails on migrations\n",
        "# Staging deploy\n\nWe looked at the staging deploy again.\n",
        "# Notes\n\n- Staging deploy: not done yet\n",
        "# Notes\n\n- ✅ Deployed the docs\n",  # one shared word is not the same work
    ],
)
def test_a_mere_mention_or_a_denial_does_not_close_it(newer: str) -> None:
    assert still_open(OLDER, newer) == ["Deploy the new build to staging", "Rotate the encryption keys"]


def test_numbers_must_match() -> None:
    older = "# R\n\n## Next steps\n- Release version 1.2 to staging\n"
    assert still_open(older, "# Notes\n\n- ✅ Released version 1.3 to staging\n") == [
        "Release version 1.2 to staging"
    ]
    assert still_open(older, "# Notes\n\n- ✅ Released version 1.2 to staging\n") == []


def test_the_title_of_a_session_whose_status_is_done_names_its_work() -> None:
    newer = "# Key rotation\n\nRotated every key.\n"
    assert still_open(OLDER, newer, title="Encryption keys rotation", done=True) == [
        "Deploy the new build to staging"
    ]
    assert len(still_open(OLDER, newer, title="Encryption keys rotation", done=False)) == 2


@pytest.mark.parametrize(
    "newer",
    [
        "# Развёртывание на стейджинге — готово ✅\n",
        "# Заметки\n\n- [x] развернули новую сборку на стейджинге\n",
        "# Заметки\n\n- Развернуть новую сборку на стейджинге — сделано\n",
        "# Заметки\n\n## Что сделано\n- Новая сборка развернута на стейджинге\n",
    ],
)
def test_russian_steps_close_in_other_words(newer: str) -> None:
    assert still_open(OLDER_RU, newer) == ["Проверить бэкапы базы"]


@pytest.mark.parametrize(
    "newer",
    [
        "# Заметки\n\n- развёртывание на стейджинге всё ещё падает на миграциях\n",
        "# Заметки\n\n- Развернуть новую сборку на стейджинге — не готово\n",
    ],
)
def test_russian_mentions_do_not_close(newer: str) -> None:
    assert still_open(OLDER_RU, newer) == ["Развернуть новую сборку на стейджинге", "Проверить бэкапы базы"]


@pytest.mark.parametrize("heading", ["Next steps", "Дальнейшие шаги", "Следующие шаги", "TODO", "План"])
def test_step_headings_in_both_languages(heading: str) -> None:
    assert extract_steps(f"# X\n\n## {heading}\n- Write the runbook\n").open == ("Write the runbook",)


def test_on_the_samples_the_three_stale_steps_close(synced: list[Session]) -> None:
    steps = [step.text for step in project_next_steps("Annoris")]
    for stale in ("Encryption key rotation", "Phase 1 Railway setup", "GitHub webhook endpoint + HMAC check"):
        assert not any(stale.lower() in step.lower() for step in steps), steps
    assert any("Health endpoint" in step for step in steps)  # the newest session's Next stays open


@pytest.mark.parametrize(
    ("text", "changed"),
    [
        ("# S\n\n## Next steps\n- [ ] Deploy the worker\n- [ ] Other\n", "- [x] Deploy the worker\n"),
        ("# S\n\n## Next steps\n- Deploy **the** worker\n- Other\n", "- Deploy **the** worker ✅\n"),
        ("---\nnext: Deploy the worker\n---\n# S\n\nBody.\n", "## Done\n\n- [x] Deploy the worker\n"),
    ],
)
def test_close_step_changes_one_line_and_the_step_is_closed(text: str, changed: str) -> None:
    from sessions_app.documents.closing import close_step

    closed = close_step(text, "Deploy the worker")
    assert changed in closed
    kept = [line for line in text.split("\n") if "eploy" not in line]
    assert all(line in closed.split("\n") for line in kept)  # the rest, front matter included, stays
    assert "Deploy the worker" not in extract_steps(closed, next_field="Deploy the worker").open
    assert "Other" in extract_steps(closed).open or "Other" not in text
