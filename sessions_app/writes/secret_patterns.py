"""Credential shapes detect-secrets 1.5.0 misses, and the text tricks that hide a known one.

Found reaching GitHub in a hostile test (issue #20, finding 5): OpenAI project keys with a
``-`` near the ``T3BlbkFJ`` marker, bare ``npm_`` tokens, an unquoted
``aws_secret_access_key = <40 chars>``, ``redis://:password@host`` (an empty user),
Anthropic keys, ``POSTGRES_PASSWORD=`` style lines; also Google API keys, Hugging Face
tokens and ``password:`` in YAML or JSON. And keys broken by invisible characters (zero-width
space, soft hyphen, word joiner) or written in fullwidth letters, which ``normalise`` undoes
before scanning, and keys hidden in base64, which ``base64_hidden`` decodes.

Each pattern recognises a credential by its shape; a ``value`` group, when present, is what
a placeholder check sees (``***``, ``<password>``, ``${DB_PASSWORD}`` pass).
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Iterator

_PASSWORD_WORD = r"(?:password|passwd|pwd)"

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # OpenAI: project, service-account and admin keys, and any key around the T3BlbkFJ marker
    # ("openai" in base64), "-" and "_" allowed anywhere in it.
    ("OpenAI Token", re.compile(r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{30,}")),
    ("OpenAI Token", re.compile(r"\bsk-(?!ant-)[A-Za-z0-9_-]{8,}T3BlbkFJ[A-Za-z0-9_-]{8,}")),
    ("Anthropic Token", re.compile(r"\bsk-ant-(?:api|admin|oat|sid)\d{2}-[A-Za-z0-9_-]{30,}")),
    ("NPM tokens", re.compile(r"\bnpm_[A-Za-z0-9]{36}(?![A-Za-z0-9])")),
    ("Google API Key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])")),
    ("Hugging Face Token", re.compile(r"\b(?:hf|api_org)_[A-Za-z0-9]{30,}(?![A-Za-z0-9])")),
    (
        "AWS Secret Access Key",
        re.compile(
            r"(?i)\baws_?secret_?(?:access_?)?key\b[\"']?\s*[:=]>?\s*[\"']?(?P<value>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
        ),
    ),
    # Any URL with a password and an empty user name (redis://:pw@host); the user:pw@ form is
    # the Basic Auth detector's.
    (
        "Basic Auth Credentials",
        re.compile(r"(?i)\b[a-z][a-z0-9+.-]{1,30}://:(?P<value>[^\s/@]{1,200})@"),
    ),
    # POSTGRES_PASSWORD=, PGPASSWORD=, DB_PASSWORD=, export MYSQL_ROOT_PASSWORD="..." (a bare
    # password= is the Connection String detector's). The name's prefix is bounded: no backtracking.
    (
        "Password Assignment",
        re.compile(
            rf"(?i)(?<![a-z0-9_])[a-z0-9_]{{1,40}}{_PASSWORD_WORD}\s*=\s*[\"']?(?P<value>[^\s\"';&]{{1,200}})"
        ),
    ),
    # YAML ``password: value`` (a key at the start of a line, or of a list item): the value is
    # one token that is not a plain word, so "Password: rotated weekly" stays prose.
    (
        "YAML Password",
        re.compile(
            rf"(?im)^\s*(?:-\s+)?[\"']?(?:[a-z0-9_.-]*_)?{_PASSWORD_WORD}[\"']?\s*:\s+"
            r"[\"']?(?P<value>(?![A-Za-z][a-z]*[\"']?\s*$)[^\s\"'#]{4,200})[\"']?\s*(?:#.*)?$"
        ),
    ),
    # JSON ``"password": "value"``: a quoted string value is never prose.
    (
        "JSON Password",
        re.compile(rf"(?i)\"(?:[a-z0-9_.-]*_)?{_PASSWORD_WORD}\"\s*:\s*\"(?P<value>[^\"\\]{{1,200}})\""),
    ),
)

# Base64 of the start of a known token: ``Z2hwX`` is "ghp_", ``c2stcHJvai`` "sk-proj-"...
KNOWN_PREFIXES = (
    "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "sk-proj-", "sk-ant-",
    "sk-svcacct-", "xoxb-", "xoxp-", "xapp-", "AKIA", "ASIA", "npm_", "hf_", "AIza", "pypi-",
    "-----BEGIN",
)  # fmt: skip
_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")


def _encoded_prefix_pattern() -> re.Pattern[str]:
    """The base64 of each prefix at each of the three byte alignments, trimmed to the
    characters that do not depend on the bytes around it (both alphabets)."""
    cores: set[str] = set()
    for prefix in KNOWN_PREFIXES:
        raw = prefix.encode()
        for pad in range(3):
            encoded = base64.b64encode(b"\0" * pad + raw).decode()
            # Character i carries bits [6i, 6i + 6): keep those inside the prefix's bytes.
            start, end = -(-8 * pad // 6), 8 * (pad + len(raw)) // 6
            core = encoded[start:end]
            if len(core) >= 4:
                cores.add(core)
                cores.add(core.replace("+", "-").replace("/", "_"))
    return re.compile("|".join(sorted(map(re.escape, cores), key=len, reverse=True)))


_ENCODED_PREFIX = _encoded_prefix_pattern()


def normalise(text: str) -> str:
    """``text`` with invisible format characters removed and compatibility forms (fullwidth
    letters, ligatures) folded to plain ones, so ``ｇｈｐ＿…`` and ``gh\\u200bp_…`` scan as ``ghp_…``."""
    if text.isascii():
        return text
    # Format characters (Cf): soft hyphen, zero-width space and joiners, word joiner, BOM...
    stripped = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return unicodedata.normalize("NFKC", stripped)


def base64_hidden(text: str) -> Iterator[str]:
    """The decoded text of each base64 run in ``text`` that holds a known token prefix.

    Each run is decoded at most four times (one per starting offset: a run glued to other
    text may start mid-quantum), so the cost stays linear in the text.
    """
    for run in _B64_RUN.finditer(text):
        if not _ENCODED_PREFIX.search(run.group(0)):
            continue
        for shift in range(4):
            decoded = _decode(run.group(0)[shift:])
            if decoded and any(prefix in decoded for prefix in KNOWN_PREFIXES):
                yield decoded
                break


def _decode(run: str) -> str | None:
    body = run.rstrip("=")
    body = body[: len(body) - len(body) % 4] if len(body) % 4 == 1 else body
    padded = body + "=" * (-len(body) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.decode("utf-8", "ignore")
