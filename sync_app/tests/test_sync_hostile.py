"""A messy real repository: every bad file fails alone, with its reason, on every backend (issue 9).

These run on SQLite and, in CI's second pass, on PostgreSQL, where the NUL byte, the long
path and the non-UTF-8 file name used to roll back whole batches and leave logs open.
"""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annoris.sources.local import LocalSource
from sessions_app.models import Session
from sync_app.engine import run_sync
from sync_app.models import SyncLog

pytestmark = pytest.mark.django_db(transaction=True)

SHARED_ID = uuid.UUID("6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f")
BOMB = (
    "---\nl0: &l0 lol\n"
    + "".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 10))
    + "title: *l9\n---\n# Laughs\n"
)
LONG_PATH = "/".join(["d" * 200, "e" * 200, "f" * 120 + ".md"])  # 525 characters, each part < 255


def good(n: int) -> bytes:
    head = f"---\nid: {SHARED_ID}\n---\n" if n == 0 else ""
    return f"{head}# Good session {n}\n\n**Date:** October {n % 28 + 1}, 2025\n**Status:** ✅ Done\n".encode()


# path -> (bytes, what its reason in the log says)
BAD: dict[str, tuple[bytes, str]] = {
    "bad/nul-in-front-matter.md": (b'---\ntitle: "a\\0b"\n---\n# x\n', "NUL"),
    "bad/surrogate-in-front-matter.md": (b'---\nstatus: "\\ud800"\n---\n# x\n', "surrogate"),
    "bad/billion-laughs.md": (BOMB.encode(), "anchors or aliases"),
    "bad/deep.md": (b"---\na: " + b"[" * 3000 + b"]" * 3000 + b"\n---\n", "nests too deeply"),
    "bad/huge-front-matter.md": (b"---\na: '" + b"x" * 70_000 + b"'\n---\n", "front matter too large"),
    "bad/date-overflow.md": (b"---\ndate: 0001-01-01T00:00:00+05:00\n---\n# x\n", "out of range"),
    "bad/broken-yaml.md": (b"---\ntitle: [unclosed\n---\n# x\n", "not valid YAML"),
    "bad/binary.md": (b"\x00\x01\x02binary", "binary file"),
    "bad/latin1.md": ("# caf\xe9\n".encode("latin-1"), "not valid UTF-8"),
    "bad/too-large.md": (b"# big\n" + b"x" * 1_000_001, "too large"),
    "bad/bad-id.md": (b"---\nid: not-a-uuid\n---\n# x\n", "not a valid UUID"),
    "zzz/duplicate-id.md": (f"---\nid: {SHARED_ID}\n---\n# copy\n".encode(), "already used by"),
    LONG_PATH: (b"# long path\n", "path is 525 characters long (limit 500)"),
}
NOT_UTF8_NAME = b"bad/caf\xe9.md"  # a file name that is not UTF-8 (written on a Latin-1 system)


def build(root: Path, *, good_files: int = 50) -> None:
    for n in range(good_files):
        write(root / f"good/session-{n:02d}.md", good(n))
    for path, (data, _) in BAD.items():
        write(root / path, data)
    name = os.path.join(os.fsencode(root), NOT_UTF8_NAME)
    with open(name, "wb") as handle:
        handle.write(b"# not utf-8 name\n")


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_a_folder_of_every_bad_kind_lands_the_50_good_files_in_one_run(tmp_path: Path) -> None:
    build(tmp_path)
    result = run_sync(source=LocalSource(tmp_path, repository="acme/messy"))
    log = SyncLog.objects.get(pk=result.log_id)
    assert log.status == "partial" and log.finished_at is not None
    assert Session.objects.live().count() == 50 == result.counts["added"]
    assert Session.objects.get(id=SHARED_ID).github_path == "good/session-00.md"
    errors = {entry["path"]: entry["error"] for entry in log.details["errors"]}
    for path, (_, reason) in BAD.items():
        assert reason in errors.get(path, ""), (path, errors.get(path))
    assert "not UTF-8" in errors["bad/caf\\xe9.md"]  # the name is escaped, and the log is saved
    assert log.errors == len(BAD) + 1 == result.counts["failed"]
    # Before: every later run failed the same way. Now the next run is calm: nothing re-read.
    again = run_sync(source=LocalSource(tmp_path, repository="acme/messy"))
    assert again.status == "partial" and again.counts["unchanged"] == 50
    assert again.counts["failed"] == len(BAD) + 1
    assert not SyncLog.objects.filter(status="running").exists()


