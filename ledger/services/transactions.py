"""Writes to transactions — the one writer of the table; the rules live here, once.

Callers (the API, the admin, the recurring engine, imports) pass validated Python values;
these functions enforce the rules that need the database or the row's current state and raise
Django's `ValidationError` naming the field, which the API answers as a 400. Every write bumps
the owner's revision in the same database transaction (`ledger.services.revisions`) and, in it
too, counts the rows it adds, changes or removes in the month summary
(`ledger.services.month_summaries`) and in the category suggester's evidence
(`ledger.services.suggestions`).
"""

import datetime
import logging
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from ledger.dates import local_today
from ledger.models import Category, Ledger, SyncKind, Transaction, TransactionStatus
from ledger.selectors.categories import category_list
from ledger.services.month_summaries import (
    SUMMED_FIELDS,
    month_summary_update,
    month_sums_in,
    month_sums_of,
)
from ledger.services.revisions import (
    revision_bump,
    revision_bump_ledgers,
    tombstone_record,
    transaction_count_add,
)
from ledger.services.suggestions import (
    evidence_in,
    evidence_of,
    suggestion_grams_forget,
    suggestion_grams_update,
)


def _owner_revision() -> Subquery:
    """In an UPDATE over several owners' rows: each row takes its owner's (just bumped)
    revision."""
    owners = Ledger.objects.filter(pk=OuterRef("ledger_id"))
    return Subquery(owners.values("revision")[:1])


logger = logging.getLogger(__name__)

# Rows per INSERT of a bulk write: large enough to amortise the round trip, small enough to
# keep each statement's parameters well under PostgreSQL's limit of 65,535.
BULK_BATCH_SIZE = 2000

# The fields a ledger may change; `ledger`, `recurring` and `legacy_id` are not among them.
EDITABLE_FIELDS = ("date", "description", "amount", "type", "category", "status")
# The fields the category suggester learns from (`ledger.suggestion_grams.Evidence`).
TEACHING_FIELDS = frozenset({"date", "description", "type", "category"})


def _check_category(*, ledger, category: Category | None) -> None:
    if category is not None and not category_list(ledger=ledger).filter(pk=category.pk).exists():
        raise ValidationError({"category": "Unknown category."})


def transaction_validate_create(
    *, ledger, amount: Decimal | None, category: Category | None
) -> None:
    """The rules of `transaction_create`, without writing: raises ValidationError naming the
    field. (The admin's add form calls it to show the error on the form.)"""
    if amount is None:
        raise ValidationError({"amount": "This field is required."})
    _check_category(ledger=ledger, category=category)


def transaction_validate_update(*, transaction: Transaction, changes: dict) -> None:
    """The rules of `transaction_update`, without writing: raises ValidationError naming the
    field. `transaction.ledger` is the owner whose categories are allowed. (The admin's change
    form calls it to show the error on the form.)"""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    if "amount" in changes and changes["amount"] is None:
        raise ValidationError({"amount": "This field may not be null."})
    if "category" in changes:
        _check_category(ledger=transaction.ledger, category=changes["category"])
    amount = changes.get("amount", transaction.amount)
    status = changes.get("status", transaction.status)
    if amount is None and status == TransactionStatus.CONFIRMED:
        raise ValidationError(
            {"amount": "Enter the amount to confirm this transaction (its amount is pending)."}
        )


def transaction_create(
    *,
    ledger,
    date: datetime.date,
    description: str,
    amount: Decimal,
    type: str,
    category: Category | None = None,
    status: str = TransactionStatus.CONFIRMED,
    created_by=None,
) -> Transaction:
    """Create one transaction of `ledger`, entered by `created_by` (a user, or None).
    `amount` is required (> 0): only the recurring engine creates amount-pending
    occurrences."""
    transaction_validate_create(ledger=ledger, amount=amount, category=category)
    with db_transaction.atomic():
        created = Transaction.objects.create(
            revision=revision_bump(ledger=ledger),
            ledger=ledger,
            created_by=created_by,
            date=date,
            description=description,
            amount=amount,
            type=type,
            category=category,
            status=status,
        )
        transaction_count_add(added={ledger.pk: 1})
        month_summary_update(added=month_sums_of([created]))
        suggestion_grams_update(added=evidence_of([created]))
        return created


