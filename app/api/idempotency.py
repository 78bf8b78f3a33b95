"""The Idempotency-Key rules of POST /orders.

- The key is required and must be a UUID other than the nil UUID.
- The first request with a key claims it (a unique row); its fingerprint is the SHA-256 of the body
  as parsed and re-serialised canonically, so whitespace and key order do not matter.
- Same key, same fingerprint, done: the stored response again, marked `Idempotent-Replayed: true`.
- Same key, other fingerprint: 422, and nothing about the first request is revealed.
- Same key while the first is still running: 409 (retry later). An attempt whose process died is
  taken over after API_IDEMPOTENCY_IN_FLIGHT_SECONDS, safely: the key is the order's one-time token,
  so the takeover finds the order the dead attempt made instead of making a second.
- Keys live API_IDEMPOTENCY_TTL_HOURS; `manage.py purge_idempotency_keys` deletes expired ones.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import IdempotencyKey
from .problems import Problem

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
REPLAY_HEADER = "Idempotent-Replayed"


def missing_key() -> Problem:
    return Problem(
        400,
        "idempotency-key-missing",
        "Idempotency-Key required",
        f"Send an {HEADER} header holding a fresh UUID (for example a version 4 UUID) with every new order.",
    )


def malformed_key() -> Problem:
    return Problem(
        400,
        "idempotency-key-malformed",
        "Malformed Idempotency-Key",
        f"The {HEADER} header must hold a UUID (8-4-4-4-12 hex digits) other than the nil UUID.",
    )


def parse_key(value: str | None) -> uuid.UUID:
    if not value:
        raise missing_key()
    if not re.match(KEY_PATTERN, value):
        raise malformed_key()
    key = uuid.UUID(value)
    if key.int == 0:
        raise malformed_key()
    return key


def fingerprint(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Claim:
    """What the caller may do next: run the request (row is ours) or answer `replay`."""

    row: IdempotencyKey
    replay: bool = False


def reused() -> Problem:
    return Problem(
        422,
        "idempotency-key-reused",
        "Idempotency-Key reused",
        f"This {HEADER} was already used with a different request body. Use a new key for a new order.",
    )


def in_flight() -> Problem:
    return Problem(
        409,
        "idempotency-key-in-flight",
        "Request in progress",
        f"A request with this {HEADER} is still being processed. Retry shortly with the same key.",
        headers={"Retry-After": "1"},
    )


def claim(key: uuid.UUID, print_: str) -> Claim:
    """Claim `key` for this request, or say why not (raises Problem)."""
    now = timezone.now()
    for _ in range(3):
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    key=key, fingerprint=print_, started_at=now, expires_at=now + timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
                )
            return Claim(row)
        except IntegrityError:
            pass  # another request holds the key: the UNIQUE index waited for it to commit
        row = IdempotencyKey.objects.filter(key=key).first()
        if row is None:
            continue  # released meanwhile (the other request failed validation): try again
        if row.expires_at <= now:
            IdempotencyKey.objects.filter(pk=row.pk, expires_at__lte=now).delete()
            continue
        if row.fingerprint != print_:
            raise reused()
        if row.completed_at is not None:
            return Claim(row, replay=True)
        stale = now - timedelta(seconds=settings.API_IDEMPOTENCY_IN_FLIGHT_SECONDS)
        # Compare-and-set on started_at: of several retries of a dead attempt, one takes it over.
        if row.started_at <= stale and IdempotencyKey.objects.filter(pk=row.pk, completed_at=None, started_at=row.started_at).update(
            started_at=now
        ):
            row.started_at = now
            return Claim(row)
        raise in_flight()
    raise in_flight()


def release(row: IdempotencyKey) -> None:
    """Free the key of an attempt that stored nothing (refused input, shop closed)."""
    IdempotencyKey.objects.filter(pk=row.pk, completed_at=None).delete()


def complete(row: IdempotencyKey, order, status: int, body: dict) -> None:
    IdempotencyKey.objects.filter(pk=row.pk).update(order=order, response_status=status, response_body=body, completed_at=timezone.now())


def purge_expired(now=None) -> int:
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
