"""The GitHub webhook: verify, classify, record, enqueue (GITHUB.md section 8).

``handle(request)`` runs the checks in this order, and nothing is parsed before
the signature is verified:

1. size: ``Content-Length`` over ``GITHUB_WEBHOOK_MAX_BYTES`` is 413 before any read,
   and the limit holds while reading (ASGI bodies and ``Transfer-Encoding: chunked``
   ones come without a length; a WSGI server that cannot hand over a chunked body is 411);
2. no ``GITHUB_WEBHOOK_SECRET``: 503, logged; unsigned calls are never accepted;
3. ``X-Hub-Signature-256`` missing or wrong: 401;
4. the body, JSON or form-encoded (``payload=``), malformed or nested deeper than
   ``MAX_JSON_DEPTH``: 400; a NUL or lone surrogate in a string we store
   (event, delivery id, ``ref``, ``after``): 400, never a database error;
5. ``ping``: 200. A ``push`` to the tracked branch is recorded by ``X-GitHub-Delivery``
   and a sync queued in django-q2: 202. A delivery id accepted before: 200, not queued
   again; one that failed before is processed again (GitHub's redelivery keeps the id).
   The same push (ref and ``after``) under another delivery id while one of it is queued
   or done: a replay, recorded as ignored, 200 (``webhook_replay``).
   Other branches, tags, deletions and other events: recorded as ignored, 200.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest

from annoris.jsondepth import MAX_JSON_DEPTH, json_depth
from annoris.text import NUL, SURROGATE, unstorable
from sync_app import services, webhook_replay
from sync_app.models import WebhookDelivery

logger = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
MAX_DELIVERY_ID = 100  # WebhookDelivery.delivery_id; GitHub's GUIDs are 36 characters


@dataclass(frozen=True)
class Reply:
    """What the view answers: an HTTP status and a one-line ``detail``."""

    status: int
    detail: str


class Refused(Exception):
    """A request the webhook turns down with ``status`` and ``detail``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.reply = Reply(status, detail)


def handle(request: HttpRequest) -> Reply:
    """Verify, parse, classify and record one delivery; never raises for bad input."""
    try:
        body = read_body(request, limit=settings.GITHUB_WEBHOOK_MAX_BYTES)
        verify_signature(body, request.headers.get("X-Hub-Signature-256"), secret=_secret())
        payload = parse_payload(body, content_type=request.content_type or "")
        return receive(
            event=request.headers.get("X-GitHub-Event", "").strip(),
            delivery_id=request.headers.get("X-GitHub-Delivery", "").strip(),
            payload=payload,
        )
    except Refused as exc:
        if exc.reply.status >= 500 or exc.reply.status == 401:
            logger.warning("GitHub webhook refused (%s): %s", exc.reply.status, exc.reply.detail)
        return exc.reply
    except DatabaseError:
        logger.exception("GitHub webhook could not record a delivery")
        return Reply(503, "database unavailable; redeliver this delivery later")


def signature_for(body: bytes, secret: str) -> str:
    """``sha256=`` + hex HMAC-SHA256 of the raw body, as GitHub signs it."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def read_body(request: HttpRequest, *, limit: int) -> bytes:
    """The raw body, at most ``limit`` bytes, else 413 (checked before reading when declared)."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared:
        try:
            length = int(declared)
        except ValueError:
            raise Refused(400, "invalid Content-Length") from None
        if length > limit:
            raise Refused(413, f"payload of {length} bytes is over the {limit}-byte limit")
    elif _chunked(request):
        return _read_chunked(request, limit=limit)
    # request.read(), not request.body: the body property caps at DATA_UPLOAD_MAX_MEMORY_SIZE
    # (2.5 MB), far below GitHub's 25 MB payloads; our own limit applies instead.
    body = request.read(limit + 1)
    if len(body) > limit:
        raise Refused(413, f"payload is over the {limit}-byte limit")
    return body


