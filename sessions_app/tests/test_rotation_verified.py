"""rotate_keys proves its work: every row must decrypt under the primary key (issue 9, item 6).

It once said "Re-encrypted 0 session(s)" and exited 0 while every row stayed under the
old key: when the old and new key ids differed only in case (SQLite's LIKE ignores case)
and when a different key reused the old id. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings

from annoris import crypto
from sessions_app.models import Session
from sessions_app.rotation import sessions_rotate_keys

pytestmark = pytest.mark.django_db


def _rotate(keyring: crypto.Keyring) -> tuple[str, str, CommandError | None]:
    out, err = io.StringIO(), io.StringIO()
    with override_settings(ANNORIS_KEYRING=keyring):
        try:
            call_command("rotate_keys", batch_size=2, stdout=out, stderr=err)
        except CommandError as exc:
            return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


@pytest.fixture
def under_k1(synced: list[Session]) -> tuple[crypto.Keyring, list[Session]]:
    """Every session re-encrypted under a key with id 'k1'; returns that keyring."""
    k1 = crypto.parse_keyring(crypto.generate_key("k1"))
    with override_settings(ANNORIS_KEYRING=crypto.Keyring(k1.keys + settings.ANNORIS_KEYRING.keys)):
        assert sessions_rotate_keys().verified
    assert {crypto.key_id_of(s.content) for s in Session.objects.all()} == {"k1"}
    return k1, synced


def test_a_clean_rotation_says_it_verified_every_row(under_k1: tuple[crypto.Keyring, list[Session]]) -> None:
    k1, synced = under_k1
    keyring = crypto.parse_keyring(crypto.generate_key("k2") + "," + _entry(k1))
    out, err, failure = _rotate(keyring)
    assert failure is None, err
    assert f"Re-encrypted {len(synced)} session(s) under key 'k2'" in out
    assert f"Verified: all {len(synced)} session(s) decrypt under key 'k2'." in out


def test_a_key_id_renamed_only_in_case_is_not_mistaken_for_the_primary(
    under_k1: tuple[crypto.Keyring, list[Session]],
) -> None:
    k1, synced = under_k1
    renamed = crypto.parse_keyring(_entry(k1).replace("k1:", "K1:", 1))  # same key, id now "K1"
    out, err, failure = _rotate(renamed)
    assert failure is not None
    assert f"{len(synced)} of {len(synced)} session(s) do not decrypt under the primary key 'K1'" in str(
        failure
    )
    assert f"{len(synced)} session(s) under key id 'k1': no key with id 'k1' is configured" in err
    assert {crypto.key_id_of(s.content) for s in Session.objects.all()} == {"k1"}  # left untouched


def test_a_different_key_reusing_the_primary_id_is_reported(
    under_k1: tuple[crypto.Keyring, list[Session]],
) -> None:
    _, synced = under_k1
    impostor = crypto.parse_keyring(crypto.generate_key("k1"))  # a new key under the old id
    out, err, failure = _rotate(impostor)
    assert failure is not None and f"{len(synced)} of {len(synced)} session(s)" in str(failure)
    assert "a different key reuses the id 'k1'" in err
    assert "Verified" not in out


def test_a_different_key_reusing_an_old_id_is_reported(
    under_k1: tuple[crypto.Keyring, list[Session]],
) -> None:
    _, synced = under_k1
    keyring = crypto.parse_keyring(crypto.generate_key("k2") + "," + crypto.generate_key("k1"))
    out, err, failure = _rotate(keyring)
    assert failure is not None and f"{len(synced)} of {len(synced)} session(s)" in str(failure)
    assert "could not re-encrypt session" in err and "a different key reuses the id 'k1'" in err
    assert "Re-encrypted 0 session(s) under key 'k2'" in out


def test_a_partial_loss_names_only_the_rows_that_fail(under_k1: tuple[crypto.Keyring, list[Session]]) -> None:
    k1, synced = under_k1
    gone = crypto.parse_keyring(crypto.generate_key("gone"))
    Session.objects.filter(pk=synced[0].pk).update(content=crypto.encrypt(b"# lost\n", gone).decode())
    keyring = crypto.parse_keyring(crypto.generate_key("k2") + "," + _entry(k1))
    out, err, failure = _rotate(keyring)
    assert failure is not None and f"1 of {len(synced)} session(s)" in str(failure)
    assert "1 session(s) under key id 'gone': no key with id 'gone' is configured" in err
    assert f"Re-encrypted {len(synced) - 1} session(s)" in out


def _entry(keyring: crypto.Keyring) -> str:
    import base64

    key_id, key = keyring.keys[0]
    return f"{key_id}:{base64.urlsafe_b64encode(key).decode()}"
