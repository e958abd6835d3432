"""Writes to transactions: create, update, delete — the rules live here, once.

Callers (the API, the admin, imports) pass validated Python values; these functions enforce
the rules that need the database or the row's current state and raise Django's
`ValidationError` naming the field, which the API answers as a 400.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import transaction as db_transaction

from ledger.models import Category, Transaction, TransactionStatus
from ledger.selectors.categories import category_list

# The fields a user may change; `user`, `recurring` and `legacy_id` are not among them.
EDITABLE_FIELDS = ("date", "description", "amount", "type", "category", "status")


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
    return Transaction.objects.create(
        user=user,
        date=date,
        description=description,
        amount=amount,
        type=type,
        category=category,
        status=status,
    )


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
                transaction.save(update_fields=[*changes, "updated_at"])
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
        transaction.delete()
