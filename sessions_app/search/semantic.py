"""Search by meaning (placeholder until the encrypted vector store lands)."""

from __future__ import annotations


def available() -> bool:
    return False


def fuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN201
    raise NotImplementedError
