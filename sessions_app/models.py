"""Session documents mirrored from the repository, content encrypted at rest."""

from __future__ import annotations

from django.db import models

from annoris.encryption import decrypt_text
from annoris.fields import CiphertextField, HashSetField
from sessions_app.managers import SessionManager


class SessionState(models.TextChoices):
    """What a session's free-text status says, derived when the document is parsed."""

    DONE = "done", "Done"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    PLANNED = "planned", "Planned"
    UNKNOWN = "unknown", "Unknown"


class Session(models.Model):
    """One session document. ``id`` is stable: front matter ``id:`` or uuid5(repository, path)."""

    id = models.UUIDField(primary_key=True, editable=False)
    created_at = models.DateTimeField(db_index=True)
    undated = models.BooleanField(
        default=False,
        help_text="No date in the document, its file name or its history: listed after every dated session.",
    )
    created_time = models.CharField(
        "time written",
        max_length=20,
        blank=True,
        help_text="The time of day as the document gave it (Evening, 14:30); empty when it gave only a day.",
    )
    project = models.ForeignKey(
        "projects_app.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    priority = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=100, blank=True, help_text="The status as written in the document.")
    state = models.CharField(
        max_length=20,
        choices=SessionState.choices,
        default=SessionState.UNKNOWN,
        db_index=True,
        help_text="Derived from the status: done, in progress, blocked, planned or unknown.",
    )
    title = models.CharField(max_length=300)
    next_step = models.CharField("next", max_length=500, blank=True)
    content = CiphertextField(help_text="AES-256-GCM ciphertext of the document.")
    github_path = models.CharField("path", max_length=500, unique=True)
    github_sha = models.CharField("blob SHA", max_length=40)
    checksum = models.CharField(
        max_length=32,
        help_text="Keyed checksum (HMAC-SHA256, 32 hex) of the plaintext.",
    )
    size = models.PositiveIntegerField(default=0, help_text="Size of the document in bytes (UTF-8).")
    last_synced = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = SessionManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="session_project_created"),
            # newest first with undated sessions last (sessions_app.context.NEWEST_FIRST)
            models.Index(fields=["project", "undated", "-created_at"], name="session_project_dated"),
            models.Index(fields=["undated", "-created_at"], name="session_dated"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def text(self) -> str:
        """The decrypted document (raises annoris.crypto.DecryptionError)."""
        return decrypt_text(self.content)


class SearchDocument(models.Model):
    """A session's entry in the blind index: its length in words, the key it was hashed with and
    the hashes of its word pairs and prefixes.

    Nothing here or in ``SearchPosting`` is a word: terms are keyed hashes (see
    ``sessions_app.search``), with the key derived from the keyring and never stored.
    """

    session = models.OneToOneField(
        Session, primary_key=True, on_delete=models.CASCADE, related_name="search_document"
    )
    length = models.PositiveIntegerField(help_text="Words in the title and body (BM25's document length).")
    key_id = models.CharField(max_length=32, help_text="Keyring key the terms were hashed with.")
    indexed_at = models.DateTimeField(auto_now=True)
    # The filter-only terms, one value a session instead of a posting row each (issue #17: ~800
    # of a session's ~1,000 rows): checked on the candidates the postings find, never ranked.
    pairs = HashSetField(default=tuple, help_text="Hashes of the adjacent word pairs (phrases).")
    prefixes = HashSetField(default=tuple, help_text="Hashes of the words' first 3-6 characters (prefix*).")

    class Meta:
        verbose_name = "search document"
        indexes = [
            # For the index lag's count (``search.freshness``, once a second per process), which
            # scanned the table: at 100,000 sessions the whole count took 13.7 ms, 9.1 with this
            # index (17.9 and 13.1 in hybrid mode; medians of 11).
            models.Index(fields=["key_id"], name="search_document_key"),
        ]

    def __str__(self) -> str:
        return f"index entry of {self.session_id}"


class SearchPosting(models.Model):
    """One hashed term of one session and how often it occurs there (BM25's term frequency)."""

    # (session, term) is the key: it deletes a session's postings, and no surrogate id and
    # its index are written for each of the ~100-400 postings of every indexed session. On
    # PostgreSQL the key also carries the weight (INCLUDE), so the top-k's probes by the key
    # never read the table (migration 0017, with its measurements).
    pk = models.CompositePrimaryKey("session", "term")
    term = models.BigIntegerField(help_text="First 8 bytes of HMAC-SHA256(index key, term).")
    # No foreign key constraint in the database: checking it for each of the ~1,000 rows a
    # session writes took more than half of PostgreSQL's CPU when indexing (3.5 of 6.0 s per
    # million rows). The SearchDocument written in the same transaction keeps its constraint,
    # so postings never outlive their session: an index of a session deleted meanwhile fails
    # at commit as a whole, and deleting a session deletes its postings (Django's CASCADE).
    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    tf = models.PositiveIntegerField()
    weight = models.FloatField(
        help_text="BM25's term-frequency factor tf*(k1+1)/(tf + k1*(1-b+b*length/average length)), "
        "with the average length at indexing time; a query multiplies it by the term's idf."
    )

    class Meta:
        verbose_name = "search posting"
        indexes = [
            # PostgreSQL answers a query from this index alone (an index-only scan); its order
            # (best weight first, then session) is the threshold algorithm's sorted access (topk).
            models.Index(fields=["term", "-weight", "session"], name="search_posting_term_weight"),
        ]

    def __str__(self) -> str:
        return f"term {self.term} x{self.tf} in {self.session_id}"


class SearchVector(models.Model):
    """A session's sentence embedding for search by meaning, AES-GCM encrypted under the keyring.

    The plaintext (512 int8 components) exists only in the memory of the processes that search.
    """

    session = models.OneToOneField(
        Session, primary_key=True, on_delete=models.CASCADE, related_name="search_vector"
    )
    ciphertext = models.BinaryField(help_text="Encrypted int8 embedding (annoris.crypto token).")
    key_id = models.CharField(max_length=32, help_text="Keyring key the vector is encrypted under.")
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = "search vector"
        indexes = [
            # For the index lag's count (``search.freshness``, once a second per process in hybrid
            # mode): a scan of the ~85 MB of ciphertext rows took 23 ms at 100,000 sessions.
            models.Index(fields=["key_id"], name="search_vector_key"),
        ]

    def __str__(self) -> str:
        return f"vector of {self.session_id}"


class CacheInvalidation(models.Model):
    """A session whose cached copy must be refreshed: written in the transaction that changed it,
    deleted once the cache took the new row (see sessions_app/readpath/invalidation.py)."""

    id = models.BigAutoField(primary_key=True)
    session_id = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"refresh {self.session_id}"


class PendingWrite(models.Model):
    """The outbox: an API write accepted while GitHub could not take it, kept until it lands.

    Entries of one path land in ``id`` order; a later one waits while an earlier one is
    pending or in conflict. ``content`` is the new document, encrypted like a session's
    (empty for a delete). ``base_sha`` is the blob SHA the write replaces (None: the path
    must not exist); a file found at any other SHA stops the entry as a conflict.
    """

    class Operation(models.TextChoices):
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        DELETE = "delete", "Delete"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        LANDED = "landed", "Landed"
        CONFLICT = "conflict", "Conflict"
        DISCARDED = "discarded", "Discarded"

    operation = models.CharField(max_length=10, choices=Operation.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    path = models.CharField(max_length=500, db_index=True)
    session_id = models.UUIDField(help_text="The session the write creates, changes or deletes.")
    content = CiphertextField(blank=True, help_text="AES-256-GCM ciphertext of the new document.")
    content_sha = models.CharField(
        max_length=40, blank=True, help_text="Blob SHA of the new document (empty for a delete)."
    )
    base_sha = models.CharField(
        max_length=40, null=True, blank=True, help_text="Blob SHA the write replaces; empty: a new file."
    )
    message = models.CharField(max_length=300, help_text="The commit message.")
    requested_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    claimed_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A worker is trying it until then (a lease; a dead worker's expires).",
    )
    last_error = models.TextField(blank=True)
    remote_sha = models.CharField(
        max_length=40,
        blank=True,
        help_text="On a conflict: the blob SHA GitHub holds instead (empty: no file).",
    )
    outcome_unknown_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A try was sent and never answered (a timeout): GitHub may still apply it. The next "
        "try first looks whether it landed, and sends again only after ANNORIS_OUTBOX_SETTLE_SECONDS.",
    )
    landed_at = models.DateTimeField(null=True, blank=True)
    landed_sha = models.CharField(max_length=40, blank=True)
    landed_commit = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["id"]
        db_table = "sync_app_pendingwrite"  # moved from sync_app (issue #18); the table kept its name
        verbose_name = "pending write"
        indexes = [models.Index(fields=["path", "status", "id"], name="pendingwrite_path_status")]

    def __str__(self) -> str:
        return f"{self.get_operation_display()} {self.path} ({self.status})"


class IdempotencyKey(models.Model):
    """An ``Idempotency-Key`` a client sent with a write, and the answer it got.

    Unique per (owner, key), so two concurrent requests with one key cannot both run:
    the second finds the first's row. ``response_status`` is null while the first runs.
    """

    owner = models.CharField(max_length=150, help_text="Who sent it: the token or user.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key")]
        db_table = "sync_app_idempotencykey"  # moved from sync_app (issue #18)
        verbose_name = "idempotency key"

    def __str__(self) -> str:
        return f"{self.owner}: {self.key}"
