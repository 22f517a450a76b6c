"""Template filters for showing sessions on other apps' pages (the project page)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from sessions_app.models import Session
from sessions_app.rendering import render_inline

register = template.Library()


@register.filter
def markdown_inline(text: str) -> SafeString:
    """One line of markdown (code spans, emphasis, links) as sanitised HTML."""
    return mark_safe(render_inline(text or ""))  # noqa: S308 - render_inline sanitises (allow-list)


@register.filter
def written_date(session: Session) -> str:
    """The session's date as its document gave it (see sessions_app.admin.written_date)."""
    from sessions_app.admin import written_date as _written_date

    return _written_date(session)


@register.filter
def state_badge(session: Session) -> SafeString:
    from sessions_app.admin import SessionAdmin

    return SessionAdmin.state_badge(None, session)  # type: ignore[arg-type]
