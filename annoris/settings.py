"""Settings for Annoris, read once from the environment through django-environ.

Every value has a local default so a fresh checkout runs with nothing set:
SQLite, no cache layer, the sample sessions shipped in ``samples/sessions`` and
a development encryption key. With DEBUG off, the secrets must be real.
"""

from __future__ import annotations

from pathlib import Path

import environ
from csp.constants import NONCE

from annoris import crypto
from annoris.errors import ConfigurationError
from annoris.oauth import config as oauth_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; a missing file is fine


# --- Core -------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=True)
_DEV_SECRET_KEY = "django-insecure-annoris-development-only"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ConfigurationError("SECRET_KEY must be set when DEBUG is off")

# --- Encryption at rest -----------------------------------------------------

_keys = env.str("ANNORIS_ENCRYPTION_KEYS", default="")
if not _keys:
    if not DEBUG:
        raise ConfigurationError("ANNORIS_ENCRYPTION_KEYS must be set when DEBUG is off")
    _keys = crypto.DEVELOPMENT_KEYRING
try:
    ANNORIS_KEYRING = crypto.parse_keyring(_keys)
except crypto.KeyringError as exc:
    raise ConfigurationError(str(exc)) from None
if not DEBUG and crypto.DEVELOPMENT_KEY_ID in ANNORIS_KEYRING.ids:
    raise ConfigurationError(
        "ANNORIS_ENCRYPTION_KEYS contains the development key; generate one with `manage.py generate_key`"
    )
del _keys

# --- Applications -----------------------------------------------------------

INSTALLED_APPS = [
    "annoris.apps.AnnorisAdminConfig",  # django.contrib.admin with Annoris's site (apps first, health panel)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served by the app (no CDN)
    "django_q",
    "csp",
    "annoris.apps.AnnorisConfig",
    "oauth2_provider",  # the OAuth 2.1 server for remote connectors (issue #16)
    "annoris.oauth.apps.OAuthConfig",
    "projects_app",
    "sessions_app",
    "sync_app",
]

