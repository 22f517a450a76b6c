"""What a model receives over MCP fits it (issue #15): every answer within its budget as real
tokenizers count it, lists paged, small edits landing at GitHub, errors as one sentence.

The app runs as it does in production: gunicorn (and ``manage.py mcp`` over stdio) against a
database synced from the GitHub emulator, with 300 projects and a 25-session project. The
official MCP client calls the tools; tiktoken's cl100k_base and o200k_base count the text
block and the structuredContent, each on its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from django.core.management import call_command
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult

from annoris.api import tokens
from annoris.sources.github import GitHubSource
from annoris.testing.github_emulator import GitHubEmulator
from annoris.tests.test_mcp import BASE_DIR, _database_url, _free_port, _http, _serving
from projects_app.models import Project
from sessions_app.context.encoders import encoders
from sessions_app.models import Session
from sync_app.engine import run_sync

pytestmark = pytest.mark.django_db
PROJECTS = 300  # besides the big one
BIG, BIG_FOLDER, BIG_SESSIONS = "Atlas Migration", "atlas-migration", 25
MEASURED: dict[str, dict[str, int]] = {}  # tool call -> its largest real counts, printed at the end


def real_counts(text: str) -> dict[str, int]:
    """{encoding: tokens} of ``text`` under tiktoken's cl100k_base and o200k_base, as OpenAI counts."""
    return {e.name: e.count(text) for e in encoders() if e.name in ("cl100k_base", "o200k_base")}


# --- The data: 300 small projects and a 25-session one, in the emulator and synced ------------


def _big_session(n: int, day: datetime) -> str:
    steps = "\n".join(
        f"- [ ] Step {n}.{k}: migrate shard {k} of table orders_{n} to the new cluster" for k in range(3)
    )
    done = f"- [x] Step {n - 1}.0: migrate shard 0 of table orders_{n - 1} to the new cluster\n" if n else ""
    paragraph = (
        f"Session {n}: we moved the ledger tables in small batches, watched replication lag "
        f"(p99 {40 + n} ms) and kept the old cluster writable until the checksums matched. "
        "Решили переносить по одному шарду за раз: так откат занимает минуты, а не часы. "
        "🚀 The runbook lives in docs/atlas.md.\n\n"
    )
    code = (
        f"```python\ndef migrate(shard: int) -> None:\n    copy(shard, batch={1000 + n})\n"
        "    verify(shard)\n```\n\n"
    )
    body = paragraph * (3 + n % 4) + code + paragraph
    return (
        f"# Atlas migration, part {n}: shards and checksums\n\n**Date:** {day:%Y-%m-%d}\n"
        f"**Status:** {'✅ done' if n % 3 == 0 else '🔄 in progress'}\n**Project:** {BIG}\n\n"
        f"## Decided\n\n{body}## Done\n\n{done}- Copied {n * 1000} rows.\n\n## Next steps\n\n{steps}\n"
    )


def _files() -> dict[str, bytes]:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    files: dict[str, bytes] = {}
    for i in range(PROJECTS):
        slug = f"customer-analytics-dashboard-{i:03d}" if i % 7 == 0 else f"project-{i:03d}"
        day = start + timedelta(days=i % 200, hours=i)
        text = f"# Kickoff {i}\n\n**Date:** {day:%Y-%m-%d}\n**Status:** planned\n\nScope agreed.\n"
        files[f"sessions/{slug}/{day:%Y-%m-%d}-kickoff.md"] = text.encode()
    for n in range(BIG_SESSIONS):
        day = datetime(2025, 9, 1, tzinfo=UTC) + timedelta(days=n)
        files[f"sessions/{BIG_FOLDER}/{day:%Y-%m-%d}-part-{n:02d}.md"] = _big_session(n, day).encode()
    long = "# Atlas migration: the full log\n\n**Date:** 2025-08-01\n\n" + "".join(
        f"## Batch {k}\n\nCopied batch {k} of the ledger; лаг репликации {k % 50} ms; checksums matched.\n\n"
        for k in range(1200)
    )
    files[f"sessions/{BIG_FOLDER}/2025-08-01-full-log.md"] = long.encode()
    return files


