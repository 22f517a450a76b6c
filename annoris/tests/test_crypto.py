from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from annoris import crypto

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def keyring() -> crypto.Keyring:
    return crypto.parse_keyring(crypto.generate_key("k1") + "," + crypto.generate_key("k0"))


def test_it_round_trips_unicode(keyring: crypto.Keyring) -> None:
    text = "Проблема «потом» 🚀 ✅ €214".encode()
    assert crypto.decrypt(crypto.encrypt(text, keyring), keyring) == text


def test_it_uses_a_fresh_nonce_per_value(keyring: crypto.Keyring) -> None:
    a, b = crypto.encrypt(b"same", keyring), crypto.encrypt(b"same", keyring)
    assert a != b
    nonce_a = base64.urlsafe_b64decode(a.split(b":")[-1])[:12]
    nonce_b = base64.urlsafe_b64decode(b.split(b":")[-1])[:12]
    assert nonce_a != nonce_b


def test_it_stores_the_key_id_and_no_plaintext(keyring: crypto.Keyring) -> None:
    token = crypto.encrypt(b"secret session notes", keyring)
    assert token.startswith(b"enc:v1:k1:")
    assert b"secret" not in token and b"secret" not in base64.urlsafe_b64decode(token.split(b":")[-1])


def test_it_decrypts_with_any_key_in_the_ring(keyring: crypto.Keyring) -> None:
    old_ring = crypto.Keyring(keyring.keys[1:])  # only k0
    token = crypto.encrypt(b"written under k0", old_ring)
    assert crypto.decrypt(token, keyring) == b"written under k0"


def test_it_rejects_a_wrong_key_naming_the_key_id(keyring: crypto.Keyring) -> None:
    token = crypto.encrypt(b"x", keyring)
    impostor = crypto.parse_keyring(crypto.generate_key("k1"))
    with pytest.raises(crypto.DecryptionError, match="'k1'.*wrong key or tampered"):
        crypto.decrypt(token, impostor)


def test_it_rejects_tampering(keyring: crypto.Keyring) -> None:
    token = bytearray(crypto.encrypt(b"do not touch", keyring))
    token[-5] = ord("A") if token[-5] != ord("A") else ord("B")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(bytes(token), keyring)


@pytest.mark.parametrize("damage", ["\n", " ", "+", "=", "é", "\x00", "!"])
def test_a_token_with_a_character_outside_urlsafe_base64_is_refused_not_skipped(
    keyring: crypto.Keyring, damage: str
) -> None:
    """The standard library's decoder skipped such characters; a token is refused as tampered."""
    token = crypto.encrypt(b"notes", keyring).decode()
    head, _, body = token.rpartition(":")
    for damaged in (f"{head}:{body[:9]}{damage}{body[9:]}", f"{head}:{body}{damage}"):
        with pytest.raises(crypto.DecryptionError, match="tampered"):
            crypto.decrypt(damaged, keyring)


def test_tokens_are_standard_urlsafe_base64(keyring: crypto.Keyring) -> None:
    """Whatever decoder reads them, tokens stay plain RFC 4648 urlsafe base64 (rows written before
    and after the change decrypt alike)."""
    for size in (0, 1, 2, 3, 100, 10_240):
        plaintext = os.urandom(size)
        token = crypto.encrypt(plaintext, keyring)
        raw = base64.urlsafe_b64decode(token.split(b":")[-1])
        key = keyring.keys[0][1]
        assert AESGCM(key).decrypt(raw[:12], raw[12:], b"k1") == plaintext
        assert crypto.decrypt(token, keyring) == plaintext


def test_it_rejects_a_relabelled_key_id(keyring: crypto.Keyring) -> None:
    """Moving a token to another key id fails authentication (the id is associated data)."""
    same_key = crypto.Keyring((("k1", keyring.keys[0][1]), ("k9", keyring.keys[0][1])))
    token = crypto.encrypt(b"x", same_key).replace(b":k1:", b":k9:")
    with pytest.raises(crypto.DecryptionError, match="'k9'"):
        crypto.decrypt(token, same_key)


