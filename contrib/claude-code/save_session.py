#!/usr/bin/env python3
"""Claude Code PreCompact / Stop hook: save what the assistant last said as an Annoris session.

Reads the hook's JSON from stdin (``transcript_path``, ``cwd``), takes the assistant's last
text message from the transcript, and POSTs a session document to
``$ANNORIS_URL/api/sessions/`` with ``$ANNORIS_TOKEN`` (a ``write`` token). The project is
the working folder's name unless ``ANNORIS_PROJECT`` is set.

Each different message becomes its own session (its title carries a digest of it); the same
message saved twice (a Stop, then a PreCompact with nothing said in between) is saved once,
through the ``Idempotency-Key``. It prints one line saying what happened (Claude Code shows
it in transcript mode) and always exits 0, so it never blocks the assistant. Standard library
only, Python 3.8 or later.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

MAX_CHARS = 8_000  # of the last message, kept from its end
MAX_REPORT = 500  # characters of a refusal's detail in the line printed


def last_assistant_text(transcript: Path) -> str:
    text = ""
    for line in transcript.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or entry.get("type") != "assistant":
            continue
        message = entry.get("message")
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, list):
            parts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
            text = "\n\n".join(p for p in parts if p.strip()) or text
    return text[-MAX_CHARS:]


def session_body(project: str, summary: str, today: str) -> tuple[dict, str]:
    """The document to POST and its Idempotency-Key, both fixed by the project, day and message."""
    digest = hashlib.sha256(f"{project}\n{today}\n{summary}".encode()).hexdigest()
    title = f"{project}: session {today} ({digest[:8]})"
    body = {
        "title": title,
        "project": project,
        "status": "in progress",
        "date": today,
        "content": f"# {title}\n\n## Where we are\n\n{summary}\n",
    }
    return body, f"claude-code-{digest[:48]}"


def save(hook: dict) -> str:
    """Post the session; returns the line to print."""
    url, token = os.environ.get("ANNORIS_URL", ""), os.environ.get("ANNORIS_TOKEN", "")
    if not url or not token:
        return "Annoris did not save the session: set ANNORIS_URL and ANNORIS_TOKEN (a write token)."
    summary = last_assistant_text(Path(hook["transcript_path"]))
    if not summary.strip():
        return "Annoris saved nothing: the transcript has no assistant message yet."
    project = os.environ.get("ANNORIS_PROJECT") or Path(hook.get("cwd") or os.getcwd()).name
    today = datetime.now(timezone.utc).date().isoformat()  # noqa: UP017 - datetime.UTC is 3.11+
    body, key = session_body(project, summary, today)
    request = urllib.request.Request(
        url.rstrip("/") + "/api/sessions/",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the configured URL
            saved = json.loads(response.read() or b"{}")
            return f"Annoris saved the session: {saved.get('path') or body['title']} ({response.status})."
    except urllib.error.HTTPError as error:  # refused: say why, in the server's words
        detail = error.read().decode("utf-8", "replace")
        try:
            detail = json.loads(detail).get("detail", detail)
        except (ValueError, AttributeError):
            pass
        return f"Annoris did not save the session ({error.code}): {detail}"


def main() -> int:
    try:
        line = save(json.load(sys.stdin))
    except Exception as error:  # noqa: BLE001 - never block the assistant on a save
        line = f"Annoris could not save the session: {type(error).__name__}: {error}"
    print(" ".join(line.split())[:MAX_REPORT])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