@pytest.fixture(scope="module")
def world(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("mcpfit")
    emulator = GitHubEmulator(folder / "repo")
    emulator.commit_files(_files(), message="Import sessions")
    with emulator, django_db_blocker.unblock():
        result = run_sync(source=GitHubSource(emulator.client(), branch="main"))
        assert result.status == "success" and result.counts["added"] == PROJECTS + BIG_SESSIONS + 1
        call_command("reindex_search", verbosity=0)  # a large import is indexed by the worker, not inline
        token = tokens.issue(name="reader", scope=tokens.READ)[1]
        write_token = tokens.issue(name="writer", scope=tokens.WRITE)[1]
        env = {
            **_base_env(),
            "DATABASE_URL": _database_url(folder),
            "SESSIONS_SOURCE": "github",
            "GITHUB_API_URL": emulator.base_url,
            "GITHUB_REPO": emulator.full_name,
            "GITHUB_TOKEN": emulator.token,
            "GITHUB_BRANCH": "main",
        }
        port = _free_port()
        command = [sys.executable, "-m", "gunicorn", "annoris.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"]
        with _serving(command, env, port) as url:
            yield {
                "url": url,
                "env": env,
                "emulator": emulator,
                "token": token,
                "write_token": write_token,
                "projects": set(Project.objects.values_list("name", flat=True)),
            }
        call_command("flush", interactive=False, verbosity=0)
        _print_measured()


def _base_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("GITHUB_REPO", None)
    return env


# --- Helpers ------------------------------------------------------------------------------------


def _calls(url: str, token: str, calls: list[tuple[str, dict[str, Any]]]) -> list[CallToolResult]:
    async def go() -> list[CallToolResult]:
        async with _http(url, token) as client:
            return [await client.call_tool(name, arguments) for name, arguments in calls]

    return anyio.run(go)


def _stdio_calls(env: dict[str, str], calls: list[tuple[str, dict[str, Any]]]) -> list[CallToolResult]:
    params = StdioServerParameters(
        command=sys.executable, args=["manage.py", "mcp"], env=env, cwd=str(BASE_DIR)
    )

    async def go() -> list[CallToolResult]:
        async with Client(params, mode="legacy") as client:
            return [await client.call_tool(name, arguments) for name, arguments in calls]

    return anyio.run(go)


def _text(result: CallToolResult) -> str:
    assert len(result.content) == 1, "one text block"
    return result.content[0].text  # type: ignore[union-attr]


def _within(label: str, result: CallToolResult, budget: int) -> dict[str, int]:
    """Assert the text block and the structuredContent each fit ``budget`` under both encodings."""
    assert not result.is_error, _text(result)
    text = real_counts(_text(result))
    structured = real_counts(json.dumps(result.structured_content, ensure_ascii=False))
    counts = {f"text_{k}": v for k, v in text.items()} | {f"json_{k}": v for k, v in structured.items()}
    MEASURED[label] = counts
    assert max(counts.values()) <= budget, (label, counts, budget)
    return counts


def _print_measured() -> None:
    print("\nMCP results, real tokens (text block / structuredContent; cl100k, o200k):")  # noqa: T201
    for label, c in MEASURED.items():
        print(  # noqa: T201
            f"  {label:<48} text {c['text_cl100k_base']:>5} / {c['text_o200k_base']:>5}   "
            f"json {c['json_cl100k_base']:>5} / {c['json_o200k_base']:>5}"
        )


def _big_session_id(part: int = 24) -> str:
    return str(Session.objects.get(github_path__endswith=f"-part-{part:02d}.md").id)


def _git_show(emulator: GitHubEmulator, path: str) -> bytes:
    return subprocess.run(  # noqa: S603 - git on the emulator's own repository
        ["git", f"--git-dir={emulator.repo.path}", "show", f"main:{path}"], capture_output=True, check=True
    ).stdout


# --- Budgets --------------------------------------------------------------------------------------


def test_every_read_tool_fits_its_budget_by_both_encodings(world: dict) -> None:
    long_id = str(Session.objects.get(github_path__endswith="full-log.md").id)
    calls: list[tuple[str, dict[str, Any], int]] = [
        ("get_context", {"project": BIG, "budget_tokens": 500}, 500),
        ("get_context", {"project": BIG, "budget_tokens": 2000}, 2000),
        ("get_context", {"project": BIG, "budget_tokens": 8000}, 8000),
        ("get_context", {"project": BIG, "client": "codex"}, 2500),
        ("get_context", {}, 2500),
        ("recent_activity", {}, 2000),
        ("recent_activity", {"project": BIG}, 2000),
        ("recent_activity", {"project": BIG, "limit": 50}, 2000),
        ("list_projects", {}, 5000),
        ("list_projects", {"limit": 100}, 5000),
        ("search_sessions", {"query": "checksums shard", "limit": 50}, 8000),
        ("next_steps", {"project": BIG}, 3000),
        ("read_session", {"id": _big_session_id()}, 20_000),
        ("read_session", {"id": long_id}, 20_000),
        ("sync_status", {}, 2000),
    ]
    results = _calls(world["url"], world["token"], [(name, args) for name, args, _ in calls])
    for (name, arguments, budget), result in zip(calls, results, strict=True):
        _within(f"{name} {json.dumps(arguments, ensure_ascii=False)}", result, budget)
    found = results[10].structured_content
    assert found["total"] >= BIG_SESSIONS and len(found["results"]) >= 10
    context_8000 = results[2].structured_content
    assert (
        "annoris://sessions/" in context_8000["markdown"] and "/api/sessions/" not in context_8000["markdown"]
    )
    assert context_8000["sessions"]["whole"] >= 1


def test_claude_codes_preset_keeps_the_context_under_10000_characters(world: dict) -> None:
    (result,) = _calls(
        world["url"], world["token"], [("get_context", {"project": BIG, "client": "claude-code"})]
    )
    assert not result.is_error, _text(result)
    assert (
        len(_text(result)) <= 10_000
        and len(json.dumps(result.structured_content, ensure_ascii=False)) <= 10_000
    )
    assert "Atlas migration, part 24" in _text(result)  # the newest session


def test_a_long_document_is_read_in_parts_that_rebuild_it(world: dict) -> None:
    row = Session.objects.get(github_path__endswith="full-log.md")
    parts, offset = [], 0
    while offset is not None:
        (result,) = _calls(
            world["url"], world["token"], [("read_session", {"id": str(row.id), "offset": offset})]
        )
        _within("read_session (a part of 100 KB)", result, 20_000)
        parts.append(result.structured_content["markdown"])
        offset = result.structured_content["next_offset"]
    assert len(parts) > 1 and "".join(parts) == row.text


def test_list_projects_pages_to_every_project_by_last_activity(world: dict) -> None:
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        arguments = {"cursor": cursor} if cursor else {}
        (result,) = _calls(world["url"], world["token"], [("list_projects", arguments)])
        _within(f"list_projects page {pages + 1}", result, 5000)
        page = result.structured_content
        seen += page["projects"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    names = [p["name"] for p in seen]
    assert len(names) == len(set(names)) and set(names) == world["projects"]
    assert len(names) == PROJECTS + 1 and pages > 1
    dates = [p["last_activity"] for p in seen]
    assert dates == sorted(dates, reverse=True) and names[0] == BIG  # most recently active first
    assert "priority first" not in _tool(world, "list_projects").description


def _tool(world: dict, name: str) -> Any:
    async def go() -> Any:
        async with _http(world["url"], world["token"]) as client:
            return next(t for t in (await client.list_tools()).tools if t.name == name)

    return anyio.run(go)


def test_recent_activity_is_titles_dates_states_and_steps_within_2000_tokens(world: dict) -> None:
    (result,) = _calls(world["url"], world["token"], [("recent_activity", {"project": "atlas-MIGRATION"})])
    counts = _within("recent_activity (default)", result, 2000)
    activity = result.structured_content
    assert [s["title"] for s in activity["sessions"]][0] == "Atlas migration, part 24: shards and checksums"
    assert set(activity["sessions"][0]) == {"id", "title", "project", "date", "state", "next"}
    assert any(step["text"].startswith("Step 24.0") for step in activity["open_steps"])
    assert not any(
        step["text"].startswith("Step 23.0") for step in activity["open_steps"]
    )  # checked off later
    assert "Решили" not in _text(result)  # no document text
    assert max(counts.values()) < 2000


# --- Writes ---------------------------------------------------------------------------------------


def test_an_edit_appends_and_the_commit_lands_with_the_rest_unchanged(world: dict) -> None:
    row = Session.objects.get(github_path__endswith="-part-10.md")
    before = _git_show(world["emulator"], row.github_path)
    calls = [
        (
            "edit_session",
            {"id": str(row.id), "expected_sha": row.github_sha, "append": "Decided: freeze writes at 02:00."},
        ),
    ]
    (edited,) = _calls(world["url"], world["write_token"], calls)
    _within("edit_session (append)", edited, 500)
    after = _git_show(world["emulator"], row.github_path)
    assert after == before + b"\nDecided: freeze writes at 02:00.\n"
    assert edited.structured_content["commit"] and edited.structured_content["sha"] != row.github_sha

    check = {"id": str(row.id), "expected_sha": edited.structured_content["sha"], "check_step": "step 10.1"}
    stale = {"id": str(row.id), "expected_sha": row.github_sha, "append": "lost update"}
    checked, refused = _calls(
        world["url"], world["write_token"], [("edit_session", check), ("edit_session", stale)]
    )
    assert not checked.is_error, _text(checked)
    assert _git_show(world["emulator"], row.github_path) == after.replace(
        b"- [ ] Step 10.1", b"- [x] Step 10.1"
    )
    assert refused.is_error and "read it again" in _text(refused)


def test_a_save_with_a_date_keeps_it_and_delete_removes_the_file(world: dict) -> None:
    markdown = "# Cutover rehearsal\n\nWe rehearsed the cutover on staging.\n"
    arguments = {
        "markdown": markdown,
        "project": BIG,
        "date": "2024-03-05",
        "status": "done",
        "next": ["Book the window"],
    }
    (saved,) = _calls(world["url"], world["write_token"], [("save_session", arguments)])
    _within("save_session", saved, 500)
    result = saved.structured_content
    assert "2024-03-05" in result["path"]
    landed = _git_show(world["emulator"], result["path"]).decode()
    assert "date: '2024-03-05'" in landed or "date: 2024-03-05" in landed
    assert landed.endswith("We rehearsed the cutover on staging.\n\n## Next steps\n\n- [ ] Book the window\n")
    (read,) = _calls(world["url"], world["token"], [("read_session", {"id": result["id"]})])
    assert read.structured_content["date"] == "2024-03-05" and read.structured_content["state"] == "done"

    conflict = {"markdown": "# X\n\n**Date:** 2024-03-06\n", "date": "2024-03-05"}
    delete = {"id": result["id"], "expected_sha": result["sha"]}
    refused, deleted = _calls(
        world["url"], world["write_token"], [("save_session", conflict), ("delete_session", delete)]
    )
    assert refused.is_error and _text(refused) == (
        "date is '2024-03-05' but the document says '2024-03-06'; send one of them, or make them agree."
    )
    assert not deleted.is_error, _text(deleted)
    gone = subprocess.run(  # noqa: S603
        ["git", f"--git-dir={world['emulator'].repo.path}", "cat-file", "-e", f"main:{result['path']}"],
        check=False,
    )
    assert gone.returncode != 0 and not Session.objects.live().filter(id=result["id"]).exists()


# --- Errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("list_projects", {"limit": 1000}, "limit must be at most 100."),
        ("list_projects", {"cursor": "nonsense"}, "cursor is not a next_cursor list_projects gave"),
        ("recent_activity", {"since": "the day before"}, "since must be a date such as 2025-10-20."),
        ("recent_activity", {"limit": "ten"}, "limit must be a whole number."),
        (
            "get_context",
            {"project": "Atlas Migraton"},
            "no project 'Atlas Migraton'; did you mean 'Atlas Migration'?",
        ),
        ("get_context", {"budget_tokens": 50}, "budget_tokens must be at least 200."),
        ("get_context", {"client": "vim"}, "client must be one of 'claude-code', 'codex' or 'chatgpt'."),
        ("search_sessions", {}, "query is required."),
        (
            "save_session",
            {"markdown": "# x\n", "date": "tomorrow"},
            "date must be a date such as 2025-10-20.",
        ),
        ("save_session", {"markdown": "# x\n", "next": ["x" * 301]}, "next.0 must be at most 300 characters"),
        (
            "next_steps",
            {"project": "atlas-migratoin"},
            "no project 'atlas-migratoin'; did you mean 'Atlas Migration'?",
        ),
        (
            "get_context",
            {"projekt": BIG},
            "'projekt' is not an argument of get_context; its arguments are: project,",
        ),
        ("read_session", {"id": "x", "path": "y.md"}, "Give exactly one of id or path."),
        (
            "edit_session",
            {"id": "x", "expected_sha": "a" * 40, "append": "x"},
            "needs a token with the write scope",
        ),
    ],
)
def test_a_bad_argument_gets_one_plain_sentence(
    world: dict, tool: str, arguments: dict, expected: str
) -> None:
    (result,) = _calls(world["url"], world["token"], [(tool, arguments)])
    assert result.is_error
    text = _text(result)
    assert expected in text
    assert "\n" not in text and text.endswith((".", "?")) and text.count(". ") == 0
    assert not any(word in text for word in ("pydantic", "Traceback", "validation error", "Error executing"))


