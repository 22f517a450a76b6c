"""The README's Claude Code SessionStart hook, run as Claude Code runs it, against a live server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from annoris.api import tokens
from sessions_app.context import NEWEST_FIRST, build_context
from sessions_app.context.compose import utf16_length
from sessions_app.models import Session

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_hook_command() -> str:
    block = README.read_text(encoding="utf-8").split("<!-- session-start-hook -->", 1)[1]
    config = json.loads(re.search(r"```json\n(.*?)\n```", block, re.S).group(1))
    return config["hooks"]["SessionStart"][0]["hooks"][0]["command"]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README hook runs curl: not installed")
@pytest.mark.django_db(transaction=True)
def test_the_readme_hook_loads_the_context_within_claude_codes_cap(
    live_server, synced: list[Session]
) -> None:  # noqa: ANN001
    uncapped = build_context(None, 50_000).markdown
    assert utf16_length(uncapped) > 10_000  # the cap matters on the samples
    hook_input = {
        "session_id": "abc123",
        "transcript_path": "/tmp/transcript.jsonl",
        "cwd": str(README.parent),
        "hook_event_name": "SessionStart",
        "source": "startup",
    }
    env = {
        "PATH": os.environ["PATH"],
        "ANNORIS_URL": live_server.url,
        "ANNORIS_TOKEN": tokens.issue(name="hook")[1],
    }
    done = subprocess.run(
        ["bash", "-c", readme_hook_command()],
        input=json.dumps(hook_input),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout
    assert 0 < utf16_length(output) < 10_000
    newest = Session.objects.live().order_by(*NEWEST_FIRST).first()
    assert f"### {newest.title}" in output
    assert "## Open next steps" in output and "- [ ] " in output
    assert "Health endpoint" in output  # the newest Annoris session's open step
