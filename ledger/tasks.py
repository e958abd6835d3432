"""Celery tasks of the ledger: thin wrappers over the recurring engine
(`ledger.services.recurring.engine`) and `transaction_confirm_due`.

Both are scheduled by Celery beat (settings `CELERY_BEAT_SCHEDULE`, daily shortly after
midnight Asia/Seoul) and queued once when a worker starts (catch-up, `household_ledger.celery`).
Both are safe to run twice at once: the service locks each rule and the database refuses
duplicates.
"""

import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError

from ledger.services.idempotency import idempotency_purge
from ledger.services.recurring.engine import DEFAULT_BATCH_SIZE, recurring_materialize_all
from ledger.services.sync import sync_tombstones_purge
from ledger.services.transactions import transaction_confirm_due

# Transient database trouble (a restart, a failover, a dropped connection) is retried with
# exponential backoff; anything else is a bug and fails loudly.
_RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(**_RETRY)
def materialize_recurring(through: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE) -> dict:
    """Create every active rule's missing occurrences through the horizon (or `through`,
    an ISO date), catching up on any months missed while beat was down."""
    result = recurring_materialize_all(
        through=datetime.date.fromisoformat(through) if through else None,
        batch_size=batch_size,
    )
    return {"rules": result.rules, "created": result.created}


@shared_task(**_RETRY)
def confirm_due_transactions() -> dict:
    """Confirm scheduled transactions dated today or earlier (not pending variable amounts)."""
    return {"confirmed": transaction_confirm_due()}


@shared_task(**_RETRY)
def purge_sync_tombstones() -> dict:
    """Forget deletions older than SYNC_TOMBSTONE_DAYS (offline clients older than that
    reload everything)."""
    return {"purged": sync_tombstones_purge()}


@shared_task(**_RETRY)
def purge_idempotency_keys() -> dict:
    """Forget stored answers to writes older than IDEMPOTENCY_KEY_HOURS."""
    return {"purged": idempotency_purge()}
