"""The revision of a ledger's data: one counter that every write bumps.

Every service that writes categories, recurring rules or transactions calls `revision_bump`
inside its own database transaction and stamps the rows it writes with the new revision (their
`revision` column); a deletion leaves a `Tombstone` at it. So a rolled-back write leaves
everything as it was, and a committed one is visible as "rows with a revision above R": the
ETag of every read (`household_ledger.api.preconditions`) and the delta of `/sync`
(`ledger.selectors.sync`).
"""

from collections.abc import Iterable, Mapping

from django.db.models import Case, F, Value, When

from ledger.models import Ledger, Tombstone


def owner_lock(*, ledger_ids: Iterable) -> None:
    """Lock the ledgers' rows, in primary-key order, until the caller's transaction ends.

    Every writer of ledger data locks the ledger before any row it writes (`revision_bump`
    does it too), so writers of one ledger — whichever member they act for — queue on that
    one lock and can never deadlock on each other's rows; a writer spanning ledgers takes
    them in key order.
    """
    ids = sorted(set(ledger_ids))
    if ids:
        ledgers = Ledger.objects.filter(pk__in=ids).select_for_update().order_by("pk")
        list(ledgers.values_list("pk", flat=True))


def revision_bump(*, ledger) -> int:
    """Add one to `ledger`'s revision and return it. Call it inside the write's `atomic()`
    block: the row lock it takes orders concurrent writers of one ledger."""
    revision = revision_bump_ledgers(ledger_ids=[ledger.pk])[ledger.pk]
    ledger.revision = revision
    return revision


def revision_bump_ledgers(*, ledger_ids: Iterable) -> dict:
    """Add one to the revision of each of `ledger_ids` (a write that spans ledgers, such as
    the nightly confirmation), their rows locked in primary-key order first; {id: revision}."""
    ids = sorted(set(ledger_ids))
    if not ids:
        return {}
    owner_lock(ledger_ids=ids)
    ledgers = Ledger.objects.filter(pk__in=ids)
    ledgers.update(revision=F("revision") + 1)
    return dict(ledgers.values_list("pk", "revision"))


def transaction_count_add(*, added: Mapping) -> None:
    """Add {ledger id: rows added (negative: removed)} to the ledgers' `transaction_count`.
    The writers of transactions call it in their `atomic()` block, after the rows and after
    `revision_bump`, whose row lock it relies on."""
    changes = {ledger_id: count for ledger_id, count in added.items() if count}
    if changes:  # one statement for all (the engine's batches span hundreds of ledgers)
        change = Case(*(When(pk=pk, then=Value(n)) for pk, n in changes.items()))
        Ledger.objects.filter(pk__in=changes).update(
            transaction_count=F("transaction_count") + change
        )


def revision_bump_everyone() -> None:
    """Add one to every ledger's revision: the shared default categories changed, and every
    ledger's calendar shows their names."""
    Ledger.objects.update(revision=F("revision") + 1)


def tombstone_record(*, ledger_id, kind: str, object_ids: Iterable, revision: int) -> None:
    """Remember that these rows of `ledger_id` were deleted at `revision` (for `/sync`)."""
    Tombstone.objects.bulk_create(
        [
            Tombstone(ledger_id=ledger_id, kind=kind, object_id=object_id, revision=revision)
            for object_id in object_ids
        ],
        batch_size=2000,
    )
