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


class ProjectHasSessions(Exception):
    """A project that live sessions still name cannot be deleted (the next sync would recreate it)."""


def project_create(*, name: str, **fields: object) -> Project:
    """A new project with a stable id derived from its name."""
    name = name.strip()[:255]
    return Project.objects.create(id=project_id_for(name), name=name, **fields)


def project_update(*, project: Project, **fields: object) -> Project:
    """Change ``fields`` of ``project`` (a rename refreshes its cached sessions: a signal)."""
    for name, value in fields.items():
        setattr(project, name, value.strip() if name == "name" and isinstance(value, str) else value)
    project.save()
    return project


def project_delete(*, project: Project) -> None:
    """Delete ``project`` unless live sessions belong to it (ProjectHasSessions)."""
    live = project.sessions.filter(deleted_at__isnull=True).count()
    if live:
        raise ProjectHasSessions(f"{live} session(s) still belong to this project; move or delete them first")
    project.delete()
