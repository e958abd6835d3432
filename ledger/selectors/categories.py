"""Reads over categories: the global defaults plus a ledger's own."""

from django.db.models import Q, QuerySet

from ledger.models import Category


def category_list(*, ledger) -> QuerySet[Category]:
    """The categories `ledger` may see and use: the defaults (in the SPA's order), then their own.

    Another ledger's categories are never part of it, so a lookup by id through this queryset
    answers "not found" for them exactly as for a random id.
    """
    return Category.objects.filter(Q(ledger__isnull=True) | Q(ledger=ledger)).order_by(
        "-is_default", "sort_order", "name"
    )
