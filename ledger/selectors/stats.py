"""Statistics over a user's ledger: the figures behind `/stats/*`, the admin and exports.

Every figure is a PostgreSQL aggregate (`SUM`/`COUNT` with `FILTER`, `DATE_TRUNC`, `GROUP BY`)
in a fixed number of queries, whatever the number of rows: nothing here loads transactions into
Python (at most a few dozen aggregated groups are added up here, e.g. a month's days into the
month). Amounts stay `Decimal`; an empty period gives zeros. A transaction whose amount is NULL
(a pending occurrence of a variable-amount rule) counts in `count` but adds 0 to every sum.

Semantics (SPEC §4): the month's income and expense (the SPA's 수입/지출 cards) count every
transaction, scheduled ones included; total assets (전체 자산) count confirmed ones only.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from ledger.dates import add_months, local_today, month_end
from ledger.models import Category, Transaction, TransactionStatus, TransactionType
from ledger.selectors.recurring import recurring_projection

ZERO = Decimal("0.00")
SHARE_PLACES = Decimal("0.0001")
UNCATEGORIZED_NAME = "미분류"

_INCOME = Q(type=TransactionType.INCOME)
_EXPENSE = Q(type=TransactionType.EXPENSE)
_CONFIRMED = Q(status=TransactionStatus.CONFIRMED)
_SCHEDULED = Q(status=TransactionStatus.SCHEDULED)


def _money(condition: Q | None = None):
    """SUM(amount) FILTER (WHERE condition), 0 instead of NULL; NULL amounts add nothing."""
    return Coalesce(
        Sum("amount", filter=condition),
        Value(ZERO),
        output_field=DecimalField(max_digits=20, decimal_places=2),
    )


def _share(part: Decimal, whole: Decimal) -> Decimal:
    """`part / whole` as a fraction to 4 places (0.2345 = 23.45 %); 0 for an empty whole."""
    if not whole:
        return Decimal("0.0000")
    return (part / whole).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


def _user_transactions(user, **conditions) -> QuerySet[Transaction]:
    """The user's transactions: every ORM stats query starts here, so none reads another's
    rows (the fixed SQL aggregates below filter on `user_id` the same way)."""
    return Transaction.objects.filter(user=user, **conditions)


def user_time_zone(user) -> str | None:
    """The user's time zone (Asia/Seoul by default), for "today" and "this month"."""
    return getattr(user, "time_zone", None) or None


# --- Result types: plain dataclasses, so views, the admin and exports can all use them --------


@dataclass(frozen=True)
class Totals:
    income: Decimal
    expense: Decimal
    count: int

    @property
    def net(self) -> Decimal:
        return self.income - self.expense


@dataclass(frozen=True)
class PeriodSummary(Totals):
    date_from: datetime.date
    date_to: datetime.date
    status: str | None


@dataclass(frozen=True)
class CategoryTotal:
    """One category's total for one type. `category_id` None is the uncategorized row."""

    category_id: object
    name: str
    emoji: str
    type: str
    total: Decimal
    count: int
    share: Decimal  # of the period's income (income rows) or expense (expense rows)


@dataclass(frozen=True)
class DayTotal:
    date: datetime.date
    income: Decimal
    expense: Decimal
    count: int


@dataclass(frozen=True)
class ProjectedOccurrenceItem:
    recurring_id: object
    template_name: str
    date: datetime.date
    type: str
    amount: Decimal
    category_id: object


@dataclass(frozen=True)
class ProjectedTotals(Totals):
    """Not-yet-generated occurrences of active fixed-amount rules (the SPA's 📅 entries)."""

    days: list[DayTotal]
    occurrences: list[ProjectedOccurrenceItem]


@dataclass(frozen=True)
class MonthlyStats(Totals):
    year: int
    month: int
    date_from: datetime.date
    date_to: datetime.date
    confirmed: Totals
    scheduled: Totals
    categories: list[CategoryTotal]
    days: list[DayTotal]
    projected: ProjectedTotals | None


@dataclass(frozen=True)
class CategoryStats:
    date_from: datetime.date
    date_to: datetime.date
    type: str | None
    income: Decimal
    expense: Decimal
    categories: list[CategoryTotal]


