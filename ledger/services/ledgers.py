"""Ledgers and their members: the personal ledger of each user, shared ledgers, roles."""

from django.db import IntegrityError, transaction

from ledger.models import Ledger, LedgerRole, Membership

PERSONAL_LEDGER_NAME = "내 가계부"


def personal_ledger(*, user) -> Ledger:
    """The user's personal ledger, created with its owner membership on first sight.

    A user loaded together with its ledger (`select_related("personal_ledger")`, as the
    session's user is) answers with that ledger, as it was when the user was read, without a
    query; any other user object reads it now.

    Race-safe: `personal_for` is unique, so of two concurrent first requests one creates the
    ledger and the other's insert fails (after waiting for the first to commit) and reads it.
    """
    if type(user).personal_ledger.is_cached(user):
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
    if type(user).personal_ledger.is_cached(user):
        user.personal_ledger = ledger  # the loaded "none yet" is stale now
    return ledger
