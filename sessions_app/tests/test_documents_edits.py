"""Small edits of a session document: only the edited lines change (sessions_app.documents.edits)."""

from __future__ import annotations

from datetime import date

import pytest

from sessions_app.documents.edits import (
    EditError,
    append,
    check_step,
    keep_front_matter,
    merge_fields,
    replace_section,
)
from sessions_app.documents.nextsteps import extract_steps

DOC = (
    "---\ntitle: 'Outbox: design'\nstatus: in progress\n---\n# Outbox\n\n**Date:** 2025-10-20\n\n"
    "## Decided\n\nWrites go to GitHub first.\n\n## Next steps\n\n- [ ] Deploy the worker to staging\n"
    "- Write the runbook\n\n```\n- [ ] not a step, code\n## not a heading\n```\n\n## Notes\nfoo\n"
)


def test_it_appends_at_the_end_after_a_blank_line() -> None:
    assert append(DOC, "Decided later: keep it.") == DOC + "\nDecided later: keep it.\n"
    assert append("no newline", "x") == "no newline\n\nx\n"


def test_it_appends_at_the_end_of_a_section_in_any_case() -> None:
    edited = append(DOC, "Also: retries back off.", section="DECIDED")
    assert edited == DOC.replace("first.\n\n## Next", "first.\n\nAlso: retries back off.\n\n## Next")


def test_it_replaces_a_section_and_keeps_the_heading_and_the_rest() -> None:
    edited = replace_section(DOC, "## Decided", "Writes are queued.")
    assert edited == DOC.replace("Writes go to GitHub first.", "Writes are queued.")


def test_a_heading_inside_a_code_fence_is_not_a_section() -> None:
    with pytest.raises(EditError, match="No section is headed 'not a heading'; the headings are: 'Outbox'"):
        replace_section(DOC, "not a heading", "x")


def test_it_checks_off_a_step_by_its_words_and_the_parser_sees_it_closed() -> None:
    edited = check_step(DOC, "deploy the WORKER")
    assert edited == DOC.replace("- [ ] Deploy", "- [x] Deploy")
    assert "Deploy the worker to staging" not in extract_steps(edited).open
    plain = check_step(DOC, "Write the runbook")
    assert plain == DOC.replace("- Write the runbook\n", "- Write the runbook ✅\n")
    assert extract_steps(plain).open == ("Deploy the worker to staging",)


def test_an_unknown_or_ambiguous_step_is_one_sentence() -> None:
    with pytest.raises(EditError, match=r"^No open step matches 'ship it'; the open steps are: 'Deploy"):
        check_step(DOC, "ship it")
    with pytest.raises(EditError, match="matches 2 steps"):
        check_step("- [ ] write the docs\n- [ ] write the tests\n", "write the")


def test_line_endings_and_front_matter_stay_byte_for_byte() -> None:
    crlf = DOC.replace("\n", "\r\n")
    assert check_step(crlf, "deploy the worker") == crlf.replace("- [ ] Deploy", "- [x] Deploy")
    assert append(crlf, "x").startswith(crlf) and append(crlf, "x").endswith("\r\n\r\nx\r\n")


def test_a_resent_body_keeps_the_front_matter() -> None:
    assert (
        keep_front_matter(DOC, "# New\n") == "---\ntitle: 'Outbox: design'\nstatus: in progress\n---\n# New\n"
    )
    assert keep_front_matter(DOC, "---\ntitle: x\n---\n# New\n") == "---\ntitle: x\n---\n# New\n"


def test_given_fields_merge_with_the_bodys_and_never_override_them() -> None:
    markdown, fields = merge_fields(
        DOC, {"status": "In  Progress", "date": date(2025, 10, 20), "priority": "high"}
    )
    assert (markdown, fields) == (DOC, {"priority": "high"})
    with pytest.raises(EditError, match=r"^date is '2025-10-21' but the document says '2025-10-20'"):
        merge_fields(DOC, {"date": date(2025, 10, 21)})
    with pytest.raises(EditError, match="status is 'done' but the document says 'in progress'"):
        merge_fields(DOC, {"status": "done"})


def test_given_next_steps_join_the_next_steps_section_or_start_one() -> None:
    markdown, _ = merge_fields(DOC, {"next": ["Write the runbook", "Load-test the outbox"]})
    assert markdown == DOC.replace("```\n\n## Notes", "```\n\n- [ ] Load-test the outbox\n\n## Notes")
    fresh, _ = merge_fields("# Title\n\nBody.\n", {"next": ["Ship it"]})
    assert fresh == "# Title\n\nBody.\n\n## Next steps\n\n- [ ] Ship it\n"
