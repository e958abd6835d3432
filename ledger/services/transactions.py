"""Writes to transactions — the one writer of the table; the rules live here, once.

Callers (the API, the admin, the recurring engine, imports) pass validated Python values;
these functions enforce the rules that need the database or the row's current state and raise
Django's `ValidationError` naming the field, which the API answers as a 400. Every write bumps
the owner's revision in the same database transaction (`ledger.services.revisions`) and, in it
too, counts the rows it adds, changes or removes in the category suggester's evidence
(`ledger.services.suggestions`).
"""

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.db.models import QuerySet

from ledger.models import Category, Transaction, TransactionStatus
from ledger.selectors.categories import category_list
from ledger.services.revisions import revision_bump
from ledger.services.suggestions import (
    evidence_in,
    evidence_of,
    suggestion_grams_forget,
    suggestion_grams_update,
)

# Rows per INSERT of a bulk write: large enough to amortise the round trip, small enough to
# keep each statement's parameters well under PostgreSQL's limit of 65,535.
BULK_BATCH_SIZE = 2000

# The fields a user may change; `user`, `recurring` and `legacy_id` are not among them.
EDITABLE_FIELDS = ("date", "description", "amount", "type", "category", "status")
# The fields the category suggester learns from (`ledger.suggestion_grams.Evidence`).
TEACHING_FIELDS = frozenset({"date", "description", "type", "category"})


def _check_category(*, user, category: Category | None) -> None:
    if category is not None and not category_list(user=user).filter(pk=category.pk).exists():
        raise ValidationError({"category": "Unknown category."})


def transaction_validate_create(
    *, user, amount: Decimal | None, category: Category | None
) -> None:
    """The rules of `transaction_create`, without writing: raises ValidationError naming the
    field. (The admin's add form calls it to show the error on the form.)"""
    if amount is None:
        raise ValidationError({"amount": "This field is required."})
    _check_category(user=user, category=category)


def transaction_validate_update(*, transaction: Transaction, changes: dict) -> None:
    """The rules of `transaction_update`, without writing: raises ValidationError naming the
    field. `transaction.user` is the owner whose categories are allowed. (The admin's change
    form calls it to show the error on the form.)"""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    if "amount" in changes and changes["amount"] is None:
        raise ValidationError({"amount": "This field may not be null."})
    if "category" in changes:
        _check_category(user=transaction.user, category=changes["category"])
    amount = changes.get("amount", transaction.amount)
    status = changes.get("status", transaction.status)
    if amount is None and status == TransactionStatus.CONFIRMED:
        raise ValidationError(
            {"amount": "Enter the amount to confirm this transaction (its amount is pending)."}
        )


def transaction_create(
    *,
    user,
    date: datetime.date,
    description: str,
    amount: Decimal,
    type: str,
    category: Category | None = None,
    status: str = TransactionStatus.CONFIRMED,
) -> Transaction:
    """Create one transaction of `user`. `amount` is required (> 0): only the recurring engine
    creates amount-pending occurrences."""
    transaction_validate_create(user=user, amount=amount, category=category)
    with db_transaction.atomic():
        revision_bump(user=user)
        created = Transaction.objects.create(
            user=user,
            date=date,
            description=description,
            amount=amount,
            type=type,
            category=category,
            status=status,
        )
        suggestion_grams_update(added=evidence_of([created]))
        return created


def transaction_bulk_create(
    *, user, transactions: Sequence[Transaction], ignore_conflicts: bool = False
) -> list[Transaction]:
    """Insert many prepared transactions of `user` in batches (the engine, the import).

    The caller has validated each row (its parse step, or the rule it comes from). With
    `ignore_conflicts`, a row that a unique key already holds — one per (rule, date), one per
    (user, legacy_id) — is skipped (`ON CONFLICT DO NOTHING`), so concurrent runs cannot
    duplicate; the returned list is then only the rows inserted (their ids set).
    """
    if any(row.user_id != user.pk for row in transactions):
        raise ValueError("transaction_bulk_create: every row must belong to `user`")
    if not transactions:
        return []
    with db_transaction.atomic():
        revision_bump(user=user)
        inserted = []
        for start in range(0, len(transactions), BULK_BATCH_SIZE):
            batch = transactions[start : start + BULK_BATCH_SIZE]
            if ignore_conflicts:
                inserted.extend(_insert_new(batch))
            else:
                inserted.extend(Transaction.objects.bulk_create(batch))
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
                revision_bump(user=transaction.user)
                # As stored, not as the instance says: a form may have changed it already.
                teaches = not TEACHING_FIELDS.isdisjoint(changes)
                stored = Transaction.objects.filter(pk=transaction.pk)
                before = evidence_in(stored) if teaches else []
                transaction.save(update_fields=[*changes, "updated_at"])
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
        revision_bump(user=transaction.user)
        removed = evidence_in(Transaction.objects.filter(pk=transaction.pk))
        transaction.delete()
        suggestion_grams_update(removed=removed)


def transaction_bulk_delete(*, user, queryset: QuerySet[Transaction]) -> int:
    """Delete the rows of `queryset` that belong to `user` (a rule's future occurrences, an
    import's replace); returns how many went."""
    with db_transaction.atomic():
        revision_bump(user=user)
        mine = queryset.filter(user=user)
        if mine.count() == Transaction.objects.filter(user=user).count():
            _, deleted = mine.delete()  # all of them: nothing left to learn from
            suggestion_grams_forget(user=user)
        else:
            removed = evidence_in(mine)
            _, deleted = mine.delete()
            suggestion_grams_update(removed=removed)
    return deleted.get(Transaction._meta.label, 0)
