"""Reads over categories: the global defaults plus a user's own."""

from django.db.models import Q, QuerySet

from ledger.models import Category


def category_list(*, user) -> QuerySet[Category]:
    """The categories `user` may see and use: the defaults (in the SPA's order), then their own.

    Another user's categories are never part of it, so a lookup by id through this queryset
    answers "not found" for them exactly as for a random id.
    """
    return Category.objects.filter(Q(user__isnull=True) | Q(user=user)).order_by(
        "-is_default", "sort_order", "name"
    )
