"""The MCP prompt ``save_this_session``: how a model writes a good session document (issue #15)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

DESCRIPTION = "How to write this work session down as a good session document and save it."

GUIDE = """Write down this work session as one Annoris session document; save it with save_session.

A good session document lets the next session (yours or a person's) pick up the work without asking:

# <What was done, in a few words>

**Date:** <YYYY-MM-DD>
**Status:** <done | in progress | blocked | planned, and a few words>
**Project:** {project}

## Decided
- Each decision, with its reason in one line.

## Done
- What was built or changed, with file names, commands and numbers that were measured.

## Open questions
- What is still unclear, and who or what can answer it.

## Next steps
- [ ] One concrete step per line, small enough to start at once.

Rules:
- Write facts, not a diary: decisions, results, numbers, names of files and commands.
- Never write secrets (tokens, passwords, keys): the save is refused if one is found.
- A step finished in this session is written "- [x] step"; to close a step of an earlier
  session, call edit_session with check_step instead of repeating it.
- Keep it under about 800 words; link to code or issues instead of pasting them.
- Pass date, status and next to save_session only when the document does not already say them.
"""


def save_this_session(
    project: Annotated[
        str | None, Field(max_length=255, description="The project the session belongs to.")
    ] = None,
) -> str:
    """The guide, with the project filled in when given."""
    return GUIDE.replace("{project}", " ".join(project.split()) if project else "<the project's name>")
