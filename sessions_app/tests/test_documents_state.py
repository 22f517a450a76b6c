"""The state derived from a free-text status: emoji and words, English and Russian."""

from __future__ import annotations

import pytest

from sessions_app.documents import derive_state


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("✅ Backoff shipped, 0 bans in the last 6 hours", "done"),
        ("✔️ merged", "done"),
        ("Done: schema applied", "done"),
        ("Готово, выкачено в прод", "done"),
        ("🔄 Pilot annotation: 2 annotators", "in_progress"),
        ("In progress (day 2)", "in_progress"),
        ("in-progress", "in_progress"),
        ("В процессе: разметка", "in_progress"),
        ("⚠️ Checkout works, webhooks half-done", "blocked"),
        ("⚠ no variation selector", "blocked"),
        ("🚧 Day 0 and day 3 live, day 7 in review", "blocked"),
        ("⏸️ waiting for legal", "blocked"),
        ("BLOCKED by the Stripe review", "blocked"),
        ("Заблокировано: нет доступа", "blocked"),
        ("📋 next sprint", "planned"),
        ("Planned for Q4", "planned"),
        ("Запланировано на пятницу", "planned"),
        ("ACTIVE", "unknown"),
        ("undone and unfinished", "unknown"),
        ("", "unknown"),
    ],
)
def test_state_from_status(status: str, state: str) -> None:
    assert derive_state(status) == state


def test_the_first_marker_wins() -> None:
    assert derive_state("✅ checkout done, 🔄 webhooks in progress") == "done"
    assert derive_state("Blocked until the fix is done") == "blocked"
