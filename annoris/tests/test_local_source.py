"""LocalSource against a hostile folder: links out, FIFOs, sockets, /proc/self/mem, huge files.

Nothing outside the folder may be opened, stat'ed beyond lstat, or hashed; a FIFO
must not be opened (that blocks forever); no file is read past the size cap.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from annoris.sources.base import Listing, SourceError, SourceNotFound, git_blob_sha
from annoris.sources.local import MAX_FILE_BYTES, LocalSource

GOOD = b"# Good\n\nA real session.\n"
TWO_GB = 2 * 1024**3


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Files outside the sessions folder: a secret and a 2 GB sparse file."""
    out = tmp_path / "outside"
    out.mkdir()
    (out / ".env").write_bytes(b"GITHUB_TOKEN=ghp_secret\n")
    subprocess.run(["truncate", "-s", str(TWO_GB), str(out / "sparse.md")], check=True)
    return out


@pytest.fixture
def hostile(tmp_path: Path, outside: Path) -> Iterator[Path]:
    """A sessions folder with one good file and every kind of entry that must not be read."""
    root = tmp_path / "sessions"
    (root / "sub").mkdir(parents=True)
    (root / "good.md").write_bytes(GOOD)
    (root / "passwd.md").symlink_to("/etc/passwd")
    (root / "mem.md").symlink_to("/proc/self/mem")
    (root / "env.md").symlink_to(outside / ".env")
    (root / "sparse.md").symlink_to(outside / "sparse.md")
    (root / "sub" / "up.md").symlink_to("../../outside/.env")  # relative, still outside
    (root / "inside.md").symlink_to("good.md")  # a link, even to a file inside, is not a document
    (root / "etc").symlink_to("/etc")  # a folder link is not descended
    os.mkfifo(root / "pipe.md")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock.md"))
    try:
        yield root
    finally:
        sock.close()


def _list_within(source: LocalSource, seconds: float = 20) -> Listing:
    """list_files() on a thread, so a listing that blocks (on a FIFO) fails the test instead of hanging it."""
    box: dict[str, object] = {}
    worker = threading.Thread(target=lambda: box.update(listing=source.list_files()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "list_files() blocked (did it open a FIFO?)"
    return box["listing"]  # type: ignore[return-value]


def test_it_lists_only_the_regular_files_inside_and_names_what_it_skipped(hostile: Path) -> None:
    source = LocalSource(hostile)
    tracemalloc.start()
    try:
        listing = _list_within(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(f.path, f.sha) for f in listing.files] == [("good.md", git_blob_sha(GOOD))]
    skipped = dict(listing.skipped)
    assert set(skipped) == {
        "env.md", "inside.md", "mem.md", "passwd.md", "pipe.md", "sock.md", "sparse.md", "sub/up.md"
    }  # fmt: skip
    assert "symbolic link" in skipped["passwd.md"] and "symbolic link" in skipped["mem.md"]
    assert "FIFO" in skipped["pipe.md"] and "socket" in skipped["sock.md"]
    assert source.reads == 1  # good.md, hashed once
    assert peak < 8 * 1024 * 1024  # the 2 GB file behind sparse.md was never read
    assert list(source.state["stat"]) == ["good.md"]  # the hash cache holds nothing from outside
    assert git_blob_sha(Path("/etc/passwd").read_bytes()) not in repr(source.state)


def test_it_refuses_to_read_links_fifos_and_paths_that_leave_the_folder(hostile: Path) -> None:
    source = LocalSource(hostile)
    for path in ("passwd.md", "mem.md", "sparse.md", "sub/up.md", "etc/passwd", "../outside/.env"):
        with pytest.raises(SourceNotFound):
            source.read(path)
    with pytest.raises(SourceError, match="FIFO"):
        source.read("pipe.md")  # answered at once, not blocked
    assert source.read("good.md") == GOOD


def test_it_lists_an_oversized_file_without_opening_it(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_bytes(GOOD)
    subprocess.run(["truncate", "-s", str(TWO_GB), str(tmp_path / "huge.md")], check=True)
    source = LocalSource(tmp_path)
    tracemalloc.start()
    try:
        listing = _list_within(source)
        with pytest.raises(SourceError, match=r"file too large \(2147483648 bytes, limit 1000000\)"):
            source.read("huge.md")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Listed with its size, so the sync fails it by name and keeps its session (not deleted).
    sizes = {f.path: f.size for f in listing.files}
    assert sizes == {"good.md": len(GOOD), "huge.md": TWO_GB}
    assert source.reads == 1 and peak < 8 * 1024 * 1024


def test_it_never_reads_past_the_cap_even_when_a_file_grows(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes(b"x" * 100)
    source = LocalSource(tmp_path, max_bytes=100)
    assert source.read("a.md") == b"x" * 100
    (tmp_path / "a.md").write_bytes(b"x" * 101)
    with pytest.raises(SourceError, match="file too large"):
        source.read("a.md")
    assert LocalSource(tmp_path).max_bytes == MAX_FILE_BYTES


def test_it_writes_and_deletes_only_inside_the_folder(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "sessions"
    root.mkdir()
    (root / "out").symlink_to(outside)
    source = LocalSource(root)
    with pytest.raises(SourceNotFound):
        source.write("out/new.md", b"# x\n", sha=None, message="m")
    with pytest.raises(SourceNotFound):
        source.write("../escape.md", b"# x\n", sha=None, message="m")
    assert not (outside / "new.md").exists() and not (tmp_path / "escape.md").exists()
    written = source.write("2025/new.md", b"# New\n", sha=None, message="m")
    assert (root / "2025" / "new.md").read_bytes() == b"# New\n"
    source.delete("2025/new.md", sha=written.sha or "", message="m")
    assert not (root / "2025" / "new.md").exists()


def test_an_unreadable_file_is_listed_to_fail_alone(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    (tmp_path / "good.md").write_bytes(GOOD)
    locked = tmp_path / "locked.md"
    locked.write_bytes(b"# Locked\n")
    locked.chmod(0)
    source = LocalSource(tmp_path)
    listing = source.list_files()
    assert {f.path for f in listing.files} == {"good.md", "locked.md"}
    results = dict((f.path, data) for f, data in source.read_many(listing.files))
    assert results["good.md"] == GOOD and isinstance(results["locked.md"], SourceError)
