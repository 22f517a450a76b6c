"""Admin for sessions: a read-only mirror of the repository, the document rendered like GitHub.

The list fits a laptop screen (title over path, the derived state, the date as written);
the page shows the document full width, where the file lives (GitHub or the local folder),
which read-path layer served it and, once ``sync_app`` adds it, its history of sync actions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from annoris.admin_site import ReadOnlyAdmin
from annoris.crypto import DecryptionError
from sessions_app.models import Session, SessionState
from sessions_app.readpath import SessionNotFound, SessionUnavailable
from sessions_app.rendering import render_inline, render_markdown
from sessions_app.search import search_session_ids

_STATE_COLOURS = {
    SessionState.DONE: "#2e7d32",
    SessionState.IN_PROGRESS: "#1565c0",
    SessionState.BLOCKED: "#c62828",
    SessionState.PLANNED: "#6a1b9a",
    SessionState.UNKNOWN: "#757575",
}
# Rows read into Python for a case-folding search on SQLite (its LIKE folds ASCII only).
_SQLITE_SEARCH_SCAN = 20000


class LiveFilter(admin.SimpleListFilter):
    title = "file in repository"
    parameter_name = "live"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Present"), ("no", "Deleted from repository")]

    def queryset(self, request: HttpRequest, queryset):  # type: ignore[no-untyped-def]
        if self.value() == "yes":
            return queryset.live()
        if self.value() == "no":
            return queryset.deleted()
        return queryset


class ProjectFilter(admin.RelatedFieldListFilter):
    """ "By project", where sessions whose document names no project read "No project", not "-"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.empty_value_display = "No project"


class DocumentDateFilter(admin.DateFieldListFilter):
    """Django's date filter, titled "By date" (the document's date) rather than "By created at"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = "date"


def written_date(session: Session) -> str:
    """The date as the document gave it, in the pages' one style: the day (2025-10-24), plus its
    time of day only when it gave one (2025-10-22 21:15, or 2025-10-24, night)."""
    day = formats.date_format(session.created_at, "DATE_FORMAT")
    written = session.created_time
    if not written:
        return day
    return f"{day} {written}" if written[:1].isdigit() else f"{day}, {written.lower()}"


def github_web_url() -> str:
    """github.com, or a GitHub Enterprise Server's web root derived from its API URL."""
    api = settings.GITHUB_API_URL
    return "https://github.com" if api == "https://api.github.com" else api.removesuffix("/api/v3")


