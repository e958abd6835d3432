"""Reads over transactions: the filtered list and the calendar views (one day, one month).

The calendar views can merge the recurring projection of SPEC §4 — the SPA's 📅 entries for
occurrences a rule will yield that have no transaction yet.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from ledger.dates import month_end
from ledger.models import Category, Transaction, TransactionStatus
from ledger.selectors.recurring import ProjectedOccurrence, recurring_projection


def transaction_list(*, user) -> QuerySet[Transaction]:
    """The user's transactions, newest date first then newest created; category joined.

    Filtering (django-filter) and pagination are applied on top by the API. The base filter is
    on `user` and the default order matches the (user, date DESC) index.
    """
    return (
        Transaction.objects.filter(user=user)
        .select_related("category")
        .order_by("-date", "-created_at", "-id")
    )


@dataclass(frozen=True)
class ProjectedTransaction:
    """A calendar entry for a rule occurrence that has no transaction yet.

    It has the attributes of a `Transaction` that the API shows, so one serializer renders
    both; `id` is None and `projected` is True.
    """

    occurrence: ProjectedOccurrence

    id = None
    projected = True
    status = TransactionStatus.SCHEDULED
    created_at = None
    updated_at = None

    @property
    def date(self) -> datetime.date:
        return self.occurrence.date

    @property
    def description(self) -> str:
        rule = self.occurrence.rule
        return rule.description or rule.template_name

    @property
    def amount(self) -> Decimal | None:
        return self.occurrence.amount

    @property
    def type(self) -> str:
        return self.occurrence.rule.type

    @property
    def category(self) -> Category | None:
        return self.occurrence.rule.category

    @property
    def category_id(self):
        return self.occurrence.rule.category_id

    @property
    def recurring_id(self):
        return self.occurrence.rule.id


CalendarEntry = Transaction | ProjectedTransaction


def _calendar(
    *, user, date_from: datetime.date, date_to: datetime.date, include_projected: bool
) -> list[CalendarEntry]:
    entries: list[CalendarEntry] = list(
        Transaction.objects.filter(user=user, date__range=(date_from, date_to))
        .select_related("category")
        .order_by("date", "created_at", "id")
    )
    if include_projected:
        projected = recurring_projection(user=user, date_from=date_from, date_to=date_to)
        entries.extend(ProjectedTransaction(occurrence=occurrence) for occurrence in projected)
        # Stable: within a day, real transactions (in creation order) before projected ones.
        entries.sort(key=lambda entry: entry.date)
    return entries


def transaction_list_for_day(
    *, user, day: datetime.date, include_projected: bool = False
) -> list[CalendarEntry]:
    """One day's transactions in creation order, plus that day's projected occurrences if asked."""
    return _calendar(user=user, date_from=day, date_to=day, include_projected=include_projected)


def transaction_list_for_month(
    *, user, year: int, month: int, include_projected: bool = False
) -> list[CalendarEntry]:
    """One calendar month's transactions by date, plus its projected occurrences if asked.

    Raises ValueError for a month that does not exist (month 13, year 0).
    """
    first = datetime.date(year, month, 1)
    return _calendar(
        user=user, date_from=first, date_to=month_end(first), include_projected=include_projected
    )
