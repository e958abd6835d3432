"""The revision of a user's ledger data: one counter that every write bumps.

Every service that writes categories, recurring rules or transactions calls `revision_bump`
inside its own database transaction, so a rolled-back write leaves the revision as it was and
a committed one always changes it. Readers use it as the ETag of what they render
(`household_ledger.api.conditional`).
"""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import F


def revision_bump(*, user) -> None:
    """Add one to `user`'s revision. Call it inside the write's `atomic()` block: the row lock
    it takes also orders concurrent writers of one user."""
    get_user_model().objects.filter(pk=user.pk).update(revision=F("revision") + 1)


def revision_bump_everyone() -> None:
    """Add one to every user's revision: the shared default categories changed, and every
    user's calendar shows their names."""
    get_user_model().objects.update(revision=F("revision") + 1)


def owner_lock(*, user_ids: Iterable) -> None:
    """Lock the owners' rows, in primary-key order, until the caller's transaction ends.

    Every writer of ledger data locks the owner before any row it writes (`revision_bump` does
    it too), so writers of one user queue on that one lock and can never deadlock on each
    other's rows; a writer spanning users takes them in key order.
    """
    ids = sorted(set(user_ids))
    if ids:
        users = get_user_model().objects.filter(pk__in=ids).select_for_update().order_by("pk")
        list(users.values_list("pk", flat=True))


def revision_bump_users(*, user_ids: Iterable) -> None:
    """Add one to the revision of each of `user_ids` (a write that spans users, such as the
    nightly confirmation), their rows locked in primary-key order first."""
    ids = sorted(set(user_ids))
    if ids:
        owner_lock(user_ids=ids)
        get_user_model().objects.filter(pk__in=ids).update(revision=F("revision") + 1)
