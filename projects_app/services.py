"""Writes to projects."""

from __future__ import annotations

from projects_app.models import Project, project_id_for


def project_get_or_create(*, name: str) -> Project:
    """The project called ``name`` (case-insensitively), created with a stable id if new."""
    name = name.strip()[:255]
    existing = Project.objects.filter(name__iexact=name).first()
    if existing is not None:
        return existing
    project, _ = Project.objects.get_or_create(id=project_id_for(name), defaults={"name": name})
    return project