def test_it_names_an_unknown_key_id(keyring: crypto.Keyring) -> None:
    token = crypto.encrypt(b"x", crypto.parse_keyring(crypto.generate_key("gone")))
    with pytest.raises(crypto.DecryptionError, match="no key with id 'gone'"):
        crypto.decrypt(token, keyring)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("nokey", "entry 1 must look like"),
        ("k1:" + base64.urlsafe_b64encode(os.urandom(16)).decode(), "16 bytes; AES-256 needs 32"),
        ("k1:@@@", "not valid urlsafe base64"),
        (crypto.generate_key("k1") + "," + crypto.generate_key("k1"), "twice"),
        (
            crypto.generate_key("k1") + "," + crypto.generate_key("K1"),
            "'k1' and 'K1', which differ only in case",
        ),
        (
            crypto.generate_key("a.B") + "," + crypto.generate_key("x") + "," + crypto.generate_key("A.b"),
            "only in case",
        ),
    ],
)
def test_it_explains_a_malformed_keyring(value: str, message: str) -> None:
    with pytest.raises(crypto.KeyringError, match=message) as info:
        crypto.parse_keyring(value)
    secret = value.partition(":")[2]
    assert len(secret) < 4 or secret not in str(info.value)  # never echo key material


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "ANNORIS", "SECRET", "DEBUG"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DEBUG": "0"}, "SECRET_KEY"),
        ({"DEBUG": "0", "SECRET_KEY": "s" * 50}, "ANNORIS_ENCRYPTION_KEYS"),
        (
            {"DEBUG": "0", "SECRET_KEY": "s" * 50, "ANNORIS_ENCRYPTION_KEYS": crypto.DEVELOPMENT_KEYRING},
            "development key",
        ),
        (
            {
                "DEBUG": "0",
                "SECRET_KEY": "s" * 50,
                "ANNORIS_ENCRYPTION_KEYS": crypto.generate_key("K1") + "," + crypto.generate_key("k1"),
            },
            "differ only in case",
        ),
    ],
)
def test_it_refuses_to_start_without_real_secrets(env: dict[str, str], variable: str) -> None:
    done = _start(env)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert variable in lines[0]


def test_it_starts_with_real_secrets_and_debug_off() -> None:
    done = _start(
        {"DEBUG": "0", "SECRET_KEY": "s" * 50, "ANNORIS_ENCRYPTION_KEYS": crypto.generate_key("prod")}
    )
    assert done.returncode == 0, done.stderr


def test_a_keyring_shown_in_a_log_line_or_an_error_names_no_key() -> None:
    entry = crypto.generate_key("k1")
    keyring = crypto.parse_keyring(entry)
    shown = f"{keyring!r} {keyring!s} {[keyring]!r}"
    raw = keyring.keys[0][1]
    assert entry.split(":", 1)[1] not in shown
    assert repr(raw) not in shown and raw.hex() not in shown


def test_a_str_token_and_its_bytes_decrypt_alike_and_fail_alike(keyring: crypto.Keyring) -> None:
    token = crypto.encrypt("Проблема 🚀".encode(), keyring)
    assert crypto.decrypt(token.decode(), keyring) == crypto.decrypt(token, keyring)
    for bad in (token[:-4], token.replace(b"k1", b"k9", 1), b"enc:v1:", b"enc:v1:k1:", b"plain text"):
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(bad, keyring)
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(bad.decode(), keyring)


def test_a_copied_or_pickled_keyring_still_decrypts(keyring: crypto.Keyring) -> None:
    import copy
    import pickle

    token = crypto.encrypt(b"notes", keyring)
    for other in (copy.deepcopy(keyring), copy.copy(keyring), pickle.loads(pickle.dumps(keyring))):  # noqa: S301
        assert other == keyring
        assert crypto.decrypt(token, other) == b"notes"
        assert crypto.decrypt(crypto.encrypt(b"more", other), keyring) == b"more"
