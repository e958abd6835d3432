"""The revision of a user's ledger data: one counter that every write bumps.

Every service that writes categories, recurring rules or transactions calls `revision_bump`
inside its own database transaction and stamps the rows it writes with the new revision (their
`revision` column); a deletion leaves a `Tombstone` at it. So a rolled-back write leaves
everything as it was, and a committed one is visible as "rows with a revision above R": the
ETag of every read (`household_ledger.api.preconditions`) and the delta of `/sync`
(`ledger.selectors.sync`).
"""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import F

from ledger.models import Tombstone


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


def revision_bump(*, user) -> int:
    """Add one to `user`'s revision and return it. Call it inside the write's `atomic()` block:
    the row lock it takes orders concurrent writers of one user."""
    return revision_bump_users(user_ids=[user.pk])[user.pk]


def revision_bump_users(*, user_ids: Iterable) -> dict:
    """Add one to the revision of each of `user_ids` (a write that spans users, such as the
    nightly confirmation), their rows locked in primary-key order first; {user id: revision}."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    owner_lock(user_ids=ids)
    users = get_user_model().objects.filter(pk__in=ids)
    users.update(revision=F("revision") + 1)
    return dict(users.values_list("pk", "revision"))


def revision_bump_everyone() -> None:
    """Add one to every user's revision: the shared default categories changed, and every
    user's calendar shows their names."""
    get_user_model().objects.update(revision=F("revision") + 1)


def tombstone_record(*, user_id, kind: str, object_ids: Iterable, revision: int) -> None:
    """Remember that these rows of `user_id` were deleted at `revision` (for `/sync`)."""
    Tombstone.objects.bulk_create(
        [
            Tombstone(user_id=user_id, kind=kind, object_id=object_id, revision=revision)
            for object_id in object_ids
        ],
        batch_size=2000,
    )
