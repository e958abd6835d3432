"""Celery tasks of the accounts app (thin wrappers over services)."""

from celery import shared_task
from django.conf import settings

from accounts.services.users import user_purge_deleted


@shared_task(name="accounts.tasks.purge_deleted_accounts")
def purge_deleted_accounts(days: int | None = None) -> dict[str, int]:
    """Purge users deleted in Clerk more than ACCOUNT_PURGE_DAYS ago (beat: daily 04:30)."""
    if days is None:
        days = settings.ACCOUNT_PURGE_DAYS
    return user_purge_deleted(older_than_days=days)