MIDDLEWARE = [
    "annoris.logs.RequestIdMiddleware",  # first: every later log line of the request carries its id
    "annoris.deadline.RequestDeadlineMiddleware",  # JSON 503 before gunicorn's timeout (gunicorn.conf.py)
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "annoris.api.middleware.ApiGuardMiddleware",  # /api/ only: body limit, NUL bytes, JSON errors
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "annoris.urls"
WSGI_APPLICATION = "annoris.wsgi.application"
ASGI_APPLICATION = "annoris.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],  # overrides of third-party templates (Swagger UI's CSP nonce)
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Tuning (timeouts, retries, backoffs, leases, intervals) is written below as commented
# constants, not read from the environment: deployments choose what changes between them
# (issue #18). Tests override the constants with pytest-django's ``settings``, and the tests
# that start processes use annoris/tests/settings_tuned.py.

# --- Database -----------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A dead database must not stall reads (issue #4): the read path's breaker skips it
    # after the first failure, so these bound what that first failure costs.
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options.setdefault("connect_timeout", 2)  # seconds
    # Server-side cap per statement (ms, 0 = none); raise it for long migrations if needed.
    _statement_ms = env.int("DATABASE_STATEMENT_TIMEOUT", default=15000)
    if _statement_ms:
        _pg_options.setdefault("options", f"-c statement_timeout={_statement_ms}")
    # A peer that vanished (no RST) is noticed by keepalives on idle connections and by
    # tcp_user_timeout (ms of unacknowledged data) on busy ones, not after minutes of TCP retries.
    _pg_options.setdefault("keepalives", 1)
    _pg_options.setdefault("keepalives_idle", 30)
    _pg_options.setdefault("keepalives_interval", 5)
    _pg_options.setdefault("keepalives_count", 3)
    _pg_options.setdefault("tcp_user_timeout", 5000)
    del _pg_options, _statement_ms
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The search index's covering index (INCLUDE) is a PostgreSQL speed-up; SQLite builds the
    # same index without the included columns, and says so on every command.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache layer (on only when REDIS_URL is set: configuration, never code) ---

REDIS_URL = env.str("REDIS_URL", default="")
ANNORIS_CACHE_TTL = env.int("ANNORIS_CACHE_TTL", default=3600)  # one hour, as in the seed
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("ANNORIS_CACHE_PREFIX", default="annoris"),
            "TIMEOUT": ANNORIS_CACHE_TTL,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.25,
                "SOCKET_TIMEOUT": 0.25,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
ANNORIS_SESSION_CACHE = "default" if REDIS_URL else None
# The read path (issue #4): a layer that fails is skipped for this many seconds, then probed.
ANNORIS_BREAKER_COOLDOWN = env.float("ANNORIS_BREAKER_COOLDOWN", default=5.0)
# The read path replays durable pending cache invalidations (writes whose cache refresh
# failed: Redis paused, killed, partitioned) at most this many seconds apart, per process.
ANNORIS_CACHE_SWEEP_INTERVAL = 10.0
# GitHub as the read path's last layer: per-request timeout (s) and retries, kept short so
# "unavailable" comes in bounded time; the sync keeps the client's patient defaults.
ANNORIS_SOURCE_TIMEOUT = 3.0
ANNORIS_SOURCE_RETRIES = 1
# Seconds the read path reuses a source listing to map ids to paths (one conditional call after).
ANNORIS_SOURCE_LISTING_TTL = 30.0

# --- Assistant interface: context, next steps, search (issue #8) --------------------
# Newest sessions a context or a next-steps list reads (and decrypts), per request: tuning,
# not a deployment choice (the budgets cut what is shown; this bounds what is decrypted).
ANNORIS_CONTEXT_SESSIONS = 30
# Hybrid search: keyword ranking fused with a sentence model's similarity (issue #17).
ANNORIS_SEARCH_SEMANTIC = env.bool("ANNORIS_SEARCH_SEMANTIC", default=True)

# --- Session source (GitHub or a local directory) ------------------------------

SESSIONS_SOURCE = env.str("SESSIONS_SOURCE", default=str(BASE_DIR / "samples" / "sessions"))
SESSIONS_GLOB = env.str("SESSIONS_GLOB", default="**/*.md")
GITHUB_REPO = env.str("GITHUB_REPO", default="")
GITHUB_BRANCH = env.str("GITHUB_BRANCH", default="main")
GITHUB_TOKEN = env.str("GITHUB_TOKEN", default="")
GITHUB_WEBHOOK_SECRET = env.str("GITHUB_WEBHOOK_SECRET", default="")
# Largest webhook body accepted (413 above it); GitHub does not deliver payloads over 25 MB.
GITHUB_WEBHOOK_MAX_BYTES = env.int("GITHUB_WEBHOOK_MAX_BYTES", default=25 * 1024 * 1024)
GITHUB_API_URL = env.str("GITHUB_API_URL", default="https://api.github.com").rstrip("/")
# Sync's patience with GitHub: read timeout per request (s), and the most time one
# request may spend waiting out 5xx retries and rate limits (s) before failing the run.
GITHUB_TIMEOUT = env.float("GITHUB_TIMEOUT", default=15.0)
GITHUB_MAX_WAIT = 60.0
SYNC_SCHEDULE = env.int("SYNC_SCHEDULE", default=15)  # minutes between scheduled syncs
# Delete guard: a sync that would soft-delete more than this share of the live sessions
# (or all of them) deletes nothing and fails; 1 turns the guard off.
SYNC_MAX_DELETE_RATIO = env.float("SYNC_MAX_DELETE_RATIO", default=0.5)
if SESSIONS_SOURCE == "github" and not GITHUB_REPO:
    raise ConfigurationError("GITHUB_REPO must be set (as 'owner/name') when SESSIONS_SOURCE=github")

# --- Session writes through the API (issue #7): paths, outbox, idempotency ----------
# Where a new session goes when the request names no path. Placeholders: {project}, {date}
# (YYYY-MM-DD), {year}, {month}, {day}, {slug} (from the title). An empty {project} drops its
# folder. The result must match SESSIONS_GLOB.
SESSIONS_PATH_PATTERN = env.str("SESSIONS_PATH_PATTERN", default="sessions/{project}/{date}_{slug}.md")
SESSIONS_SLUG_MAX_LENGTH = 60
# A write's patience with GitHub before it goes to the outbox (202): read timeout (s) per request.
ANNORIS_WRITE_TIMEOUT = 10.0
# Outbox retries: first delay and cap (s, exponential with jitter), the lease a worker holds on
# an entry while it tries it (longer than one GitHub attempt), and how long one drain task keeps
# retrying before leaving the rest to the schedule.
ANNORIS_OUTBOX_BACKOFF = 5.0
ANNORIS_OUTBOX_MAX_BACKOFF = 600.0
ANNORIS_OUTBOX_LEASE = 60.0
ANNORIS_OUTBOX_DRAIN_SECONDS = 20.0
# A write GitHub never answered may still land: wait this long before sending it again (#20;
# GitHub cuts a request off after 10 s server-side, so a minute leaves a wide margin).
ANNORIS_OUTBOX_SETTLE_SECONDS = 60.0
# How long an Idempotency-Key is remembered (s), and after how long a request that never
# finished (its process died) stops holding its key. A day covers any client's retries.
ANNORIS_IDEMPOTENCY_TTL = 24 * 3600
ANNORIS_IDEMPOTENCY_LOCK_SECONDS = 120

# --- Task queue (django-q2) -----------------------------------------------------
# The ORM broker keeps queued syncs in the database, which survives restarts;
# Redis here is a cache and may be run without persistence.

Q_CLUSTER = {
    "name": "annoris",
    "orm": "default",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 600,
    "retry": 900,
    "max_attempts": 1,
    "catch_up": False,
    "sync": env.bool("Q_SYNC", default=False),
}

# /health says "degraded" when a queued task has waited longer than this (seconds): no worker runs.
ANNORIS_QUEUE_STALE_AFTER = 300

# --- REST API (issue #7) ----------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "annoris.oauth.authentication.OAuthTokenAuthentication",  # first: it leaves ann_ tokens alone
        "annoris.api.authentication.ApiTokenAuthentication",
        "annoris.api.authentication.ApiSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["annoris.api.permissions.ScopePermission"],
    "DEFAULT_THROTTLE_CLASSES": ["annoris.api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": [
        "annoris.api.renderers.JSONRenderer",  # DRF's JSON, written by orjson
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "annoris.api.parsers.JSONParser",  # DRF's, with a non-recursive depth limit (#20)
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "annoris.api.negotiation.FastDefaultNegotiation",
    "EXCEPTION_HANDLER": "annoris.api.errors.exception_handler",
    "VIEW_DESCRIPTION_FUNCTION": "annoris.api.root.view_description",  # docstrings as markdown
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Annoris API",
    "DESCRIPTION": (
        "Sessions, projects and sync of Annoris. Authenticate with `Authorization: Bearer <token>` "
        "(`manage.py api_token create`); errors are always `{detail, code, errors}`."
    ),
    "VERSION": "1.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": True,
    "SERVE_PERMISSIONS": ["annoris.api.permissions.ScopePermission"],  # nothing under /api/ is public
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "annoris.api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ProjectStatusEnum": "projects_app.models.Project.Status",
        "SyncStatusEnum": "sync_app.models.SyncLog.Status",
        "SyncTriggerEnum": "sync_app.models.SyncLog.Source",
        "SessionStateEnum": "sessions_app.models.SessionState",
    },
}
# A process re-asks the database about a token it verified this many seconds ago: the
# bound on how long a revoked token keeps working (the revoking process forgets it at once).
ANNORIS_TOKEN_RECHECK = env.float("ANNORIS_TOKEN_RECHECK", default=30.0)
# While the database is down, tokens verified within this many seconds (by any process,
# shared hashed through the cache layer) still authenticate; also the longest a token
# revoked mid-outage lives on. An hour: outages shorter than that go unnoticed by clients.
ANNORIS_TOKEN_MEMORY_TTL = 3600
ANNORIS_TOKEN_CACHE = ANNORIS_SESSION_CACHE  # where that shared memory lives (None: process only)
# Requests per token and per web process (process-local counters: no Redis round trip;
# with N processes a token may make N times this). Empty: no throttling.
ANNORIS_API_THROTTLE_RATE = env.str("ANNORIS_API_THROTTLE_RATE", default="1200/min")
# Failed authentications per client IP and web process before tokens from it get 429 (#20).
ANNORIS_AUTH_FAILURE_RATE = env.str("ANNORIS_AUTH_FAILURE_RATE", default="60/min")
# Largest request body under /api/ (413 above it).
ANNORIS_API_MAX_BODY_BYTES = env.int("ANNORIS_API_MAX_BODY_BYTES", default=2 * 1024 * 1024)

# --- OAuth 2.1 for remote connectors (issue #16, annoris/oauth/) -------------------
# This deployment's public URL: the OAuth issuer, with /mcp as its protected resource. Every
# metadata URL is built from it, never from the Host header. Unset (the default with DEBUG
# off): no authorization server, static API tokens only. http is refused unless loopback.
ANNORIS_PUBLIC_URL = oauth_config.public_url(
    env.str("ANNORIS_PUBLIC_URL", default="http://localhost:8000" if DEBUG else "")
)
OAUTH2_PROVIDER = oauth_config.provider_settings(
    ANNORIS_PUBLIC_URL or "https://oauth.invalid",
    access_token_seconds=env.int("ANNORIS_OAUTH_ACCESS_TOKEN_SECONDS", default=3600),  # an hour
)
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"  # named: connections point at it
# Dynamic registrations accepted per client IP and hour (each one is a database row); a
# connector registers once, so 20 is generous for people and small for a flood.
ANNORIS_OAUTH_REGISTRATIONS_PER_HOUR = 20
# Tests only: client metadata documents may be fetched from loopback addresses. Refused with DEBUG off.
ANNORIS_OAUTH_CIMD_ALLOW_LOOPBACK = env.bool("ANNORIS_OAUTH_CIMD_ALLOW_LOOPBACK", default=False)
if ANNORIS_OAUTH_CIMD_ALLOW_LOOPBACK and not DEBUG:
    raise ConfigurationError("ANNORIS_OAUTH_CIMD_ALLOW_LOOPBACK is for tests only; DEBUG is off")
LOGIN_URL = "oauth-login"  # the consent page's login: the admin's look, open to non-staff users
# DOT warns (W008) whenever "http" redirect URIs are allowed; annoris.oauth.redirects allows
# http for loopback hosts only (RFC 8252 native apps), at registration and at authorization.
SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "oauth2_provider.W008"]