def test_the_write_path_refusals_are_one_sentence_too(world: dict) -> None:
    row = Session.objects.get(github_path__endswith="-part-05.md")
    calls = [
        (
            "edit_session",
            {"id": str(row.id), "expected_sha": row.github_sha, "section": "Nope", "replace_with": "x"},
        ),
        (
            "edit_session",
            {"id": str(row.id), "expected_sha": row.github_sha, "append": "a", "check_step": "b"},
        ),
        (
            "save_session",
            {"markdown": "# Oops\n\ntoken: ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + "\n"},
        ),
    ]
    missing, two, secret = _calls(world["url"], world["write_token"], calls)
    assert _text(missing).startswith(
        "No section is headed 'Nope'; the headings are: 'Atlas migration, part 5"
    )
    assert _text(two) == "Give exactly one of append, replace_with or check_step."
    assert _text(secret).count("GitHub Token") == 1 and "a1B2c3D4" not in _text(secret)


# --- stdio ----------------------------------------------------------------------------------------


def test_stdio_answers_within_the_same_budgets(world: dict) -> None:
    calls = [
        ("list_projects", {}),
        ("recent_activity", {}),
        ("get_context", {"project": BIG, "budget_tokens": 2000}),
        (
            "save_session",
            {"markdown": "# Stdio save\n\nSaved from stdio.\n", "project": BIG, "date": "2024-02-01"},
        ),
    ]
    listed, recent, context, saved = _stdio_calls(world["env"], calls)
    _within("stdio list_projects", listed, 5000)
    _within("stdio recent_activity", recent, 2000)
    _within("stdio get_context 2000", context, 2000)
    _within("stdio save_session", saved, 500)
    assert "2024-02-01" in saved.structured_content["path"]
    assert _git_show(world["emulator"], saved.structured_content["path"]).endswith(b"Saved from stdio.\n")


# --- Shape: descriptions, the prompt, front matter kept ------------------------------------------


def test_descriptions_are_clean_sentences_and_save_shows_the_format(world: dict) -> None:
    async def go() -> tuple[list[Any], Any]:
        async with _http(world["url"], world["token"]) as client:
            tools = (await client.list_tools()).tools
            prompt = await client.get_prompt("save_this_session", {"project": BIG})
            return tools, prompt

    tools, prompt = anyio.run(go)
    for tool in tools:
        assert tool.output_schema and tool.output_schema["properties"], tool.name
        assert "\n " not in tool.description and "  " not in tool.description, tool.name
        assert tool.description.rstrip().endswith("."), tool.name
    save = next(t for t in tools if t.name == "save_session").description.split("\n")
    assert len(save) == 3 and save[1].startswith("Format: ") and "**Date:**" in save[1]
    assert "- [ ] step" in save[2]
    guide = prompt.messages[0].content.text
    assert f"**Project:** {BIG}" in guide and "## Next steps" in guide and "check_step" in guide


def test_update_without_front_matter_keeps_the_one_save_wrote(world: dict) -> None:
    save = {
        "markdown": "# Freeze plan\n\nFirst draft.\n",
        "project": BIG,
        "date": "2024-04-01",
        "status": "planned",
    }
    (saved,) = _calls(world["url"], world["write_token"], [("save_session", save)])
    assert not saved.is_error, _text(saved)
    path, sha = saved.structured_content["path"], saved.structured_content["sha"]
    written = _git_show(world["emulator"], path).decode()
    front = written[: written.index("---\n", 4) + 4]
    assert "status: planned" in front and "2024-04-01" in front

    update = {
        "id": saved.structured_content["id"],
        "expected_sha": sha,
        "markdown": "# Freeze plan\n\nSecond draft.\n",
    }
    (updated,) = _calls(world["url"], world["write_token"], [("update_session", update)])
    assert not updated.is_error, _text(updated)
    assert _git_show(world["emulator"], path).decode() == front + "# Freeze plan\n\nSecond draft.\n"
