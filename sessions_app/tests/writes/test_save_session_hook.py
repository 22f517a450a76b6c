"""The README's Claude Code PreCompact / Stop hook (contrib/claude-code/save_session.py), run as
Claude Code runs it: the exact command, the hook's JSON on stdin, against a live server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from annoris.api import tokens
from sessions_app.models import Session

ROOT = Path(__file__).resolve().parents[3]
CAP = 10_000  # characters of a hook's output Claude Code shows


def readme_hook_command() -> str:
    block = (ROOT / "README.md").read_text(encoding="utf-8").split("<!-- save-session-hook -->", 1)[1]
    config = json.loads(re.search(r"```json\n(.*?)\n```", block, re.S).group(1))
    return config["hooks"]["PreCompact"][0]["hooks"][0]["command"].replace("/path/to/annoris", str(ROOT))


def transcript(folder: Path, *answers: str) -> Path:
    """A Claude Code transcript: a user prompt, then each answer with a tool call beside its text."""
    lines: list[dict[str, Any]] = [
        {"type": "user", "message": {"role": "user", "content": "Carry on with the pricing work."}}
    ]
    for answer in answers:
        lines.append({"type": "assistant", "message": {"role": "assistant", "content": [
            {"type": "text", "text": answer},
            {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}},
        ]}})  # fmt: skip
        lines.append({"type": "user", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "ok " * 2000},
        ]}})  # fmt: skip
    path = folder / "transcript.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def run_hook(
    env: dict[str, str], transcript_path: Path, cwd: Path, event: str
) -> subprocess.CompletedProcess[str]:
    hook_input = {
        "session_id": "abc123",
        "transcript_path": str(transcript_path),
        "cwd": str(cwd),
        "hook_event_name": event,
        "trigger": "auto",
        "custom_instructions": "",
    }
    return subprocess.run(  # noqa: S603 - the README's own command
        ["bash", "-c", readme_hook_command()],
        input=json.dumps(hook_input),
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def long_answer(marker: str) -> str:
    """An answer of ~40,000 characters whose last paragraph names ``marker``."""
    paragraph = "We compared the pricing tiers against last quarter and kept the rounding rule. "
    return "\n\n".join([paragraph * 5] * 100) + f"\n\nWhere we stopped: {marker}. Next: wire the tier table."


@pytest.mark.skipif(shutil.which("python3") is None, reason="the README hook runs python3: not installed")
@pytest.mark.django_db(transaction=True)
def test_the_readme_save_hook_saves_each_answer_and_prints_one_short_line(
    live_server: Any, local: Path, tmp_path: Path
) -> None:
    cwd = tmp_path / "pricewise"  # the working folder names the project
    cwd.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "ANNORIS_URL": live_server.url,
        "ANNORIS_TOKEN": tokens.issue(name="hook", scope=tokens.WRITE)[1],
    }
    before = set(Session.objects.live().values_list("id", flat=True))

    first = run_hook(env, transcript(tmp_path, "An earlier answer.", long_answer("MARKER-ONE")), cwd, "Stop")
    # A later Stop of the same conversation, a new answer: saved too (not refused as a replay).
    later = run_hook(
        env, transcript(tmp_path, "An earlier answer.", long_answer("MARKER-ONE"), long_answer("MARKER-TWO")),
        cwd, "Stop",
    )  # fmt: skip
    # PreCompact right after, nothing said in between: the same answer is not saved twice.
    again = run_hook(
        env, transcript(tmp_path, "An earlier answer.", long_answer("MARKER-ONE"), long_answer("MARKER-TWO")),
        cwd, "PreCompact",
    )  # fmt: skip

    for done in (first, later, again):
        assert done.returncode == 0, done.stderr
        assert len(done.stdout) < CAP and len(done.stderr) < CAP
        assert done.stdout.startswith("Annoris saved the session: "), done.stdout
        assert len(done.stdout.splitlines()) == 1
    new = Session.objects.live().exclude(id__in=before).select_related("project")
    assert new.count() == 2
    saved = sorted(re.findall(r"MARKER-\w+", row.text) for row in new)
    assert saved == [["MARKER-ONE"], ["MARKER-TWO"]]  # each answer once, in its own session
    for row in new:
        assert row.project.name == "Pricewise"  # the folder name found the existing project
        assert "An earlier answer." not in row.text  # only the last answer, cut to its end
        assert row.text.rstrip().endswith("Next: wire the tier table.")
        assert (local / row.github_path).is_file()  # written to the source, not only the database
        assert row.github_path in first.stdout + later.stdout


@pytest.mark.django_db(transaction=True)
def test_the_save_hook_says_why_it_did_not_save_and_still_exits_0(live_server: Any, tmp_path: Path) -> None:
    answer = transcript(tmp_path, long_answer("MARKER"))
    env = {"PATH": os.environ["PATH"], "ANNORIS_URL": live_server.url, "ANNORIS_TOKEN": "not-a-token"}

    refused = run_hook(env, answer, tmp_path, "Stop")
    unset = run_hook({"PATH": os.environ["PATH"]}, answer, tmp_path, "Stop")
    gone = tmp_path / "none.jsonl"
    missing = run_hook({**env, "ANNORIS_URL": "http://127.0.0.1:9"}, gone, tmp_path, "Stop")

    assert refused.stdout.startswith("Annoris did not save the session (401)"), refused.stdout
    assert "ANNORIS_URL and ANNORIS_TOKEN" in unset.stdout
    assert missing.stdout.startswith("Annoris could not save the session: FileNotFoundError")
    for done in (refused, unset, missing):
        assert done.returncode == 0 and done.stderr == ""
        assert 0 < len(done.stdout) <= 501
    assert not Session.objects.exists()  # nothing synced, nothing saved
