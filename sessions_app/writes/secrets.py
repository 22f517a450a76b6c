"""Secret scanning of a write before it leaves for the source (GitHub is where a leak would stay).

detect-secrets' maintained detectors, configured here in code (no baseline file): the ones
that recognise a credential by its shape. The entropy and keyword detectors are left out:
in prose notes full of commit SHAs and the word "password" they would refuse honest text.
A few patterns they miss are added (fine-grained GitHub tokens, every PEM private key
block, ``password=`` in connection strings, any ``scheme://user:password@`` URL).

A finding names the line and the kind, never the value. Redacted values (``***``,
``<password>``, ``${DB_PASSWORD}``) are not secrets, so an assistant that redacts and
retries gets through.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

from sessions_app.writes.secret_patterns import PATTERNS, base64_hidden, normalise

# Only analyze_string() is called: it matches text and never verifies a secret over the network.
_PLUGINS: tuple[RegexBasedDetector, ...] = tuple(
    plugin()
    for plugin in (
        ArtifactoryDetector, AWSKeyDetector, AzureStorageKeyDetector, BasicAuthDetector,
        DiscordBotTokenDetector, GitHubTokenDetector, GitLabTokenDetector, JwtTokenDetector,
        MailchimpDetector, NpmDetector, OpenAIDetector, PrivateKeyDetector, PypiTokenDetector,
        SendGridDetector, SlackDetector, SquareOAuthDetector, StripeDetector,
        TelegramBotTokenDetector, TwilioKeyDetector,
    )
)  # fmt: skip

# What detect-secrets 1.5.0 misses and session notes do hold.
_OWN: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("GitHub Token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}")),
    ("GitHub Token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}")),
    ("Private Key", re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")),
    (
        "Connection String Password",
        re.compile(r"(?i)(?<![\w-])(?:password|passwd|pwd)\s*=\s*(?P<value>[^\s;'\"&]{1,200})"),
    ),
    (
        "Basic Auth Credentials",
        re.compile(r"(?i)\b[a-z][a-z0-9+.-]{1,30}://[^\s/:@]{1,200}:(?P<value>[^\s/@]{1,200})@"),
    ),
)

# Lines longer than this are scanned in overlapping windows, so no pattern ever runs over
# an unbounded string (a 1 MB one-line document costs the same as a thousand lines).
_WINDOW = 4096
_OVERLAP = 512
_PLACEHOLDER = re.compile(
    r"^(?:[*xX.•…_-]+|<[^<>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{\{[^{}]*\}\}|%\(?[A-Za-z_]+\)?s?|"
    r"password|passwd|pass|secret|changeme|redacted|\[redacted\])$",
    re.IGNORECASE,
)


@dataclass(frozen=True, order=True)
class Finding:
    """A secret found on ``line`` (1-based) of the scanned text; ``kind`` as detect-secrets names it."""

    line: int
    kind: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.kind}"


def scan_text(text: str) -> list[Finding]:
    """Every (line, kind) that holds a secret, in line order; [] when the text is clean."""
    found: set[Finding] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        for window in _windows(line):
            found.update(Finding(number, kind) for kind in _kinds_unmasked(window))
    return sorted(found)


def _windows(line: str) -> Iterator[str]:
    if len(line) <= _WINDOW:
        yield line
        return
    for start in range(0, len(line), _WINDOW - _OVERLAP):
        yield line[start : start + _WINDOW]


def _kinds_unmasked(text: str) -> Iterator[str]:
    """The kinds in ``text`` as written, with invisible and fullwidth characters undone, and
    inside base64 that decodes to a known token prefix (issue #20)."""
    yield from _kinds(text)
    plain = normalise(text)
    if plain != text:
        yield from _kinds(plain)
    for decoded in base64_hidden(plain):
        yield from (f"Base64-encoded {kind}" for kind in _kinds(decoded))


def _kinds(text: str) -> Iterator[str]:
    for plugin in _PLUGINS:
        if any(not _is_placeholder(value) for value in plugin.analyze_string(text)):
            yield plugin.secret_type
    for kind, pattern in (*_OWN, *PATTERNS):
        for match in pattern.finditer(text):
            value = match.groupdict().get("value") or match.group(0)
            if not _is_placeholder(value):
                yield kind
                break


def _is_placeholder(value: str) -> bool:
    """A redacted or templated value: ``***``, ``<token>``, ``${DB_PASSWORD}``, ``password``..."""
    return bool(_PLACEHOLDER.match(value.strip("'\"")))