@dataclass(frozen=True)
class AssetsStats:
    as_of: datetime.date | None
    confirmed_income: Decimal
    confirmed_expense: Decimal
    scheduled_income: Decimal
    scheduled_expense: Decimal

    @property
    def assets(self) -> Decimal:
        """전체 자산: confirmed income − confirmed expense."""
        return self.confirmed_income - self.confirmed_expense

    @property
    def projected_balance(self) -> Decimal:
        """Assets once every scheduled transaction has happened."""
        return self.assets + self.scheduled_income - self.scheduled_expense


@dataclass(frozen=True)
class MonthTotal(Totals):
    year: int
    month: int

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class TrendStats:
    months: int
    date_from: datetime.date
    date_to: datetime.date
    items: list[MonthTotal]


# --- Querysets the selectors aggregate over (also usable by the admin and exports) ------------


def stats_period_queryset(
    *, user, date_from: datetime.date, date_to: datetime.date, status: str | None = None
) -> QuerySet[Transaction]:
    conditions = {"date__range": (date_from, date_to)}
    if status:
        conditions["status"] = status
    return _user_transactions(user, **conditions)


# The aggregates over one period (`stats_summary`, `stats_monthly`, `stats_by_category`) as
# fixed SQL: compiling them through the ORM on each request took longer than PostgreSQL took to
# answer them for a month (README "Performance"). They filter as `stats_period_queryset` does —
# the user's own rows in the date range — and only constant table names are interpolated.
_TRANSACTIONS = f'"{Transaction._meta.db_table}"'
_PERIOD = "user_id = %(user)s AND date BETWEEN %(date_from)s AND %(date_to)s"


def _summary_sql(*, one_status: bool) -> str:
    """Income, expense and count, `SUM … FILTER` in one pass."""
    status_filter = " AND status = %(status)s" if one_status else ""
    return (
        "SELECT COALESCE(SUM(amount) FILTER (WHERE type = %(income)s), 0.00), "  # noqa: S608
        "COALESCE(SUM(amount) FILTER (WHERE type = %(expense)s), 0.00), COUNT(*) "
        f"FROM {_TRANSACTIONS} WHERE {_PERIOD}{status_filter}"
    )


_SUMMARY_SQL = _summary_sql(one_status=False)
_SUMMARY_OF_STATUS_SQL = _summary_sql(one_status=True)

# Sums per (day, type, status), by day.
_DAY_GROUPS_SQL = (
    "SELECT date, type, status, COALESCE(SUM(amount), 0.00), COUNT(*) "  # noqa: S608
    f"FROM {_TRANSACTIONS} WHERE {_PERIOD} GROUP BY date, type, status ORDER BY date"
)


def _category_groups_sql(*, one_type: bool) -> str:
    """Sums per (category, type), grouped first and then joined with the categories' names:
    joining every transaction before grouping took twice as long on a 5-year period, and a
    separate look-up of the names cost a query."""
    type_filter = " AND type = %(type)s" if one_type else ""
    return (
        "SELECT g.category_id, g.type, g.total, g.count, c.name, c.emoji FROM ("  # noqa: S608
        "SELECT category_id, type, COALESCE(SUM(amount), 0.00) AS total, COUNT(*) AS count "
        f"FROM {_TRANSACTIONS} WHERE {_PERIOD}{type_filter} GROUP BY category_id, type"
        f') AS g LEFT JOIN "{Category._meta.db_table}" AS c ON c.id = g.category_id'
    )


_CATEGORY_GROUPS_SQL = _category_groups_sql(one_type=False)
_CATEGORY_GROUPS_OF_TYPE_SQL = _category_groups_sql(one_type=True)