def body_search_ids(term: str) -> list[Any]:
    """Session ids whose title or body holds every word of ``term``, from the blind search
    index (the bodies stay encrypted; nothing is decrypted here)."""
    ids, _total = search_session_ids(term, limit=None)
    return ids


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    list_display = ("title_and_path", "project", "state_badge", "date_written", "present")
    list_display_links = ("title_and_path",)
    list_filter = (LiveFilter, ("project", ProjectFilter), "state", ("created_at", DocumentDateFilter))
    list_select_related = ("project",)
    search_fields = ("title", "github_path", "status", "next_step")
    search_help_text = "Words from the title, the document body, the path, status or next step (any case)."
    date_hierarchy = "created_at"
    ordering = ("-created_at", "github_path")  # same day and time (or none written): by path
    change_form_template = "admin/sessions_app/session/change_form.html"
    readonly_fields = (
        "title", "project", "status", "state_badge", "priority", "next_html", "date_written", "github_path",
        "github_sha", "checksum", "last_synced", "deleted_at", "id",
    )  # fmt: skip
    fieldsets = (
        (None, {"fields": (("status", "state_badge"), "priority", "next_html", "date_written", "project")}),
        (
            "Repository",
            {
                "classes": ("collapse",),
                "fields": ("github_path", "github_sha", "checksum", "last_synced", "deleted_at", "id"),
            },
        ),
    )

    @admin.display(description="session", ordering="title")
    def title_and_path(self, obj: Session) -> SafeString:
        return format_html('{}<div class="annoris-path">{}</div>', obj.title, obj.github_path)

    @admin.display(description="state", ordering="state")
    def state_badge(self, obj: Session) -> SafeString:
        colour = _STATE_COLOURS.get(obj.state, "#757575")
        return format_html(
            '<span class="annoris-badge" style="background:{}" title="{}">{}</span>',
            colour,
            obj.status or "no status written",
            obj.get_state_display(),
        )

    @admin.display(description="date", ordering="created_at")
    def date_written(self, obj: Session) -> str:
        return written_date(obj)

    @admin.display(description="next")
    def next_html(self, obj: Session) -> SafeString:
        # render_inline sanitises with an allow-list, so the result is safe to mark.
        return mark_safe(render_inline(obj.next_step)) if obj.next_step else mark_safe("—")  # noqa: S308

    @admin.display(boolean=True, description="in repo")
    def present(self, obj: Session) -> bool:
        return obj.deleted_at is None

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Session], search_term: str
    ) -> tuple[QuerySet[Session], bool]:
        words = search_term.split()
        if not words:
            return queryset, False
        indexed = body_search_ids(search_term)
        if connections[queryset.db].vendor == "sqlite":
            found = self._casefold_search(queryset, words)
        else:  # PostgreSQL's UPPER() folds every script, so Django's own search does it
            found, _ = super().get_search_results(request, queryset, search_term)
        found = found | queryset.filter(pk__in=indexed)
        return found, False

    def _casefold_search(self, queryset: QuerySet[Session], words: list[str]) -> QuerySet[Session]:
        """Every word in one of the search fields, folding case for every script (SQLite's LIKE
        folds ASCII only, so "Бан" would miss "бан"). Bounded to the newest rows."""
        needles = [word.casefold() for word in words]
        rows = queryset.order_by("-created_at").values_list("pk", *self.search_fields)[:_SQLITE_SEARCH_SCAN]
        ids = [
            pk
            for pk, *fields in rows
            if all(any(needle in (field or "").casefold() for field in fields) for needle in needles)
        ]
        return queryset.filter(pk__in=ids)

    # --- the session page ------------------------------------------------------------------

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if obj is not None:
            context.update(self.document_context(obj))
        return super().change_view(request, object_id, form_url, extra_context=context)

    def document_context(self, obj: Session) -> dict[str, Any]:
        """The rendered document, the layer that served it, where it lives, its sync history."""
        served, session = self._served(obj)
        try:
            text = session.text
        except DecryptionError as exc:
            document = format_html('<p class="errornote">Cannot decrypt: {}</p>', str(exc))
        else:
            # render_markdown sanitises with an allow-list, so the result is safe to mark.
            document = mark_safe(render_markdown(text))  # noqa: S308
        history = self.sync_actions(obj)
        return {
            "document_html": document,
            "served": served,
            "location": self.location(obj, history),
            "sync_history": history,
        }

    def _served(self, obj: Session) -> tuple[str, Session]:
        """Read the session through the read path, as the API does, and say which layer answered."""
        if obj.deleted_at is not None:
            return "database (this file was deleted from the repository; the last copy is kept)", obj
        try:
            fetched = Session.objects.fetch(obj.pk)
        except SessionNotFound:
            return "database (the read path no longer finds it live)", obj
        except SessionUnavailable:
            return "database (the read path is unavailable right now)", obj
        return f"{fetched.layer} ({fetched.elapsed_ms:.1f} ms, read for this page)", fetched.session

    def location(self, obj: Session, history: list[dict[str, Any]]) -> dict[str, str]:
        """Links to the file and to the last commit a sync saw it at, or its local path."""
        if settings.SESSIONS_SOURCE != "github":
            return {"local_path": str(Path(settings.SESSIONS_SOURCE) / obj.github_path)}
        base = f"{github_web_url()}/{settings.GITHUB_REPO}"
        links = {"file_url": f"{base}/blob/{settings.GITHUB_BRANCH}/{obj.github_path}"}
        revision = next((entry["revision"] for entry in history if entry.get("revision")), "")
        if revision:
            links |= {"commit": revision, "commit_url": f"{base}/commit/{revision}"}
        return links

    def sync_actions(self, obj: Session) -> list[dict[str, Any]]:
        """The sync runs that touched this file, newest first. Sync logs belong to ``sync_app``
        (which imports this app, not the reverse): its admin registers a subclass that fills this."""
        return []


from sessions_app import outbox_admin  # noqa: E402,F401 - registers the outbox (pending writes) admin
