"""Small edits of a session through the write path (issue #15): no document is resent.

``session_edit`` reads the session as it is (or as the outbox will leave it), checks the
writer's SHA, applies one text edit of ``sessions_app.documents.edits`` and hands the result
to ``session_update``: the same secret scan, If-Match check, source commit and outbox as
any other update. Only the edited lines change; everything else goes out byte for byte.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from annoris.sources.base import Source
from sessions_app.documents import edits
from sessions_app.writes.errors import InvalidDocument
from sessions_app.writes.outbox import outbox_open_entries
from sessions_app.writes.service import (  # the update's own steps (current text, If-Match), not copies
    WriteOutcome,
    _check_precondition,
    _current,
    _live_row,
    session_update,
)


@dataclass(frozen=True)
class Edit:
    """One edit: exactly one of ``append`` (a paragraph; at the end of ``section`` when given),
    ``replace_with`` (the new text under the heading ``section``) or ``check_step`` (a step's
    words: its ``- [ ]`` becomes ``- [x]``)."""

    append: str | None = None
    section: str | None = None
    replace_with: str | None = None
    check_step: str | None = None

    def problem(self) -> str | None:
        """Why this edit cannot be made, as a sentence; None when it is well formed."""
        given = [n for n in ("append", "replace_with", "check_step") if getattr(self, n) is not None]
        if len(given) != 1:
            return "Give exactly one of append, replace_with or check_step."
        if self.replace_with is not None and not (self.section or "").strip():
            return "replace_with needs section: the heading of the section to replace."
        if self.check_step is not None and self.section is not None:
            return "section goes with append or replace_with, not with check_step."
        return None

    def apply(self, text: str) -> str:
        """``text`` edited; ``edits.EditError`` when the section or step is not there."""
        if self.append is not None:
            return edits.append(text, self.append, section=self.section)
        if self.replace_with is not None:
            return edits.replace_section(text, self.section or "", self.replace_with)
        return edits.check_step(text, self.check_step or "")


def session_edit(
    *,
    session_id: uuid.UUID,
    if_match: str | None,
    edit: Edit,
    requested_by: str = "",
    source: Source | None = None,
) -> WriteOutcome:
    """Apply ``edit`` to the session and write it like an update (If-Match, secrets, outbox).

    InvalidDocument (422) when the edit is malformed or names a section or step the
    document does not have; the other refusals are the update's.
    """
    problem = edit.problem()
    if problem:
        raise InvalidDocument(problem, errors={"edit": [problem]})
    row = _live_row(session_id)
    current_sha, current_text = _current(row, outbox_open_entries(row.github_path))
    _check_precondition(if_match, current_sha)
    try:
        text = edit.apply(current_text)
    except edits.EditError as exc:
        raise InvalidDocument(str(exc), errors={"edit": [str(exc)]}) from None
    return session_update(
        session_id=session_id, if_match=current_sha, content=text, requested_by=requested_by, source=source
    )