def test_a_bad_file_fixed_later_lands(tmp_path: Path) -> None:
    build(tmp_path, good_files=3)
    run_sync(source=LocalSource(tmp_path, repository="acme/messy"))
    write(tmp_path / "bad/nul-in-front-matter.md", b'---\ntitle: "fixed"\n---\n# x\n')
    result = run_sync(source=LocalSource(tmp_path, repository="acme/messy"))
    assert result.counts["added"] == 1
    assert Session.objects.get(github_path="bad/nul-in-front-matter.md").title == "fixed"


def test_a_field_longer_than_its_column_is_cut_not_fatal(tmp_path: Path) -> None:
    write(tmp_path / "p/long-fields.md", f"---\ntitle: {'t' * 400}\nnext: {'n' * 900}\n---\n".encode())
    result = run_sync(source=LocalSource(tmp_path, repository="acme/messy"))
    assert result.status == "success"
    row = Session.objects.get()
    assert len(row.title) <= 300 and len(row.next_step) == 500


# -- the delete guard (item 5) -------------------------------------------------------------


@pytest.fixture
def ten(tmp_path: Path) -> Path:
    for n in range(10):
        write(tmp_path / f"p/session-{n}.md", good(n + 1))
    assert run_sync(source=LocalSource(tmp_path, repository="acme/ten")).counts["added"] == 10
    return tmp_path


def source(root: Path) -> LocalSource:
    return LocalSource(root, repository="acme/ten")


def test_an_empty_source_deletes_nothing_and_fails_with_the_reason(ten: Path) -> None:
    for path in ten.rglob("*.md"):
        path.unlink()
    write(ten / "new/added-meanwhile.md", good(99))
    result = run_sync(source=source(ten))
    assert result.status == "failed"
    assert "refused to delete 10 of 10 live sessions" in result.error
    assert "--allow-deletes" in result.error and "SESSIONS_SOURCE" in result.error
    assert Session.objects.live().count() == 10  # and the new file was not added either
    assert SyncLog.objects.get(pk=result.log_id).status == "failed"


def test_deleting_more_than_the_ratio_needs_allow_deletes(ten: Path) -> None:
    for n in range(6):
        (ten / f"p/session-{n}.md").unlink()
    refused = run_sync(source=source(ten))
    assert refused.status == "failed" and "refused to delete 6 of 10" in refused.error
    assert Session.objects.live().count() == 10
    allowed = run_sync(source=source(ten), allow_deletes=True)
    assert allowed.status == "success" and allowed.counts["deleted"] == 6
    assert Session.objects.live().count() == 4


def test_deleting_up_to_the_ratio_goes_through(ten: Path) -> None:
    for n in range(5):
        (ten / f"p/session-{n}.md").unlink()
    result = run_sync(source=source(ten))
    assert result.status == "success" and result.counts["deleted"] == 5


def test_the_ratio_is_a_setting(ten: Path, settings: object) -> None:
    settings.SYNC_MAX_DELETE_RATIO = 1  # type: ignore[attr-defined]  # the guard off
    for path in ten.rglob("*.md"):
        path.unlink()
    assert run_sync(source=source(ten)).counts["deleted"] == 10


