"""The stored checksum is keyed: it confirms no guessed document to someone holding only the
database (issue #20, smaller findings), and key rotation rewrites it under the new key."""

from __future__ import annotations

import hashlib

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from annoris import crypto
from annoris.sources.local import LocalSource
from sessions_app.models import Session
from sessions_app.rotation import sessions_rotate_keys
from sessions_app.services import content_checksum
from sync_app.engine import run_sync

pytestmark = pytest.mark.django_db


def test_a_synced_session_stores_no_hash_of_its_plaintext(local_source: LocalSource) -> None:
    run_sync(source=local_source)
    row = Session.objects.live().order_by("github_path").first()
    assert row is not None
    text = row.text
    guesses = {
        hashlib.md5(text.encode()).hexdigest(),  # noqa: S324 - what the column held before
        hashlib.sha1(text.encode()).hexdigest()[:32],  # noqa: S324
        hashlib.sha256(text.encode()).hexdigest()[:32],
    }
    assert row.checksum not in guesses
    assert row.checksum == content_checksum(text) and len(row.checksum) == 32


def test_rotation_rewrites_the_checksum_under_the_new_key(
    local_source: LocalSource, settings: SettingsWrapper, new_keyring: crypto.Keyring
) -> None:
    run_sync(source=local_source)
    before = dict(Session.objects.values_list("id", "checksum"))
    settings.ANNORIS_KEYRING = new_keyring

    sessions_rotate_keys()

    after = {row.id: row for row in Session.objects.all()}
    assert all(after[i].checksum != old for i, old in before.items())
    assert all(row.checksum == content_checksum(row.text) for row in after.values())
    assert settings.ANNORIS_KEYRING.keys[0][0] == "k-new"
