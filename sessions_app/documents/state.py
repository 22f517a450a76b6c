"""A session's ``state``, derived from its free-text status (which itself stays as written).

People write statuses like "✅ Backoff shipped", "🔄 Pilot annotation" or "В процессе".
The state is the first marker found in the status, by position: an emoji or a word, in
English or Russian. ``unknown`` when none is found. Pure Python (no Django).
"""

from __future__ import annotations

import re

DONE, IN_PROGRESS, BLOCKED, PLANNED, UNKNOWN = "done", "in_progress", "blocked", "planned", "unknown"
STATES = (DONE, IN_PROGRESS, BLOCKED, PLANNED, UNKNOWN)

# Emoji are matched without their variation selector (U+FE0F), which writers add or omit.
_EMOJI = {
    "\u2705": DONE,  # ✅
    "\u2714": DONE,  # ✔
    "\u2611": DONE,  # ☑
    "\U0001f504": IN_PROGRESS,  # 🔄
    "\u23f3": IN_PROGRESS,  # ⏳
    "\U0001f6a7": BLOCKED,  # 🚧
    "\u26a0": BLOCKED,  # ⚠
    "\u23f8": BLOCKED,  # ⏸
    "\U0001f6d1": BLOCKED,  # 🛑
    "\u274c": BLOCKED,  # ❌
    "\U0001f4cb": PLANNED,  # 📋
    "\U0001f5d3": PLANNED,  # 🗓
}
_WORDS = {
    DONE: (
        r"done|complete|completed|finished|shipped|resolved|"
        r"готово|сделано|завершено|завершена|завершён|выполнено|закрыто"
    ),
    IN_PROGRESS: r"in[ -]progress|wip|ongoing|underway|в процессе|в работе|выполняется",
    BLOCKED: r"blocked|on hold|paused|stuck|заблокировано|заблокирована|блокер|на паузе|приостановлено",
    PLANNED: r"planned|to ?do|not started|запланировано|запланирована|в планах|план",
}
_PATTERN = re.compile(
    "|".join(
        [f"(?P<e{i}>{re.escape(emoji)})" for i, emoji in enumerate(_EMOJI)]
        + [f"(?P<{state}>\\b(?:{words})\\b)" for state, words in _WORDS.items()]
    ),
    re.IGNORECASE,
)
_EMOJI_BY_GROUP = {f"e{i}": state for i, state in enumerate(_EMOJI.values())}


def derive_state(status: str) -> str:
    """The state the status names first: done, in_progress, blocked, planned, or unknown."""
    match = _PATTERN.search(status or "")
    if match is None:
        return UNKNOWN
    group = match.lastgroup or ""
    return _EMOJI_BY_GROUP.get(group, group)