def transaction_bulk_create(
    *, ledger, transactions: Sequence[Transaction], ignore_conflicts: bool = False
) -> list[Transaction]:
    """Insert many prepared transactions of `ledger` in batches (the engine, the import).

    The caller has validated each row (its parse step, or the rule it comes from). With
    `ignore_conflicts`, a row that a unique key already holds — one per (rule, date), one per
    (ledger, legacy_id) — is skipped (`ON CONFLICT DO NOTHING`), so concurrent runs cannot
    duplicate; the returned list is then only the rows inserted (their ids set).
    """
    if any(row.ledger_id != ledger.pk for row in transactions):
        raise ValueError("transaction_bulk_create: every row must belong to `ledger`")
    if not transactions:
        return []
    return _bulk_insert(transactions, ignore_conflicts=ignore_conflicts)


def transaction_bulk_create_for_owners(
    *, transactions: Sequence[Transaction], ignore_conflicts: bool = False
) -> list[Transaction]:
    """`transaction_bulk_create` for rows of several users at once (the recurring engine's
    batches span users): every owner's revision is bumped, owners locked in primary-key order,
    and the rows go in a few large INSERTs rather than a few per ledger."""
    return _bulk_insert(transactions, ignore_conflicts=ignore_conflicts)


def _bulk_insert(
    transactions: Sequence[Transaction], *, ignore_conflicts: bool
) -> list[Transaction]:
    """Insert in batches, each under a revision of its own for its owners: a `/sync` page
    holds whole revisions, so no revision may hold more rows than a batch."""
    inserted = []
    with db_transaction.atomic():
        for start in range(0, len(transactions), BULK_BATCH_SIZE):
            batch = transactions[start : start + BULK_BATCH_SIZE]
            revisions = revision_bump_ledgers(ledger_ids={row.ledger_id for row in batch})
            for row in batch:
                row.revision = revisions[row.ledger_id]
            new = _insert_new(batch) if ignore_conflicts else Transaction.objects.bulk_create(batch)
            transaction_count_add(added=Counter(row.ledger_id for row in new))
            inserted.extend(new)
        month_summary_update(added=month_sums_of(inserted))
        suggestion_grams_update(added=evidence_of(inserted))
    return inserted


def _insert_new(batch: Sequence[Transaction]) -> list[Transaction]:
    """Insert `batch`, skipping rows a unique key already holds; the rows inserted.

    Django's `ignore_conflicts` cannot say which rows went in, so the ids are asked for
    afterwards: the batch's ids are fresh UUIDs, so those found are exactly the inserted ones.
    """
    Transaction.objects.bulk_create(batch, ignore_conflicts=True)
    found = set(
        Transaction.objects.filter(pk__in=[row.pk for row in batch]).values_list("pk", flat=True)
    )
    return [row for row in batch if row.pk in found]


def transaction_bulk_update(
    *, ledger, transactions: Sequence[Transaction], fields: Sequence[str]
) -> None:
    """Save `fields` (and `updated_at`) of many prepared transactions of `ledger` in batches
    (a rule's future occurrences following the rule's edit; rows a re-import updates, with
    their `import_hash`). The caller has validated the values, and kept one transaction per
    (rule, date)."""
    if any(row.ledger_id != ledger.pk for row in transactions):
        raise ValueError("transaction_bulk_update: every row must belong to `ledger`")
    if not transactions:
        return
    now = timezone.now()
    teaches = not TEACHING_FIELDS.isdisjoint(fields)
    sums = not SUMMED_FIELDS.isdisjoint(fields)
    with db_transaction.atomic():
        revision = revision_bump(ledger=ledger)
        # As stored, not as the instances say: the caller has changed them already.
        stored = Transaction.objects.filter(pk__in=[row.pk for row in transactions])
        before = evidence_in(stored) if teaches else []
        sums_before = month_sums_in(stored) if sums else {}
        for row in transactions:
            row.updated_at = now
            row.revision = revision
        Transaction.objects.bulk_update(
            transactions, [*fields, "updated_at", "revision"], batch_size=BULK_BATCH_SIZE
        )
        if sums:
            month_summary_update(added=month_sums_in(stored), removed=sums_before)
        if teaches:
            suggestion_grams_update(added=evidence_of(transactions), removed=before)


