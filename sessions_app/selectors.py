"""Reads of sessions that views share: the list's filters."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet

from projects_app.selectors import ProjectNotFound, find_project
from sessions_app.models import Session


def filter_sessions(queryset: QuerySet[Session], params: dict[str, Any]) -> QuerySet[Session]:
    """Apply validated ``SessionFilters`` to ``queryset``."""
    if not params.get("deleted"):
        queryset = queryset.live()
    if project := params.get("project"):
        queryset = queryset.filter(_project_q(project))
    if state := params.get("state"):
        queryset = queryset.filter(state=state)
    for name in ("status", "priority"):
        if value := params.get(name):
            queryset = queryset.filter(**{f"{name}__iexact": value})
    if (after := params.get("created_after")) is not None:
        queryset = queryset.filter(created_at__gte=after)
    if (before := params.get("created_before")) is not None:
        queryset = queryset.filter(created_at__lt=before)
    for word in (params.get("q") or "").split()[:10]:
        queryset = queryset.filter(Q(title__icontains=word) | Q(github_path__icontains=word))
    return queryset


def _project_q(value: str) -> Q:
    """A project by id, name, slug or folder (``find_project``); an unknown one matches nothing."""
    try:
        return Q(project_id=find_project(value).pk)
    except ProjectNotFound:
        return Q(project_id=_NO_PROJECT)


_NO_PROJECT = uuid.UUID(int=0)