def test_sync_github_refuses_then_allows_with_the_flag(ten: Path, settings: object) -> None:
    settings.SESSIONS_SOURCE = str(ten)  # type: ignore[attr-defined]
    settings.GITHUB_REPO = "acme/ten"  # type: ignore[attr-defined]
    for path in ten.rglob("*.md"):
        path.unlink()
    with pytest.raises(CommandError, match="refused to delete 10 of 10") as caught:
        call_command("sync_github", stdout=io.StringIO(), stderr=io.StringIO())
    assert caught.value.returncode == 2
    assert Session.objects.live().count() == 10
    out = io.StringIO()
    call_command("sync_github", "--allow-deletes", stdout=out, stderr=io.StringIO())
    assert "10 deleted" in out.getvalue() and Session.objects.live().count() == 0


# -- dates that used to give a 500 or a lie through the API (item 7) -----------------------


@pytest.fixture
def api(db: None) -> object:
    from rest_framework.test import APIClient

    from annoris.api import tokens

    client = APIClient()
    _, token = tokens.issue(name="reader")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_dates_out_of_range_fail_the_file_and_read_as_422_not_500(
    tmp_path: Path, settings: object, api: object
) -> None:
    from django.urls import reverse

    from annoris.sources.base import session_id_for

    settings.SESSIONS_SOURCE = str(tmp_path)  # type: ignore[attr-defined]  # the API falls back to it
    settings.GITHUB_REPO = "acme/dates"  # type: ignore[attr-defined]
    write(tmp_path / "p/overflow.md", b"---\ndate: 0001-01-01T00:00:00+05:00\n---\n# Overflow\n")
    write(tmp_path / "p/year-one.md", b"# Year one\n\n**Date:** January 1, 0001\n")
    result = run_sync(source=LocalSource(tmp_path, repository="acme/dates"))
    assert [e["path"] for e in result.errors] == ["p/overflow.md"] and "out of range" in result.errors[0][
        "error"
    ]
    assert Session.objects.get(github_path="p/year-one.md").created_at.year == 1  # not 2001
    for path, status in (("p/overflow.md", 422), ("p/year-one.md", 200)):
        url = reverse("session-detail", args=[session_id_for("acme/dates", path)])
        response = api.get(url)  # type: ignore[attr-defined]
        assert response.status_code == status, response.content
        if status == 422:  # the file is there but cannot be served: it says why
            assert "out of range" in response.json()["detail"]
    body = api.get(reverse("session-detail", args=[session_id_for("acme/dates", "p/year-one.md")])).json()  # type: ignore[attr-defined]
    assert body["created_at"].startswith("0001-01-01")


# -- a refusal only the database knows: the batch is retried file by file (item 1) ---------

REFUSED_TITLE = "Refused by the database"


@pytest.fixture
def database_refuses_a_title() -> object:
    """A real constraint the code knows nothing of (as a DBA might add): that title is refused."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE sessions_app_session ADD CONSTRAINT h9_refuse "
                f"CHECK (title <> '{REFUSED_TITLE}')"
            )
        else:
            for event in ("INSERT", "UPDATE"):
                cursor.execute(
                    f"CREATE TRIGGER h9_refuse_{event.lower()} BEFORE {event} ON sessions_app_session "
                    f"WHEN NEW.title = '{REFUSED_TITLE}' BEGIN SELECT RAISE(ABORT, 'title refused'); END"
                )
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE sessions_app_session DROP CONSTRAINT IF EXISTS h9_refuse")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS h9_refuse_insert")
            cursor.execute("DROP TRIGGER IF EXISTS h9_refuse_update")


def test_a_row_the_database_refuses_fails_alone_and_the_batch_lands(
    tmp_path: Path, database_refuses_a_title: object
) -> None:
    for n in range(30):
        write(tmp_path / f"p/session-{n:02d}.md", good(n + 1))
    write(tmp_path / "p/session-15-refused.md", f"# {REFUSED_TITLE}\n".encode())
    result = run_sync(source=LocalSource(tmp_path, repository="acme/refused"))
    assert result.status == "partial"
    assert [e["path"] for e in result.errors] == ["p/session-15-refused.md"]
    assert Session.objects.count() == 30 == result.counts["added"]
    assert SyncLog.objects.get(pk=result.log_id).finished_at is not None
