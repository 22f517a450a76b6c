"""Settings for bench/api_read.py: the real settings, plus the bare comparison view's URL."""

from annoris.settings import *  # noqa: F403

ROOT_URLCONF = "api_read_urls"