def transaction_bulk_change(
    *, ledger, queryset: QuerySet[Transaction], changes: dict, revision: int | None = None
) -> int:
    """Set `changes` on the rows of `queryset` that belong to `ledger` (a deleted category's
    rows become uncategorized, a deleted rule's history is unlinked), stamped with `revision`
    — the caller's, when it bumped it already for a write of its own — or a new one."""
    with db_transaction.atomic():
        if revision is None:
            revision = revision_bump(ledger=ledger)
        mine = queryset.filter(ledger=ledger)
        teaches = not TEACHING_FIELDS.isdisjoint(changes)
        sums = not SUMMED_FIELDS.isdisjoint(changes)
        if not (teaches or sums):
            return mine.update(**changes, updated_at=timezone.now(), revision=revision)
        # The rows by id: those changed must be the ones read before and after.
        changed = Transaction.objects.filter(pk__in=list(mine.values_list("pk", flat=True)))
        before = evidence_in(changed) if teaches else []
        sums_before = month_sums_in(changed) if sums else {}
        count = changed.update(**changes, updated_at=timezone.now(), revision=revision)
        if sums:
            month_summary_update(added=month_sums_in(changed), removed=sums_before)
        if teaches:
            suggestion_grams_update(added=evidence_in(changed), removed=before)
        return count


def transaction_authors_forget(*, user) -> int:
    """Before `user`'s account is deleted: their rows in the ledgers they shared lose their
    author (`created_by` NULL, as the foreign key would set it) through the one writer, so
    each ledger's revision moves (`/sync` carries the change) and its month summary follows.
    Returns how many rows."""
    ledger_ids = (
        Transaction.objects.filter(created_by=user)
        .exclude(ledger__personal_for=user)  # deleted with the account
        .order_by()
        .values_list("ledger_id", flat=True)
        .distinct()
    )
    forgotten = 0
    for ledger in Ledger.objects.filter(pk__in=list(ledger_ids)).order_by("pk"):
        forgotten += transaction_bulk_change(
            ledger=ledger,
            queryset=Transaction.objects.filter(created_by=user),
            changes={"created_by": None},
        )
    return forgotten


def transaction_update(*, transaction: Transaction, **changes) -> Transaction:
    """Change the given fields of `transaction` (any of EDITABLE_FIELDS).

    A generated occurrence stays linked to its rule. An amount cannot be set to null, and a
    transaction whose amount is still pending (a variable-amount occurrence) can be confirmed
    only together with its amount.
    """
    transaction_validate_update(transaction=transaction, changes=changes)
    for name, value in changes.items():
        setattr(transaction, name, value)
    if changes:
        try:
            with db_transaction.atomic():
                transaction.revision = revision_bump(ledger=transaction.ledger)
                # As stored, not as the instance says: a form may have changed it already.
                teaches = not TEACHING_FIELDS.isdisjoint(changes)
                sums = not SUMMED_FIELDS.isdisjoint(changes)
                stored = Transaction.objects.filter(pk=transaction.pk)
                before = evidence_in(stored) if teaches else []
                sums_before = month_sums_in(stored) if sums else {}
                transaction.save(update_fields=[*changes, "updated_at", "revision"])
                if sums:
                    month_summary_update(added=month_sums_in(stored), removed=sums_before)
                if teaches:
                    suggestion_grams_update(added=evidence_of([transaction]), removed=before)
        except IntegrityError as error:
            # The one constraint an edit can hit: one transaction per (rule, date).
            raise ValidationError(
                {"date": "The recurring rule already has a transaction on this date."}
            ) from error
    return transaction


