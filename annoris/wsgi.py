"""WSGI entry point (gunicorn annoris.wsgi)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annoris.settings")
application = get_wsgi_application()


def _import_what_requests_use() -> None:
    """Import now what Django otherwise imports on the first request: the URLconf with every
    view module and its reverse() index, and the cache backends with their clients (redis-py):
    ~170 modules in all.

    gunicorn preloads this module in its master and forks workers from it, so a worker that
    replaces a recycled one (``max_requests``) starts ready. Left lazy, each new worker's
    first request paid ~180 ms of imports while its connections queued: most of the API
    read's p99 under load (bench/api_read.py). Nothing here opens a connection.
    """
    from django.conf import settings
    from django.core.cache import caches
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018 - imports the URLconf and its views, indexes reverse()
    for alias in settings.CACHES:
        caches.create_connection(alias)  # builds a backend (imports its client); no socket is opened


_import_what_requests_use()
