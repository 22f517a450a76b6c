"""gunicorn settings for the Procfile's web process; every value can be set from the environment.

PORT (8000), WEB_CONCURRENCY (worker processes, 2), GUNICORN_THREADS (1),
GUNICORN_TIMEOUT (30 s before a request's worker is aborted; the app answers 503 at 25 s),
GUNICORN_GRACEFUL_TIMEOUT (30 s to finish requests on SIGTERM), GUNICORN_KEEPALIVE (5 s),
GUNICORN_MAX_REQUESTS (10000 per worker before it is recycled), GUNICORN_PRELOAD (1),
FORWARDED_ALLOW_IPS (who may set X-Forwarded-*: "*" behind a platform's router).
The access log goes to stdout, one line per request with its X-Request-ID.
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# gunicorn's sync worker, but the requests gunicorn itself refuses (a NUL in a header, over its
# limits) are answered in the API's JSON error shape, not its HTML page (annoris/gunicorn_worker.py).
# With threads, gunicorn's gthread worker, whose error page stays gunicorn's.
worker_class = "annoris.gunicorn_worker.JsonErrorWorker" if threads == 1 else "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# The app stops a request itself this long before gunicorn's timeout would abort the worker
# (with gunicorn's HTML 500): its JSON 503 and the unwinding need the seconds left (annoris/deadline.py).
_deadline = max(timeout - 5, timeout / 2)
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Recycle workers now and then (a leak stays bounded). The app is loaded once in the master and
# forked (preload), so a new worker is ready in milliseconds: with a fresh import per worker,
# every recycle stalled its connections for ~0.5 s, which was the API read's whole p99.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
preload_app = os.environ.get("GUNICORN_PRELOAD", "1").strip().lower() not in ("0", "false", "no", "off")
# gunicorn answers a longer request line with its own HTML 414; the API's JSON 414 for a query
# over 4,096 characters (annoris/api/middleware.py) must come first, so this is gunicorn's maximum.
limit_request_line = int(os.environ.get("GUNICORN_LIMIT_REQUEST_LINE", "8190"))
# Likewise for headers: the API answers JSON 431 over 100 headers or a line over 8,190 bytes
# (annoris/api/middleware.py), so gunicorn's own HTML 431 waits at twice that.
limit_request_fields = 200
limit_request_field_size = 16380
accesslog = "-"
errorlog = "-"
# No query string (it may carry a search term), no user agent; the request id ties a line to the app's.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'

# gunicorn's own lines in the app's format: JSON in production (LOG_FORMAT, default json when
# DEBUG is off, as in settings.py), readable locally. Access lines carry the request id as a field.
_debug = os.environ.get("DEBUG", "true").strip().lower() in ("true", "on", "ok", "y", "yes", "1")
_format = os.environ.get("LOG_FORMAT", "plain" if _debug else "json")
_formatters = {
    "json": {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
    },
    "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
}
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "annoris.logs.GunicornRequestIdFilter"},
        "no_query": {"()": "annoris.log_scrub.QueryStringFilter"},  # error lines name no ?query (#20)
    },
    "formatters": {"app": _formatters[_format]},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "app",
            "filters": ["request_id"],
        },
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "app",
            "filters": ["request_id", "no_query"],
        },
    },  # fmt: skip
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": [], "level": "INFO"},
}


def when_ready(server):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """With preload, load once in the master what every worker would load alone, and share it
    copy-on-write with every fork: the context's tokenizers (~1 s) and, with hybrid search on,
    the sentence model (~120 MB, nearly all numpy arrays no worker writes to)."""
    if not preload_app:
        return
    try:
        from sessions_app.context.encoders import encoders

        encoders()
    except Exception:  # a worker loads them on its first count instead
        server.log.exception("could not preload the tokenizers")
    try:
        from sessions_app.search import preload_model

        preload_model()
    except Exception:  # a worker loads it on its first hybrid search instead
        server.log.exception("could not preload the sentence model")
    # Python's collector would otherwise write to every object it scans in each worker and
    # copy the pages holding them: freezing moves what the master holds out of its reach
    # (the use gc.freeze's documentation gives).
    import gc

    gc.freeze()


def post_worker_init(worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """A sync worker answers a request that outlasts ``_deadline`` itself, in JSON, before
    gunicorn's timeout aborts it with an HTML 500. Threaded workers (GUNICORN_THREADS > 1)
    keep beating while a request runs: gunicorn aborts none of their requests."""
    from gunicorn.workers.sync import SyncWorker

    if isinstance(worker, SyncWorker) and timeout > 0:
        from annoris.deadline import install

        install(_deadline)


def post_request(worker, req, environ, resp):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """A request the deadline stopped may have left this process half-way through anything:
    exit after its answer (as gunicorn's max_requests does) and let a fresh worker take over."""
    from annoris.deadline import EXPIRED

    if environ.get(EXPIRED):
        worker.log.warning("Worker exits after a request stopped at its deadline")
        worker.alive = False
