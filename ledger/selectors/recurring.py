"""Reads over recurring rules: the rules as rows, the occurrence dates a rule yields, the
description and estimated amount of an occurrence, and the calendar projection.

The date rules of SPEC §4 live here, once; the engine (`ledger.services.recurring.engine`)
writes the occurrences these functions compute.
"""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, Func, QuerySet
from django.db.models.expressions import RawSQL

from ledger.dates import DATE_MAX, clamped_date, iter_month_starts, month_end, month_start
from ledger.models import (
    MONEY,
    Frequency,
    RecurringOccurrence,
    RecurringTransaction,
    Transaction,
    TransactionStatus,
)


def recurring_list(*, ledger) -> QuerySet[RecurringTransaction]:
    """The ledger's rules by template name (then creation)."""
    return RecurringTransaction.objects.filter(ledger=ledger).order_by(
        "template_name", "created_at", "id"
    )


def recurring_rows(queryset: QuerySet[RecurringTransaction], *, fields: Sequence[str]) -> QuerySet:
    """`queryset` as dict rows with `fields` (values keys such as `category__name`)."""
    return queryset.values(*fields)


def recurring_occurrence_dates(
    *, rule: RecurringTransaction, date_from: datetime.date, date_to: datetime.date
) -> list[datetime.date]:
    """Every date in [date_from, date_to] on which `rule` yields a transaction.

    A rule is in effect for a month between its start month and its end month (inclusive;
    no end = forever). Monthly rules yield once a month, yearly rules once a year in the start
    month; the day is `day_of_month` clamped to the month's last day. Inactive rules yield
    nothing.
    """
    if not rule.is_active:
        return []
    first = max(date_from, month_start(rule.start_date))
    # The end month counts whole: every date of that month is still in effect. Nothing past
    # the product's last date, whatever `date_to` a caller asks for.
    last = min(date_to, DATE_MAX)
    if rule.end_date is not None:
        last = min(last, month_end(rule.end_date))
    dates = []
    for month in iter_month_starts(first, last):
        if rule.frequency == Frequency.YEARLY and month.month != rule.start_date.month:
            continue
        occurrence = clamped_date(month.year, month.month, rule.day_of_month)
        if first <= occurrence <= last:
            dates.append(occurrence)
    return dates


@dataclass(frozen=True)
class ProjectedOccurrence:
    """An occurrence a rule will yield that has no transaction yet (the SPA's 📅 entry)."""

    rule: RecurringTransaction
    date: datetime.date

    @property
    def amount(self) -> Decimal | None:
        return self.rule.amount

    @property
    def description(self) -> str:
        return recurring_occurrence_description(self.rule)


def recurring_occurrence_description(rule: RecurringTransaction) -> str:
    """The description an occurrence of `rule` gets (in the calendar and when materialized):
    the rule's description, or its name when the description is blank; trimmed."""
    return (rule.description or "").strip() or rule.template_name.strip()


# A rule's estimate, the best guess of an occurrence's amount when the rule has none: the amount
# of its last confirmed occurrence, for a rule that takes an estimate (a variable amount with no
# amount of its own; the others' occurrences carry the rule's amount); NULL otherwise. Its one
# definition, as SQL over the SQL of a rule id: the ORM uses it through `RecurringEstimate`, the
# budget sums (`ledger.selectors.budgets`) inline it. Answered by the rule's primary key and the
# (recurring, date) unique index, backwards.
_ESTIMATE_SQL = (
    "(SELECT k.amount FROM {rules} AS r JOIN {transactions} AS k ON k.recurring_id = r.id "  # noqa: S608
    "WHERE r.id = {rule} AND r.is_variable_amount AND r.amount IS NULL "
    "AND k.status = '{confirmed}' AND k.amount IS NOT NULL "
    "ORDER BY k.date DESC, k.created_at DESC LIMIT 1)"
)


def recurring_estimate_sql(rule: str) -> str:
    """The SQL of the estimate of the rule whose id is the SQL expression `rule`."""
    return _ESTIMATE_SQL.format(
        rules=f'"{RecurringTransaction._meta.db_table}"',
        transactions=f'"{Transaction._meta.db_table}"',
        rule=rule,
        confirmed=TransactionStatus.CONFIRMED.value,
    )


class RecurringEstimate(Func):
    """The estimate of a rule (`recurring_estimate_sql`) as an expression over its id, e.g.
    `RecurringEstimate(F("pk"))`."""

    template = recurring_estimate_sql("%(expressions)s")
    output_field = DecimalField(**MONEY)


def recurring_amount_estimates(*, rules: Iterable[RecurringTransaction]) -> dict:
    """{rule id: amount} for the rules among `rules` that have an estimate
    (`recurring_estimate_sql`). One query, none when no rule lacks an amount of its own (only
    those can have one)."""
    ids = [rule.pk for rule in rules if rule.amount is None]
    if not ids:
        return {}
    return dict(
        RecurringTransaction.objects.filter(pk__in=ids)
        .annotate(estimate=RecurringEstimate(F("pk")))
        .filter(estimate__isnull=False)
        .values_list("pk", "estimate")
    )


def recurring_projection(
    *, ledger, date_from: datetime.date, date_to: datetime.date, with_category: bool = True
) -> list[ProjectedOccurrence]:
    """The ledger's active rules' occurrences in the range that were never materialized, by date
    (then rule name and creation).

    Dates that already have a transaction, or whose occurrence was materialized once and then
    deleted by the ledger, are not projected. One query whatever the number of rules: each rule
    comes with the dates in the range it already has (`_TAKEN_DATES`, answered by the
    (recurring, date) unique indexes of both tables). `with_category=False` leaves the rules'
    categories unloaded (for callers that need only `category_id`).
    """
    rules = (
        RecurringTransaction.objects.filter(ledger=ledger, is_active=True, start_date__lte=date_to)
        .exclude(end_date__lt=date_from.replace(day=1))
        # A constant SQL text; the dates travel as parameters.
        .annotate(taken=RawSQL(_TAKEN_DATES, (date_from, date_to) * 2))  # noqa: S611
        .order_by()  # sorted below
    )
    if with_category:
        rules = rules.select_related("category")
    projected = [
        ProjectedOccurrence(rule=rule, date=day)
        for rule in rules
        for day in recurring_occurrence_dates(rule=rule, date_from=date_from, date_to=date_to)
        if day not in rule.taken
    ]
    projected.sort(
        key=lambda occurrence: (
            occurrence.date,
            occurrence.rule.template_name,
            occurrence.rule.created_at,
        )
    )
    return projected


# A rule's dates in [date_from, date_to] that have a transaction or a materialization record.
# A constant: only table and column names are interpolated.
_RULE = f'"{RecurringTransaction._meta.db_table}"."id"'
_TAKEN_DATES = (
    f"ARRAY(SELECT t.date FROM {Transaction._meta.db_table} t "  # noqa: S608
    f"WHERE t.recurring_id = {_RULE} AND t.date BETWEEN %s AND %s "
    f"UNION ALL SELECT o.date FROM {RecurringOccurrence._meta.db_table} o "
    f"WHERE o.recurring_id = {_RULE} AND o.date BETWEEN %s AND %s)"
)