def transaction_delete(*, transaction: Transaction) -> None:
    """Delete one transaction. A deleted recurring occurrence is not re-created: the engine
    remembers materialized dates in `RecurringOccurrence`, which this leaves in place."""
    with db_transaction.atomic():
        revision = revision_bump(ledger=transaction.ledger)
        tombstone_record(
            ledger_id=transaction.ledger_id,
            kind=SyncKind.TRANSACTION,
            object_ids=[transaction.pk],
            revision=revision,
        )
        stored = Transaction.objects.filter(pk=transaction.pk)
        removed = evidence_in(stored)
        month_summary_update(removed=month_sums_in(stored))
        _, deleted = transaction.delete()
        transaction_count_add(
            added={transaction.ledger_id: -deleted.get(Transaction._meta.label, 0)}
        )
        suggestion_grams_update(removed=removed)


def transaction_bulk_delete(*, ledger, queryset: QuerySet[Transaction]) -> int:
    """Delete the rows of `queryset` that belong to `ledger` (a rule's future occurrences, an
    import's replace); returns how many went."""
    with db_transaction.atomic():
        revision = revision_bump(ledger=ledger)
        doomed = queryset.filter(ledger=ledger)
        tombstone_record(
            ledger_id=ledger.pk,
            kind=SyncKind.TRANSACTION,
            object_ids=doomed.values_list("pk", flat=True).iterator(),
            revision=revision,
        )
        month_summary_update(removed=month_sums_in(doomed))
        if doomed.count() == Transaction.objects.filter(ledger=ledger).count():
            _, deleted = doomed.delete()  # all of them: nothing left to learn from
            suggestion_grams_forget(ledger=ledger)
        else:
            removed = evidence_in(doomed)
            _, deleted = doomed.delete()
            suggestion_grams_update(removed=removed)
        count = deleted.get(Transaction._meta.label, 0)
        transaction_count_add(added={ledger.pk: -count})
    return count


def transaction_confirm_due(*, today: datetime.date | None = None, batch_size: int = 5000) -> int:
    """Turn `scheduled` transactions dated today or earlier (in `TIME_ZONE`) into `confirmed`
    (SPEC §7, the nightly task); returns how many.

    Occurrences of variable-amount rules are left for the ledger to confirm with the real
    amount; so is anything without an amount. One database transaction per batch, which bumps
    the revision of every ledger whose rows it confirms.
    """
    today = today or local_today()
    due = (
        Transaction.objects.filter(
            status=TransactionStatus.SCHEDULED, date__lte=today, amount__isnull=False
        )
        .filter(Q(recurring__isnull=True) | Q(recurring__is_variable_amount=False))
        .order_by("pk")
    )
    confirmed = 0
    last_pk = None
    while True:
        page = due if last_pk is None else due.filter(pk__gt=last_pk)
        with db_transaction.atomic():
            rows = list(page.values_list("pk", "ledger_id")[:batch_size])
            if not rows:
                break
            last_pk = rows[-1][0]
            # The owners first, as every service locks the ledger before the rows it writes.
            revision_bump_ledgers(ledger_ids=[ledger_id for _, ledger_id in rows])
            page_rows = Transaction.objects.filter(pk__in=[pk for pk, _ in rows])
            before = month_sums_in(page_rows)
            # Filtered again: a row edited since the read above is left as its editor made it.
            confirmed += due.filter(pk__in=[pk for pk, _ in rows]).update(
                status=TransactionStatus.CONFIRMED,
                updated_at=timezone.now(),
                revision=_owner_revision(),
            )
            month_summary_update(added=month_sums_in(page_rows), removed=before)
    if confirmed:
        logger.info("confirmed %d due scheduled transactions (through %s)", confirmed, today)
    return confirmed
