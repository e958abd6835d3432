"""Reads over transactions: the filtered list and the calendar (a day or a month).

The calendar can merge the recurring projection of SPEC §4 — the SPA's 📅 entries for
occurrences a rule will yield that have no transaction yet — as rows of the same shape.
Rows are plain dicts with the keys the caller's rendering asks for (`fields`).
"""

import datetime
from collections.abc import Sequence

from django.db.models import QuerySet

from ledger.models import Transaction, TransactionStatus
from ledger.selectors.recurring import ProjectedOccurrence, recurring_projection


def transaction_list(*, ledger) -> QuerySet[Transaction]:
    """The ledger's transactions, newest date first then newest created.

    Filtering (django-filter) and pagination are applied on top by the API. The base filter is
    on `ledger` and the default order matches the (ledger, date, created_at, id) index.
    """
    return Transaction.objects.filter(ledger=ledger).order_by("-date", "-created_at", "-id")


def transaction_rows(queryset: QuerySet[Transaction], *, fields: Sequence[str]) -> QuerySet:
    """`queryset` as dict rows with `fields` (values keys such as `category__name`)."""
    return queryset.values(*fields)


def transaction_row(*, ledger, pk, fields: Sequence[str]) -> dict:
    """One of the ledger's transactions as a dict row; Transaction.DoesNotExist otherwise."""
    return transaction_rows(Transaction.objects.filter(ledger=ledger, pk=pk), fields=fields).get()


def _projected_row(occurrence: ProjectedOccurrence) -> dict:
    """A rule's occurrence with no transaction yet, in a transaction row's shape."""
    rule = occurrence.rule
    category = rule.category
    return {
        "id": None,
        "date": occurrence.date,
        "description": occurrence.description,
        "amount": occurrence.amount,
        "type": rule.type,
        "category_id": rule.category_id,
        "category__name": None if category is None else category.name,
        "category__emoji": None if category is None else category.emoji,
        "status": TransactionStatus.SCHEDULED,
        "recurring_id": rule.id,
        "projected": True,
        "created_at": None,
        "updated_at": None,
    }


def transaction_calendar(
    *,
    ledger,
    date_from: datetime.date,
    date_to: datetime.date,
    include_projected: bool,
    fields: Sequence[str],
) -> list[dict]:
    """The transactions of `date_from`..`date_to` by date, then creation order; with
    `include_projected`, each day's projected occurrences after its real transactions."""
    rows = list(
        transaction_rows(
            Transaction.objects.filter(ledger=ledger, date__range=(date_from, date_to)).order_by(
                "date", "created_at", "id"
            ),
            fields=fields,
        )
    )
    if include_projected:
        projected = recurring_projection(ledger=ledger, date_from=date_from, date_to=date_to)
        rows.extend(_projected_row(occurrence) for occurrence in projected)
        # Stable: within a day, real transactions (in creation order) before projected ones.
        rows.sort(key=lambda row: row["date"])
    return rows
