"""Reading GitHub's repository archive (a gzipped tar) as it streams, one member at a time."""

from __future__ import annotations

import tarfile
from collections.abc import Iterator

import requests

from annoris.sources.base import SourceUnavailable


def archive_files(resp: requests.Response, ref: str) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of every regular file in the archive answer ``resp``; closes it when done.

    Reference: https://docs.github.com/en/rest/repos/contents#download-a-repository-archive-tar
    """
    try:
        # "r|gz" reads the stream once, front to back: memory stays at one member.
        with tarfile.open(fileobj=resp.raw, mode="r|gz", encoding="utf-8") as archive:
            for member in archive:
                if not member.isfile():
                    continue  # directories, symlinks, submodules
                _, _, path = member.name.partition("/")  # drop "<owner>-<repo>-<sha>/"
                handle = archive.extractfile(member)
                if path and handle is not None:
                    yield path, handle.read()
    except (requests.RequestException, tarfile.TarError, OSError, EOFError) as exc:
        raise SourceUnavailable(f"GitHub archive download failed for {ref}: {type(exc).__name__}") from None
    finally:
        resp.close()
