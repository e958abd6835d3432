"""Idempotency keys (IETF draft "The Idempotency-Key HTTP Header Field"): a write sent again
with the same key gets the first answer back, and nothing is written twice.

The claim, the write and the stored answer share one database transaction
(`ledger.api.idempotency`): a transaction-scoped advisory lock on (user, key) makes a
concurrent retry answer 409 at once instead of waiting, and a crash mid-way rolls the claim
back with the write, so the next retry simply runs.
"""

import datetime
import hashlib
from collections.abc import Iterable

from django.conf import settings
from django.db import connection
from django.utils import timezone

from ledger.models import IdempotencyRecord


class IdempotencyKeyInProgress(Exception):
    """The first request with this key is still running."""


class IdempotencyKeyReused(Exception):
    """The key was used for another request (method, path or body differ)."""


def idempotency_fingerprint(*, method: str, path: str, body: Iterable[bytes]) -> str:
    """SHA-256 of the request; `body` comes in blocks, so a large upload is hashed from its
    temporary file rather than read into memory."""
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0"):
        digest.update(part)
    for block in body:
        digest.update(block)
    return digest.hexdigest()


def _lock_key(user_id, key: str) -> int:
    """A signed 64-bit number for PostgreSQL's advisory locks, from (user, key)."""
    digest = hashlib.blake2b(f"{user_id}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def idempotency_claim(*, user, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """Inside the write's transaction: the stored answer to replay, or None to go ahead (the
    key is then held until the transaction ends)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_lock_key(user.pk, key)])
        if not cursor.fetchone()[0]:
            raise IdempotencyKeyInProgress
    record = IdempotencyRecord.objects.filter(user=user, key=key, created_at__gte=_oldest()).first()
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused
    return record


def idempotency_store(
    *, user, key: str, fingerprint: str, status_code: int, content_type: str, body: bytes
) -> None:
    """Remember the answer (an expired record of the same key is replaced)."""
    IdempotencyRecord.objects.filter(user=user, key=key).delete()
    IdempotencyRecord.objects.create(
        user=user,
        key=key,
        fingerprint=fingerprint,
        status_code=status_code,
        content_type=content_type,
        body=body,
    )


def idempotency_purge(*, now: datetime.datetime | None = None) -> int:
    """Forget answers older than IDEMPOTENCY_KEY_HOURS; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=_oldest(now)).delete()
    return deleted


def _oldest(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
