"""schemathesis against the running app (issue #7): every operation, a write token, bounded examples.

The app is pytest-django's live server (a real HTTP server in this process, on the test
database); schemathesis runs as its own process, as a user would run it. Checks: no 5xx,
only documented status codes, content types and headers, bodies that match the schema,
and no operation that answers without credentials. ~1 minute; the seed is fixed so CI is
reproducible (``ANNORIS_SCHEMATHESIS_SEED`` to explore others, ``..._EXAMPLES`` for more).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from annoris.api import tokens
from annoris.sources.local import LocalSource
from sync_app.engine import run_sync

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "ignored_auth",
]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_response_outside_the_schema(
    live_server: Any, settings: Any, local_source: LocalSource, sample_dir: Path, tmp_path: Path
) -> None:
    settings.ANNORIS_API_THROTTLE_RATE = ""  # the fuzzer sends hundreds of requests with one token
    settings.SESSIONS_SOURCE = str(sample_dir)  # writes land in this test's copy, never in samples/
    run_sync(source=local_source)
    _, secret = tokens.issue(name="schemathesis", scope="write")
    st = Path(sys.executable).with_name("st")
    command = [
        str(st), "run", f"{live_server.url}/api/schema/",
        "--header", f"Authorization: Bearer {secret}",
        "--checks", ",".join(CHECKS),
        "--max-examples", os.environ.get("ANNORIS_SCHEMATHESIS_EXAMPLES", "5"),
        "--seed", os.environ.get("ANNORIS_SCHEMATHESIS_SEED", "1"),
        "--request-timeout", "10",
        "--no-color",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)  # noqa: S603
    report = done.stdout[-8000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    selected = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", report)
    assert selected, report
    assert selected.group(1) == selected.group(2) == selected.group(3)  # every operation was tested
