"""Shared ledgers: create (the caller becomes owner), rename, delete.

The caller's role is checked by the API (`ledger.selectors.ledgers.ledger_for_member`); these
functions hold the rules that do not depend on who asks.
"""

from django.db import transaction

from ledger.models import Ledger, LedgerRole, Membership
from ledger.services.ledger_errors import PERSONAL_NOT_DELETABLE, LedgerRuleError


def ledger_create(*, user, name: str) -> Ledger:
    with transaction.atomic():
        ledger = Ledger.objects.create(name=name)
        Membership.objects.create(ledger=ledger, user=user, role=LedgerRole.OWNER)
    return ledger


def ledger_rename(*, ledger: Ledger, name: str) -> Ledger:
    Ledger.objects.filter(pk=ledger.pk).update(name=name)
    ledger.name = name
    return ledger


def ledger_delete(*, ledger: Ledger) -> None:
    # The personal ledger is what the top-level paths act on: it lives as long as its user.
    if ledger.is_personal:
        raise LedgerRuleError("personal_ledger", PERSONAL_NOT_DELETABLE)
    ledger.delete()


def ledger_purge_orphaned(*, older_than, dry_run: bool = False) -> int:
    """Delete shared ledgers left without an owner (`deleted_at`) before `older_than`, with
    all their data (CASCADE); returns how many."""
    orphaned = Ledger.objects.filter(deleted_at__lte=older_than, personal_for__isnull=True)
    if dry_run:
        return orphaned.count()
    with transaction.atomic():
        deleted = 0
        for ledger in orphaned.select_for_update().order_by("pk"):
            ledger.delete()
            deleted += 1
    return deleted
