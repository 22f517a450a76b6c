"""Key rotation: every session's content re-encrypted under the primary key, then verified.

``manage.py rotate_keys`` runs it; batched, safe to interrupt and re-run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.functions import Substr

from annoris import crypto
from annoris.encryption import decrypt_text, encrypt_text, primary_key_id
from annoris.keyed_checksum import keyed_checksum
from sessions_app import readpath
from sessions_app.models import Session


@dataclass
class RotationReport:
    rotated: int = 0
    from_keys: Counter = field(default_factory=Counter)
    failed: dict[str, str] = field(default_factory=dict)  # session id -> error
    checked: int = 0  # rows read back at the end
    # Rows that do not decrypt under the primary key after the run, by the key id they carry;
    # ``reused`` holds the ids whose own configured key failed on them (another key reusing the id).
    unverified: Counter = field(default_factory=Counter)
    reused: Counter = field(default_factory=Counter)

    @property
    def verified(self) -> bool:
        return not self.unverified


def sessions_rotate_keys(
    *, batch_size: int = 500, progress: Callable[[int], None] | None = None
) -> RotationReport:
    """Re-encrypt every session not under the primary key, one committed batch at a time,
    then read every row back to prove it decrypts under the primary key.

    Each batch commits on its own, so an interrupted run keeps its progress and a
    second run picks up what is left. Rows that cannot be decrypted (their key
    is gone, or a different key reuses their key id) are reported and left untouched;
    the final check counts them in ``unverified`` so the caller can refuse to call it done.
    """
    primary = primary_key_id()
    prefix = f"{crypto.PREFIX}{primary}:"
    report = RotationReport()
    last = None  # keyset paging: rows left behind (undecryptable) are passed, never re-read
    while True:
        with transaction.atomic():
            # Substr equality, not startswith: SQLite's LIKE ignores case, and a row under
            # "k1" must not pass for one under "K1".
            todo = (
                Session.objects.annotate(key_prefix=Substr("content", 1, len(prefix)))
                .exclude(key_prefix=prefix)
                .order_by("pk")
            )
            if last is not None:
                todo = todo.filter(pk__gt=last)
            rows = list(todo.select_for_update().only("id", "content", "checksum")[:batch_size])
            if not rows:
                break
            last = rows[-1].pk
            done = [row for row in rows if _reencrypt(row, report)]
            Session.objects.bulk_update(done, ["content", "checksum"])
            readpath.sessions_changed([row.id for row in done])  # the old ciphertext must not outlive its key
        report.rotated += len(done)
        if progress:
            progress(report.rotated)
    _verify_rotation(report, primary, batch_size)
    return report


def _verify_rotation(report: RotationReport, primary: str, batch_size: int) -> None:
    """Decrypt every row: each must carry the primary key id and authenticate under that key."""
    last = None
    while True:
        page = Session.objects.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page.values_list("pk", "content")[:batch_size])
        if not rows:
            return
        last = rows[-1][0]
        for _, token in rows:
            report.checked += 1
            try:
                key_id = crypto.key_id_of(token)
            except crypto.DecryptionError:
                report.unverified["(not ciphertext)"] += 1
                continue
            try:
                decrypt_text(token)
            except crypto.DecryptionError as exc:
                report.unverified[key_id] += 1
                if exc.wrong_key:
                    report.reused[key_id] += 1  # its id is configured, but with another key
                continue
            if key_id != primary:
                report.unverified[key_id] += 1


def _reencrypt(row: Session, report: RotationReport) -> bool:
    try:
        old_key = crypto.key_id_of(row.content)
        text = decrypt_text(row.content)
        row.content, row.checksum = encrypt_text(text), keyed_checksum(text)  # both under the new key
    except crypto.DecryptionError as exc:
        report.failed[str(row.id)] = str(exc)
        return False
    report.from_keys[old_key] += 1
    return True