def _chunked(request: HttpRequest) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def _read_chunked(request: HttpRequest, *, limit: int) -> bytes:
    """A ``Transfer-Encoding: chunked`` body under WSGI, where it comes without a Content-Length.

    Django's WSGIRequest reads at most CONTENT_LENGTH bytes (none here), so the body would
    look empty and fail the signature. A server that decodes chunked input and marks it
    with ``wsgi.input_terminated`` (gunicorn, for one) lets us read to its end; any other
    cannot be read safely, which is 411, not a misleading 401. ASGI requests arrive whole.
    """
    environ = getattr(request, "environ", None)
    if environ is None or "wsgi.input" not in environ:
        body = request.read(limit + 1)  # ASGI: the body is already buffered without a length
    elif environ.get("wsgi.input_terminated"):
        stream, parts, size = environ["wsgi.input"], [], 0
        while size <= limit:
            part = stream.read(min(64 * 1024, limit + 1 - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
        body = b"".join(parts)
    else:
        raise Refused(411, "chunked body not supported by this server; send Content-Length")
    if len(body) > limit:
        raise Refused(413, f"payload is over the {limit}-byte limit")
    return body


def _secret() -> str:
    secret = settings.GITHUB_WEBHOOK_SECRET
    if not secret:
        logger.error(
            "GitHub webhook refused a delivery: GITHUB_WEBHOOK_SECRET is not set, "
            "and unsigned calls are never accepted. Set it to the webhook's secret."
        )
        raise Refused(503, "webhook secret not configured on this server")
    return secret


def verify_signature(body: bytes, header: str | None, *, secret: str) -> None:
    """Raise Refused(401) unless ``header`` is the body's signature (constant-time compare)."""
    if not header:
        raise Refused(401, "missing X-Hub-Signature-256")
    expected = signature_for(body, secret).encode()
    # Bytes on both sides: compare_digest refuses non-ASCII str, and headers can carry any.
    if not hmac.compare_digest(expected, header.strip().encode("utf-8", "replace")):
        raise Refused(401, "X-Hub-Signature-256 does not match the body")


def parse_payload(body: bytes, *, content_type: str) -> dict[str, Any]:
    """The payload object of a JSON or form-encoded (``payload=``) body; 400/415 otherwise."""
    if content_type == FORM:
        try:
            fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
        except ValueError as exc:
            raise Refused(400, f"malformed form body: {exc}") from None
        if not fields.get("payload"):
            raise Refused(400, "form body without a payload field")
        text: str | bytes = fields["payload"][0]
    elif content_type in ("application/json", ""):
        text = body
    else:
        raise Refused(415, f"unsupported content type {content_type!r}; use application/json or form")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Refused(400, f"malformed JSON: not UTF-8 ({exc})") from None
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise Refused(400, f"JSON nested {depth} levels deep; the limit is {MAX_JSON_DEPTH}")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Refused(400, f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Refused(400, "payload is not a JSON object")
    return data


def _storable(name: str, value: str) -> str:
    """``value`` unless a database column could not hold it (NUL, lone surrogates): then 400."""
    why = unstorable(value)
    if why == NUL:
        raise Refused(400, f"{name} contains a NUL character")
    if why == SURROGATE:
        raise Refused(400, f"{name} is not valid Unicode (lone surrogate)")
    return value


def receive(*, event: str, delivery_id: str, payload: dict[str, Any]) -> Reply:
    """Answer a verified, parsed delivery: record it, and queue a sync for a tracked push."""
    if event == "ping":
        return Reply(200, "pong")
    if not event:
        raise Refused(400, "missing X-GitHub-Event")
    _storable("X-GitHub-Event", event)
    _storable("X-GitHub-Delivery", delivery_id)
    if len(delivery_id) > MAX_DELIVERY_ID:
        raise Refused(400, "X-GitHub-Delivery is too long")
    if not delivery_id:
        if event == "push":
            raise Refused(400, "missing X-GitHub-Delivery")
        return Reply(200, f"ignored: event {event!r} is not synced")
    # Every string that reaches a column is checked first: bad input is 400, never a
    # database error answered as 503 "database unavailable".
    ref = _storable("ref", str(payload.get("ref") or ""))[:255]
    after = _storable("after", str(payload.get("after") or ""))[:40]
    status, reason = classify(event, payload, branch=settings.GITHUB_BRANCH)
    with webhook_replay.push_serialised(ref, after):
        if status == WebhookDelivery.Status.QUEUED:
            earlier = webhook_replay.earlier_delivery(ref=ref, after=after, delivery_id=delivery_id)
            if earlier is not None:
                status = WebhookDelivery.Status.IGNORED
                reason = f"replay of push {after[:12]}, already taken by delivery {earlier.delivery_id}"
        delivery, fresh = services.webhook_delivery_record(
            delivery_id=delivery_id,
            event=event[:100],
            ref=ref,
            after=after,
            status=status,
            error=reason,
        )
    if not fresh:
        return Reply(200, f"already handled ({delivery.status})")
    if status == WebhookDelivery.Status.IGNORED:
        return Reply(200, f"ignored: {reason}")
    return _enqueue(delivery)


def classify(event: str, payload: dict[str, Any], *, branch: str) -> tuple[str, str]:
    """(status, reason): ``queued`` for a push that moved the tracked branch, else ``ignored``."""
    if event != "push":
        return WebhookDelivery.Status.IGNORED, f"event {event!r} is not synced"
    ref = payload.get("ref")
    if not isinstance(ref, str) or not ref:
        raise Refused(400, "push payload without a ref")
    tracked = f"refs/heads/{branch}"
    if ref.startswith("refs/tags/"):
        return WebhookDelivery.Status.IGNORED, f"tag push {ref}"
    if ref != tracked:
        return WebhookDelivery.Status.IGNORED, f"push to {ref}, not the tracked {tracked}"
    if payload.get("deleted") is True:
        return WebhookDelivery.Status.IGNORED, f"{ref} was deleted"
    return WebhookDelivery.Status.QUEUED, ""


def _enqueue(delivery: WebhookDelivery) -> Reply:
    """Queue the sync; if the queue refuses, the delivery is failed so a redelivery retries it."""
    try:
        services.sync_enqueue(trigger="webhook", delivery_id=delivery.delivery_id)
    except Exception as exc:  # any broker failure: GitHub must see a non-2xx to allow redelivery
        logger.exception("GitHub webhook could not queue a sync for %s", delivery.delivery_id)
        services.webhook_delivery_fail(
            delivery_id=delivery.delivery_id, error=f"could not queue the sync: {type(exc).__name__}"
        )
        return Reply(503, "could not queue the sync; redeliver this delivery later")
    return Reply(202, "sync queued")
