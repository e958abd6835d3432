"""Writes to budgets — the one writer of `Budget` and `BudgetLine`; the rules live here, once.

`budget_set` makes the change of a month: the whole budget (total and lines) from that month
on, replacing a change made for the same month; `budget_delete` removes the change of a month,
so the one before applies again. Each write locks the owner and bumps their revision in its
own database transaction (`ledger.services.revisions`). The owner is named once per function
(`ledger=`): moving budgets to a ledger is one change each.
"""

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction
from django.db.models import QuerySet

from ledger.dates import date_in_range
from ledger.models import Budget, BudgetLine, SyncKind
from ledger.selectors.budgets import budget_category_list
from ledger.selectors.categories import category_list
from ledger.services.revisions import owner_lock, revision_bump, tombstone_record

UNKNOWN_CATEGORY = "Unknown category: use a default one or your own."
NOT_EXPENSE = "{name} is an income category: a budget holds expense categories only."
LISTED_TWICE = "This category is listed twice."
MONTH_MESSAGE = "Enter a month from 1900-01 to 2100-12."
POSITIVE = "Must be greater than 0."


def _check(*, ledger, month: datetime.date, total: Decimal | None, lines: Sequence[Mapping]):
    """The rules of a change, raising ValidationError naming each field at fault
    (`categories[2].category`)."""
    errors: dict[str, str] = {}
    if month.day != 1 or not date_in_range(month):
        errors["month"] = MONTH_MESSAGE
    if total is not None and total <= 0:
        errors["total"] = POSITIVE
    categories = [line["category"] for line in lines]
    allowed = set(
        budget_category_list(ledger=ledger)
        .filter(pk__in=[category.pk for category in categories])
        .values_list("pk", flat=True)
    )
    seen = set()
    for index, line in enumerate(lines):
        category = line["category"]
        if category.pk in seen:
            errors[f"categories[{index}].category"] = LISTED_TWICE
        elif category.pk not in allowed:
            usable = category_list(ledger=ledger).filter(pk=category.pk).exists()
            message = NOT_EXPENSE.format(name=category.name) if usable else UNKNOWN_CATEGORY
            errors[f"categories[{index}].category"] = message
        seen.add(category.pk)
        if line["amount"] <= 0:
            errors[f"categories[{index}].amount"] = POSITIVE
    if errors:
        raise ValidationError(errors)


def budget_set(
    *, ledger, month: datetime.date, total: Decimal | None, categories: Sequence[Mapping]
) -> Budget:
    """Set `ledger`'s budget from `month` (its first day) on: `total` (None: no overall limit)
    and one line per expense category, each `{"category": Category, "amount": Decimal,
    "carry_over": bool}`. Replaces the change already made for that month, if any; later
    months' changes still apply from their own months."""
    _check(ledger=ledger, month=month, total=total, lines=categories)
    with db_transaction.atomic():
        revision = revision_bump(ledger=ledger)
        budget, created = Budget.objects.get_or_create(
            ledger=ledger, month=month, defaults={"total": total, "revision": revision}
        )
        if not created:
            budget.total = total
            budget.revision = revision
            budget.save(update_fields=["total", "revision", "updated_at"])
            BudgetLine.objects.filter(budget=budget).delete()
        BudgetLine.objects.bulk_create(
            BudgetLine(
                ledger=ledger,
                budget=budget,
                category=line["category"],
                amount=line["amount"],
                carry_over=bool(line.get("carry_over", False)),
            )
            for line in categories
        )
    return budget


def budget_delete(*, ledger, month: datetime.date) -> bool:
    """Remove the change of `ledger`'s budget made for `month`, so the change before it (if
    any) applies again. False when no change was made for that month."""
    with db_transaction.atomic():
        owner_lock(ledger_ids=[ledger.pk])
        ids = list(Budget.objects.filter(ledger=ledger, month=month).values_list("pk", flat=True))
        if ids:  # nothing changed otherwise: the revision (and every ETag) stays
            revision = revision_bump(ledger=ledger)
            Budget.objects.filter(pk__in=ids).delete()
            tombstone_record(
                ledger_id=ledger.pk, kind=SyncKind.BUDGET, object_ids=ids, revision=revision
            )
    return bool(ids)


def budget_bulk_delete(*, ledger, queryset: QuerySet[Budget]) -> int:
    """Delete the changes of `queryset` that are `ledger`'s (an import's replace); returns how
    many went."""
    with db_transaction.atomic():
        revision = revision_bump(ledger=ledger)
        ids = list(queryset.filter(ledger=ledger).values_list("pk", flat=True))
        _, deleted = Budget.objects.filter(pk__in=ids).delete()
        tombstone_record(
            ledger_id=ledger.pk, kind=SyncKind.BUDGET, object_ids=ids, revision=revision
        )
    return deleted.get(Budget._meta.label, 0)
