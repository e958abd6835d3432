"""Ledgers and their members: the personal ledger of each user, shared ledgers, roles."""

from django.db import IntegrityError, transaction

from ledger.models import Ledger, LedgerRole, Membership

PERSONAL_LEDGER_NAME = "내 가계부"


def personal_ledger(*, user, loaded_with_user: bool = False) -> Ledger:
    """The user's personal ledger, created with its owner membership on first sight.

    `loaded_with_user`: `user` was just read together with its ledger
    (`select_related("personal_ledger")`, as the session's user is by
    `user_get_or_create_for_session`), so the ledger read then is the answer, without a query
    of its own. Anywhere else the ledger is read now: a user object kept across writes would
    hold a stale revision.

    Race-safe: `personal_for` is unique, so of two concurrent first requests one creates the
    ledger and the other's insert fails (after waiting for the first to commit) and reads it.
    """
    if loaded_with_user and type(user).personal_ledger.is_cached(user):
        ledger = getattr(user, "personal_ledger", None)  # None: loaded, and there is none yet
    else:
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