# --- Auth, i18n, static ---------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
FORMAT_MODULE_PATH = ["annoris.formats"]  # one date style on every page: 2026-12-06 11:50 UTC
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))  # collectstatic writes here
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Deployment security (issue #11) ----------------------------------------------
# On by default with DEBUG off, so `check --deploy` is clean; each can be switched by env.
# Behind a TLS-terminating proxy (Railway, Heroku, a load balancer) Django sees plain HTTP:
# SECURE_PROXY_SSL_HEADER names the header the proxy sets ("HTTP_X_FORWARDED_PROTO,https",
# the default with DEBUG off); set it empty when clients reach gunicorn directly.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health$"]  # platform probes call /health over plain HTTP
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
_proxy_header = env.list(
    "SECURE_PROXY_SSL_HEADER", default=[] if DEBUG else ["HTTP_X_FORWARDED_PROTO", "https"]
)
if _proxy_header:
    if len(_proxy_header) != 2:
        raise ConfigurationError(
            "SECURE_PROXY_SSL_HEADER must be '<header>,<value>', e.g. HTTP_X_FORWARDED_PROTO,https"
        )
    SECURE_PROXY_SSL_HEADER = (_proxy_header[0], _proxy_header[1])
del _proxy_header

# Content-Security-Policy (django-csp): scripts only from this origin or with the request's
# nonce, no plugins, no framing. Inline style attributes are allowed because the admin, the
# browsable API and Swagger UI set them; styles cannot run code. Swagger UI's assets must be
# served locally (drf-spectacular-sidecar); its inline script gets the nonce from our override
# of its template (templates/drf_spectacular/swagger_ui.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
if env.str("CSP_REPORT_URI", default=""):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [env.str("CSP_REPORT_URI")]

# --- Logging (issue #11) ------------------------------------------------------------
# LOG_FORMAT=json (the default with DEBUG off): one JSON object per line; "plain" reads well
# in a terminal. Every line logged while a request is handled carries its request_id (the
# proxy's X-Request-ID when it sends a sane one, else a new one; echoed in the response).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ConfigurationError("LOG_FORMAT must be 'json' or 'plain'")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "annoris.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django_q": {"level": "WARNING"},
        # Django's own console handler (DEBUG only) printed each django.* line a second time, bare,
        # beside the root handler's copy (issue #19): django.* lines go to the root handler alone.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
