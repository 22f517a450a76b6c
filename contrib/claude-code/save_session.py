#!/usr/bin/env python3
"""Claude Code PreCompact / Stop hook: save what the assistant last said as an Annoris session.

Reads the hook's JSON from stdin (``session_id``, ``transcript_path``, ``cwd``,
``hook_event_name``), takes the assistant's last text message from the transcript, and
POSTs a session document to ``$ANNORIS_URL/api/sessions/`` with ``$ANNORIS_TOKEN`` (a
``write`` token). The project is the working folder's name unless ``ANNORIS_PROJECT`` is
set. Standard library only; never blocks the assistant (it always exits 0).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

MAX_CHARS = 8_000


def last_assistant_text(transcript: Path) -> str:
    text = ""
    for line in transcript.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message = entry.get("message") or {}
        if entry.get("type") == "assistant" and isinstance(message.get("content"), list):
            parts = [part.get("text", "") for part in message["content"] if part.get("type") == "text"]
            text = "\n\n".join(p for p in parts if p.strip()) or text
    return text[-MAX_CHARS:]


def main() -> int:
    hook = json.load(sys.stdin)
    summary = last_assistant_text(Path(hook["transcript_path"]))
    if not summary.strip():
        return 0
    project = os.environ.get("ANNORIS_PROJECT") or Path(hook.get("cwd") or os.getcwd()).name
    today = datetime.now(UTC).date().isoformat()
    event = hook.get("hook_event_name", "Stop")
    body = {
        "title": f"{project}: session {today} ({event})",
        "project": project,
        "status": "in progress",
        "date": today,
        "content": f"# {project}: session {today}\n\n## Where we are\n\n{summary}\n",
    }
    request = urllib.request.Request(
        os.environ["ANNORIS_URL"].rstrip("/") + "/api/sessions/",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {os.environ['ANNORIS_TOKEN']}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"claude-code-{hook.get('session_id', '')}-{event}-{today}"[:200],
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            print(f"Annoris saved the session ({response.status}).", file=sys.stderr)
    except OSError as error:  # never block the assistant on a save
        print(f"Annoris could not save the session: {error}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
