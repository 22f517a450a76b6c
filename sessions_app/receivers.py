"""Wiring only: changes made elsewhere that invalidate cached sessions.

Projects are edited in the admin (projects_app cannot import sessions_app: the
dependency points the other way), and a cached session carries its project's
name, so a saved project refreshes its sessions in the cache after commit.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from projects_app.models import Project
from sessions_app.services import sessions_project_changed


@receiver(post_save, sender=Project, dispatch_uid="sessions_app.project_saved")
def project_saved(sender: type[Project], instance: Project, created: bool, **kwargs: Any) -> None:
    if not created:
        sessions_project_changed(project_id=instance.pk)
