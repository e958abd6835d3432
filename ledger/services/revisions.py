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


def revision_bump_users(*, user_ids: Iterable) -> None:
    """Add one to the revision of each of `user_ids` (a write that spans users, such as the
    nightly confirmation). Their rows are locked in primary-key order first, so two such
    writers cannot deadlock on each other."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    users = get_user_model().objects.filter(pk__in=ids)
    list(users.select_for_update().order_by("pk").values_list("pk", flat=True))
    users.update(revision=F("revision") + 1)
