"""A GitHub REST API emulator over a real git repository, for tests and benchmarks.

``GitHubEmulator`` is the entry point; see ``server.py`` for an example.
"""

from __future__ import annotations

from annoris.testing.github_emulator.faults import Call
from annoris.testing.github_emulator.server import GitHubEmulator

__all__ = ["Call", "GitHubEmulator"]
