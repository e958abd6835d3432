"""Users as Clerk knows them: found or created from a session token, synced by the webhook."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User, WebhookEvent
from accounts.shared_cache import cache_add, cache_set
from ledger.services.memberships import member_depart_everywhere
from ledger.services.shared_ledgers import ledger_purge_orphaned
from ledger.services.transactions import transaction_authors_forget

LAST_SEEN_INTERVAL_SECONDS = 60


def user_get_or_create_for_session(*, clerk_user_id: str) -> User:
    """The user a verified token's `sub` names, created on first sight.

    Every API request runs this: one query on the unique index of `clerk_user_id`, which
    brings the user's personal ledger along (a join on its unique `personal_for`): a top-level
    path's ledger (`ledger.api.scope`) then costs no query of its own. Race-safe: two first
    requests at once create one user (the unique constraint decides; the loser reads the
    winner's row).
    """
    try:
        return User.objects.select_related("personal_ledger").get(clerk_user_id=clerk_user_id)
    except User.DoesNotExist:
        pass
    user, _ = User.objects.get_or_create(
        clerk_user_id=clerk_user_id,
        defaults={"username": clerk_user_id[:150], "last_seen": timezone.now()},
    )
    cache_set(_seen_key(user), 1, LAST_SEEN_INTERVAL_SECONDS)
    return user


def user_is_signed_in_allowed(*, user: User) -> bool:
    return user.is_active and user.deleted_at is None


def _seen_key(user: User) -> str:
    return f"accounts:seen:{user.pk}"


# user pk → when this process last saw the once-a-minute mark taken (time.time()). It spares a
# normal request even the shared cache's round trip; bounded by clearing it when it gets big.
_marked_here: dict = {}
_MARKED_HERE_MAX = 10_000


def user_mark_seen(*, user: User) -> bool:
    """Record `last_seen` at most once a minute per user; returns whether it wrote.

    The shared cache remembers the last write, so a normal request makes no database write;
    within a minute of this process seeing the mark, it does not even ask the cache.
    """
    now_seconds = time.time()
    marked = _marked_here.get(user.pk)
    if marked is not None and now_seconds - marked < LAST_SEEN_INTERVAL_SECONDS:
        return False
    if len(_marked_here) >= _MARKED_HERE_MAX:
        _marked_here.clear()
    _marked_here[user.pk] = now_seconds
    if not cache_add(_seen_key(user), 1, LAST_SEEN_INTERVAL_SECONDS):
        return False
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(last_seen=now)
    user.last_seen = now
    return True


def _primary_email(data: dict) -> str:
    primary_id = data.get("primary_email_address_id")
    addresses = data.get("email_addresses") or []
    for address in addresses:
        if isinstance(address, dict) and address.get("id") == primary_id:
            return str(address.get("email_address") or "")[:254]
    return ""


def _clerk_time(value) -> datetime | None:
    """Clerk's timestamps are milliseconds since the epoch."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def user_sync_from_clerk(*, data: dict) -> str:
    """Upsert a user from a `user.created`/`user.updated` payload; returns the outcome.

    An event older than the data already stored (Clerk's `updated_at`) changes nothing, and a
    user deleted in Clerk is never brought back by a late update. Call inside a transaction.
    """
    clerk_user_id = data["id"]
    updated_at = _clerk_time(data.get("updated_at"))
    values = {
        "email": _primary_email(data),
        "first_name": str(data.get("first_name") or "")[:150],
        "last_name": str(data.get("last_name") or "")[:150],
        "clerk_updated_at": updated_at,
    }
    user, created = User.objects.get_or_create(
        clerk_user_id=clerk_user_id,
        defaults={"username": clerk_user_id[:150], **values},
    )
    if created:
        return "created"
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.deleted_at is not None:
        return "ignored_deleted"
    if user.clerk_updated_at and (updated_at is None or updated_at < user.clerk_updated_at):
        return "ignored_stale"
    for field, value in values.items():
        setattr(user, field, value)
    user.save(update_fields=[*values, "updated_at"])
    return "updated"


def user_deactivate_from_clerk(*, clerk_user_id: str) -> str:
    """`user.deleted`: refuse the user at once; their data is purged after ACCOUNT_PURGE_DAYS.

    An unknown user is recorded as a deleted tombstone, so a late `user.created` cannot bring
    them back.
    """
    now = timezone.now()
    user, created = User.objects.get_or_create(
        clerk_user_id=clerk_user_id,
        defaults={"username": clerk_user_id[:150], "is_active": False, "deleted_at": now},
    )
    if created:
        return "deactivated"
    User.objects.filter(pk=user.pk).update(
        is_active=False, deleted_at=Coalesce("deleted_at", Value(now)), updated_at=now
    )
    # The household keeps its shared ledgers: the user leaves them now, handing ownership on.
    member_depart_everywhere(user=user)
    return "deactivated"


def user_purge_deleted(*, older_than_days: int, dry_run: bool = False) -> dict[str, int]:
    """Delete users deleted in Clerk more than `older_than_days` ago, with all their data.

    Also forgets webhook deliveries older than that (replays that old are refused by the
    signature's timestamp check anyway).
    """
    cutoff = timezone.now() - timedelta(days=older_than_days)
    users = User.objects.filter(deleted_at__lte=cutoff).exclude(clerk_user_id="")
    events = WebhookEvent.objects.filter(received_at__lte=cutoff)
    counts = {"users": users.count(), "webhook_events": events.count()}
    if dry_run:
        counts["ledgers"] = ledger_purge_orphaned(older_than=cutoff, dry_run=True)
        return counts
    with transaction.atomic():
        for user in users.select_for_update().order_by("pk"):
            transaction_authors_forget(user=user)
            user.delete()  # cascades to the personal ledger and all its data
        events.delete()
    counts["ledgers"] = ledger_purge_orphaned(older_than=cutoff)
    return counts