def _fetch_all(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _category_rows(
    *, user, date_from: datetime.date, date_to: datetime.date, type: str | None = None
) -> list[dict]:
    """Totals per (category, type) with each category's name and emoji, largest first. One
    query."""
    params = {"user": user.pk, "date_from": date_from, "date_to": date_to, "type": type}
    rows = [
        {
            "category_id": category_id,
            "type": type_,
            "total": total,
            "count": count,
            "name": name or UNCATEGORIZED_NAME,
            "emoji": emoji or "",
        }
        for category_id, type_, total, count, name, emoji in _fetch_all(
            _CATEGORY_GROUPS_OF_TYPE_SQL if type else _CATEGORY_GROUPS_SQL, params
        )
    ]
    # Largest first; ties by type and name, uncategorized after named ones, for a stable order.
    rows.sort(
        key=lambda r: (-r["total"], r["type"], r["category_id"] is None, r["name"],
                       str(r["category_id"]))
    )
    return rows


def _category_totals(rows, *, income: Decimal, expense: Decimal) -> list[CategoryTotal]:
    """Aggregated rows (one per category and type) → results with each one's share."""
    return [
        CategoryTotal(
            category_id=row["category_id"],
            name=row["name"],
            emoji=row["emoji"],
            type=row["type"],
            total=row["total"],
            count=row["count"],
            share=_share(
                row["total"], income if row["type"] == TransactionType.INCOME else expense
            ),
        )
        for row in rows
    ]


# --- Selectors ---------------------------------------------------------------------------------


def stats_summary(
    *, user, date_from: datetime.date, date_to: datetime.date, status: str | None = None
) -> PeriodSummary:
    """Income, expense, net and count over [date_from, date_to]; optionally one status only.

    One query.
    """
    params = {
        "user": user.pk,
        "date_from": date_from,
        "date_to": date_to,
        "status": status,
        "income": TransactionType.INCOME.value,
        "expense": TransactionType.EXPENSE.value,
    }
    [(income, expense, count)] = _fetch_all(
        _SUMMARY_OF_STATUS_SQL if status else _SUMMARY_SQL, params
    )
    return PeriodSummary(
        date_from=date_from,
        date_to=date_to,
        status=status,
        income=income,
        expense=expense,
        count=count,
    )


def stats_monthly(
    *, user, year: int, month: int, include_projected: bool = False
) -> MonthlyStats:
    """One calendar month: totals (scheduled included, as the SPA's cards), the same split
    into confirmed and scheduled, totals per category with their share, and per day.

    Two queries: sums per (day, type, status) — at most 31 × 4 aggregated rows, from which
    the day figures, the month's totals and their confirmed/scheduled split are added up —,
    and sums per (category, type) with the categories' names. With `include_projected`, plus
    those of `recurring_projection` for the occurrences active fixed-amount rules will yield
    but have not yet.
    """
    date_from = datetime.date(year, month, 1)
    date_to = month_end(date_from)
    period = {"user": user.pk, "date_from": date_from, "date_to": date_to}

    # One GROUP BY instead of a nine-expression aggregate plus a per-day query: the same
    # figures, in one pass over the month's index entries.
    zero = {"income": ZERO, "expense": ZERO, "count": 0}
    by_day: dict[datetime.date, dict] = {}
    by_status = {TransactionStatus.CONFIRMED: dict(zero), TransactionStatus.SCHEDULED: dict(zero)}
    for day, type_, status, total, count in _fetch_all(_DAY_GROUPS_SQL, period):
        for bucket in (by_day.setdefault(day, dict(zero)), by_status[status]):
            bucket[type_] += total
            bucket["count"] += count
    confirmed = Totals(**by_status[TransactionStatus.CONFIRMED])
    scheduled = Totals(**by_status[TransactionStatus.SCHEDULED])
    income = confirmed.income + scheduled.income
    expense = confirmed.expense + scheduled.expense

    categories = _category_totals(
        _category_rows(user=user, date_from=date_from, date_to=date_to),
        income=income,
        expense=expense,
    )
    projected = (
        stats_projected(user=user, date_from=date_from, date_to=date_to)
        if include_projected
        else None
    )
    return MonthlyStats(
        year=year,
        month=month,
        date_from=date_from,
        date_to=date_to,
        income=income,
        expense=expense,
        count=confirmed.count + scheduled.count,
        confirmed=confirmed,
        scheduled=scheduled,
        categories=categories,
        days=[DayTotal(date=day, **figures) for day, figures in by_day.items()],
        projected=projected,
    )


def stats_projected(
    *, user, date_from: datetime.date, date_to: datetime.date
) -> ProjectedTotals:
    """Sums of the occurrences `recurring_projection` projects in the range (the SPA's 📅).

    Rules without a fixed amount (variable-amount rules) are left out: there is nothing to sum.
    The projection is computed from the rules, not from stored rows, so its sums are taken here
    over at most a few dozen projected occurrences.
    """
    occurrences = [
        ProjectedOccurrenceItem(
            recurring_id=occurrence.rule.id,
            template_name=occurrence.rule.template_name,
            date=occurrence.date,
            type=occurrence.rule.type,
            amount=occurrence.amount,
            category_id=occurrence.rule.category_id,
        )
        for occurrence in recurring_projection(
            user=user, date_from=date_from, date_to=date_to, with_category=False
        )
        if occurrence.amount is not None
    ]
    by_day: dict[datetime.date, list[ProjectedOccurrenceItem]] = {}
    for item in occurrences:
        by_day.setdefault(item.date, []).append(item)

    def total(items, kind):
        return sum((item.amount for item in items if item.type == kind), ZERO)

    return ProjectedTotals(
        income=total(occurrences, TransactionType.INCOME),
        expense=total(occurrences, TransactionType.EXPENSE),
        count=len(occurrences),
        days=[
            DayTotal(
                date=day,
                income=total(items, TransactionType.INCOME),
                expense=total(items, TransactionType.EXPENSE),
                count=len(items),
            )
            for day, items in sorted(by_day.items())
        ],
        occurrences=occurrences,
    )


def stats_by_category(
    *,
    user,
    date_from: datetime.date,
    date_to: datetime.date,
    type: str | None = None,
) -> CategoryStats:
    """Totals per (category, type) over the period, largest first; uncategorized rows have
    `category_id` None. Every transaction counts, scheduled ones included. One query.
    """
    rows = _category_rows(user=user, date_from=date_from, date_to=date_to, type=type)
    income = sum((r["total"] for r in rows if r["type"] == TransactionType.INCOME), ZERO)
    expense = sum((r["total"] for r in rows if r["type"] == TransactionType.EXPENSE), ZERO)
    return CategoryStats(
        date_from=date_from,
        date_to=date_to,
        type=type,
        income=income,
        expense=expense,
        categories=_category_totals(rows, income=income, expense=expense),
    )


def stats_assets_queryset(*, user, as_of: datetime.date | None = None) -> QuerySet[Transaction]:
    return _user_transactions(user, **({} if as_of is None else {"date__lte": as_of}))


def stats_assets(*, user, as_of: datetime.date | None = None) -> AssetsStats:
    """Total assets (confirmed income − confirmed expense over all time, or up to `as_of`
    inclusive) and the scheduled sums that give the balance after them. One query.

    `as_of` filters by date; statuses are today's (a transaction confirmed since counts as
    confirmed).
    """
    figures = stats_assets_queryset(user=user, as_of=as_of).aggregate(
        confirmed_income=_money(_CONFIRMED & _INCOME),
        confirmed_expense=_money(_CONFIRMED & _EXPENSE),
        scheduled_income=_money(_SCHEDULED & _INCOME),
        scheduled_expense=_money(_SCHEDULED & _EXPENSE),
    )
    return AssetsStats(as_of=as_of, **figures)


def stats_trend(*, user, months: int = 12, until: datetime.date | None = None) -> TrendStats:
    """Income, expense, net and count per calendar month for the last `months` months, ending
    with the month of `until` (default: today in the user's time zone). Months without
    transactions are zeros. One query.
    """
    until = until or local_today(user_time_zone(user))
    date_from = add_months(until, -(months - 1))
    date_to = month_end(until)
    rows = (
        stats_period_queryset(user=user, date_from=date_from, date_to=date_to)
        .annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(income=_money(_INCOME), expense=_money(_EXPENSE), count=Count("*"))
        .order_by("month")
    )
    found = {row["month"]: row for row in rows}
    items = []
    for index in range(months):
        start = add_months(date_from, index)
        row = found.get(start, {"income": ZERO, "expense": ZERO, "count": 0})
        items.append(
            MonthTotal(
                year=start.year,
                month=start.month,
                income=row["income"],
                expense=row["expense"],
                count=row["count"],
            )
        )
    return TrendStats(months=months, date_from=date_from, date_to=date_to, items=items)
