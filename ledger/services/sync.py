"""Tombstone retention: deletions are remembered for SYNC_TOMBSTONE_DAYS, then forgotten.

Forgetting raises the owner's `sync_floor` to the newest revision purged, so a client that
last synced below it gets 410 `sync_reset_required` instead of a delta that would silently
miss those deletions.
"""

import datetime

from django.conf import settings
from django.db import transaction as db_transaction
from django.db.models import Max
from django.db.models.functions import Greatest
from django.utils import timezone

from ledger.models import Ledger, Tombstone


def sync_tombstones_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete tombstones older than SYNC_TOMBSTONE_DAYS; returns how many."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.SYNC_TOMBSTONE_DAYS)
    old = Tombstone.objects.filter(deleted_at__lt=cutoff)
    with db_transaction.atomic():
        floors = old.values("ledger_id").annotate(floor=Max("revision")).order_by("ledger_id")
        for row in floors:
            Ledger.objects.filter(pk=row["ledger_id"]).update(
                sync_floor=Greatest("sync_floor", row["floor"])
            )
        deleted, _ = old.delete()
    return deleted
