"""Ledgers and their members: the personal ledger of each user, shared ledgers, roles."""

from django.db import IntegrityError, transaction

from ledger.models import Ledger, LedgerRole, Membership

PERSONAL_LEDGER_NAME = "내 가계부"


def personal_ledger(*, user) -> Ledger:
    """The user's personal ledger, created with its owner membership on first sight.

    Race-safe: `personal_for` is unique, so of two concurrent first requests one creates the
    ledger and the other's insert fails (after waiting for the first to commit) and reads it.
    """
    ledger = Ledger.objects.filter(personal_for=user).first()
    if ledger is not None:
        return ledger
    try:
        with transaction.atomic():
            ledger = Ledger.objects.create(personal_for=user, name=PERSONAL_LEDGER_NAME)
            Membership.objects.create(ledger=ledger, user=user, role=LedgerRole.OWNER)
    except IntegrityError:
        ledger = Ledger.objects.get(personal_for=user)
    return ledger
