"""Deploy settings: Django's deployment checklist, the switches for a TLS proxy, CSP, request ids,
gunicorn's config file."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from annoris import crypto

ROOT = Path(__file__).resolve().parents[2]


def _production_env(**extra: str) -> dict[str, str]:
    import os

    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return keep | {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ANNORIS_ENCRYPTION_KEYS": crypto.generate_key("k-prod"),
        "ALLOWED_HOSTS": "annoris.example.com",
        "DATABASE_URL": "sqlite:////nonexistent/check-needs-no-database.sqlite3",
        **extra,
    }


def _check_deploy(**extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=_production_env(**extra), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_check_deploy_is_clean_under_production_settings() -> None:
    done = _check_deploy()
    assert done.returncode == 0, done.stderr + done.stdout
    assert "System check identified no issues" in done.stdout


@pytest.mark.parametrize(
    ("switch", "warning"),
    [
        ({"SECURE_SSL_REDIRECT": "0"}, "security.W008"),
        ({"SECURE_HSTS_SECONDS": "0"}, "security.W004"),
        ({"SESSION_COOKIE_SECURE": "0"}, "security.W012"),
    ],
)
def test_each_protection_can_be_switched_off_by_env_and_check_says_so(switch: dict, warning: str) -> None:
    done = _check_deploy(**switch)
    assert done.returncode != 0 and warning in done.stderr + done.stdout


def test_a_malformed_proxy_header_setting_is_refused_in_one_line() -> None:
    done = _check_deploy(SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert done.returncode != 0 and "SECURE_PROXY_SSL_HEADER must be" in done.stderr


def test_gunicorn_reads_port_concurrency_and_timeout_from_the_environment() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--print-config", "annoris.wsgi"],
        cwd=ROOT, env=_production_env(PORT="18799", WEB_CONCURRENCY="3", GUNICORN_TIMEOUT="45"),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    config = {
        k.strip(): v.strip()
        for k, v in (line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    }
    assert config["bind"] == "['0.0.0.0:18799']", done.stdout + done.stderr
    assert config["workers"] == "3" and config["timeout"] == "45"
    assert config["accesslog"] == "-"


@pytest.mark.django_db
def test_the_preloaded_app_has_imported_what_a_first_request_needs() -> None:
    """gunicorn forks workers from the preloaded module: a recycled worker must not import the
    URLconf, the read path or redis-py on its first request (that was ~180 ms, the API's p99)."""
    probe = (
        "import sys, annoris.wsgi; "
        "print(' '.join(m for m in ('annoris.api.urls', 'sessions_app.readpath.read', 'redis', "
        "'django_redis.client') if m not in sys.modules))"
    )
    env = _production_env(REDIS_URL="redis://127.0.0.1:1/0", ALLOWED_HOSTS="127.0.0.1")
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"imported only on the first request: {done.stdout}"


def test_pages_carry_a_content_security_policy_with_a_nonce_for_scripts(admin_client: Client) -> None:
    for url in ("/", "/admin/", "/admin/login/"):
        policy = Client().get(url)["Content-Security-Policy"] if url != "/admin/" else None
        policy = policy or admin_client.get(url)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives["default-src"] == "'self'", url
        assert (
            directives["script-src"].startswith("'self'") and "unsafe-inline" not in directives["script-src"]
        )
        assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"


@pytest.mark.django_db
def test_every_response_has_a_request_id_and_a_sane_proxy_id_is_kept() -> None:
    client = Client()
    own = client.get("/health")["X-Request-ID"]
    assert len(own) == 32 and own != client.get("/health")["X-Request-ID"]
    assert client.get("/health", HTTP_X_REQUEST_ID="router-abc12345")["X-Request-ID"] == "router-abc12345"
    forged = client.get("/health", HTTP_X_REQUEST_ID="x\nINFO forged line")["X-Request-ID"]
    assert "\n" not in forged and "forged" not in forged


@pytest.mark.django_db
def test_the_landing_page_says_what_this_is_and_links_admin_docs_and_health() -> None:
    client = Client()
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Annoris" in html and 'href="/admin/"' in html and 'href="/health"' in html
    assert 'href="/api/docs/"' in html or 'href="/api/schema/"' in html


@pytest.mark.django_db
def test_swagger_uis_inline_script_carries_the_policys_nonce(admin_client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ROOT_URLCONF = "annoris.tests.docs_urls"
    response = admin_client.get("/api/docs/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    html = response.content.decode()
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline), inline
