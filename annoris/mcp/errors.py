"""Every error a model can cause, as one plain sentence saying what to change (issue #15).

The SDK answers a bad argument with pydantic's dump ("1 validation error for ...", the
input, an errors.pydantic.dev link) and prefixes every tool error with "Error executing
tool X:". ``sentence`` turns both into one sentence: which argument, what it must be.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError
from pydantic_core import ErrorDetails


def sentence(exc: ToolError, tool: str) -> str:
    """The message of ``exc`` (raised while calling ``tool``) as one plain sentence."""
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        return _validation(cause, tool)
    if isinstance(cause, ToolError):
        return _end(str(cause))
    text = str(exc)
    if text.startswith("Unknown tool:"):
        return f"There is no tool {tool!r}; call tools/list to see the tools."
    prefix = f"Error executing tool {tool}: "
    return _end(text.removeprefix(prefix))


def _validation(error: ValidationError, tool: str) -> str:
    problems = [_problem(detail) for detail in error.errors(include_url=False, include_input=False)]
    first = problems[0] if problems else f"the arguments of {tool} are not valid"
    if len(problems) > 1:
        first += f" (and {len(problems) - 1} more: {', '.join(_where(d) for d in error.errors()[1:4])})"
    return _end(first)  # it starts with the argument's name, as the model writes it


def _where(detail: ErrorDetails) -> str:
    return ".".join(str(part) for part in detail["loc"]) or "arguments"


def _problem(detail: ErrorDetails) -> str:
    where = _where(detail)
    kind = detail["type"]
    ctx: dict[str, Any] = dict(detail.get("ctx") or {})
    simple = {
        "missing": f"{where} is required",
        "string_type": f"{where} must be text",
        "int_type": f"{where} must be a whole number",
        "int_parsing": f"{where} must be a whole number",
        "int_from_float": f"{where} must be a whole number",
        "bool_type": f"{where} must be true or false",
        "bool_parsing": f"{where} must be true or false",
        "list_type": f"{where} must be a list",
        "date_from_datetime_parsing": f"{where} must be a date such as 2025-10-20",
        "date_parsing": f"{where} must be a date such as 2025-10-20",
        "date_type": f"{where} must be a date such as 2025-10-20",
        "datetime_parsing": f"{where} must be a date or time such as 2025-10-20 or 2025-10-20T14:30:00Z",
        "datetime_from_date_parsing": f"{where} must be a date or time such as 2025-10-20",
        "datetime_type": f"{where} must be a date or time such as 2025-10-20",
        "extra_forbidden": f"{where} is not an argument of this tool; leave it out",
    }
    if kind in simple:
        return simple[kind]
    if kind in ("less_than_equal", "less_than"):
        return f"{where} must be at most {ctx.get('le', ctx.get('lt'))}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"{where} must be at least {ctx.get('ge', ctx.get('gt'))}"
    if kind == "string_too_long":
        return f"{where} must be at most {ctx.get('max_length')} characters; shorten it"
    if kind == "string_too_short":
        return f"{where} must not be empty" if ctx.get("min_length") == 1 else f"{where} is too short"
    if kind == "too_long":
        return f"{where} may hold at most {ctx.get('max_length')} items"
    if kind == "literal_error":
        return f"{where} must be one of {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        return f"{where} is not in the expected form"
    return f"{where} is not valid ({detail['msg'].rstrip('.')})"


def _end(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "?", "!")) else text + "."
