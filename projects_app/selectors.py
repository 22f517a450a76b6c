"""Finding a project the way people and models name it: id, name, slug or folder, in any case."""

from __future__ import annotations

import difflib
import re
import uuid

from annoris.errors import DomainError
from annoris.text import unstorable
from projects_app.models import Project, project_id_for

MAX_REFERENCE = 255


class ProjectNotFound(DomainError, LookupError):
    """No project answers to a reference; the message names the closest one when there is one."""

    status_code = 404
    code = "not_found"


def project_key(text: str) -> str:
    """The form names are compared in: case-folded, with runs of spaces, ``-`` and ``_`` as one ``-``.

    "Lingua Drift", "lingua-drift" and "LINGUA_DRIFT" share the key ``lingua-drift``.
    """
    return re.sub(r"[\s_-]+", "-", text.strip().casefold()).strip("-")


def find_project(reference: Project | uuid.UUID | str) -> Project:
    """The project named by ``reference``: an instance, an id, a name, a slug or a folder name.

    Raises ProjectNotFound with "no project 'X'; did you mean 'Y'?" when a close name exists.
    """
    if isinstance(reference, Project):
        return reference
    if isinstance(reference, uuid.UUID):
        found = Project.objects.filter(id=reference).first()
        if found is None:
            raise ProjectNotFound(f"no project with id {reference}")
        return found
    text = str(reference).strip()
    if not text or unstorable(text) or len(text) > MAX_REFERENCE:
        raise ProjectNotFound(f"no project {text[:80]!r}")
    ids = [project_id_for(text)]  # a project's id derives from its name
    try:
        ids.append(uuid.UUID(text))
    except ValueError:
        pass
    found = Project.objects.filter(id__in=ids).first() or Project.objects.filter(name__iexact=text).first()
    if found is not None:
        return found
    key = project_key(text)
    names = list(Project.objects.values_list("name", flat=True))
    by_key = {project_key(name): name for name in names}
    if key in by_key:
        return Project.objects.get(name=by_key[key])
    raise ProjectNotFound(_not_found_message(text, key, by_key))


def _not_found_message(text: str, key: str, by_key: dict[str, str]) -> str:
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.6)
    message = f"no project {text[:80]!r}"
    if close:
        message += f"; did you mean {by_key[close[0]]!r}?"
    return message
