"""Statistics over a ledger's ledger: the figures behind `/stats/*` and the admin's stats panel.

Every figure is one PostgreSQL aggregate (`SUM … FILTER`, `GROUP BY`) written once below, in a
fixed number of queries whatever the number of rows: nothing here loads transactions into
Python. The month-grained figures (total assets, the trend, a calendar month's categories) sum
the ledger's month summary (`MonthSummary`, a row per month, category, type, status and author,
kept by the transaction services), the others the transactions of their dates; at most a few
dozen aggregated groups are added up here (e.g. a month's days into the month). The selectors
return plain dataclasses of `Decimal`, dates and ints; the API's output serializers render them.
An empty period gives zeros. A transaction whose amount is NULL (a pending occurrence of a
variable-amount rule) counts in `count` but adds 0 to every sum.

Semantics (SPEC §4): the month's income and expense (the SPA's 수입/지출 cards) count every
transaction, scheduled ones included; total assets (전체 자산) count confirmed ones only.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection

from household_ledger.prepared import prepared_cursor
from ledger.dates import add_months, local_today, month_end, month_label, month_start
from ledger.models import (
    Category,
    MonthSummary,
    Transaction,
    TransactionStatus,
    TransactionType,
)
from ledger.selectors.recurring import recurring_projection

ZERO = Decimal("0.00")
SHARE_PLACES = Decimal("0.0001")
UNCATEGORIZED_NAME = "미분류"
INCOME, EXPENSE = TransactionType.INCOME.value, TransactionType.EXPENSE.value
CONFIRMED, SCHEDULED = TransactionStatus.CONFIRMED.value, TransactionStatus.SCHEDULED.value


def user_time_zone(user) -> str | None:
    """The user's time zone (Asia/Seoul by default), for "today" and "this month"."""
    return getattr(user, "time_zone", None) or None


def _share(part: Decimal, whole: Decimal) -> Decimal:
    """`part / whole` as a fraction to 4 places (0.2345 = 23.45 %); 0 for an empty whole."""
    if not whole:
        return Decimal("0.0000")
    return (part / whole).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


# --- Results: plain data for the API's output serializers and the admin ----------------------


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
        return month_label(self)


@dataclass(frozen=True)
class TrendStats:
    months: int
    date_from: datetime.date
    date_to: datetime.date
    items: list[MonthTotal]


# --- The aggregates, as fixed SQL -------------------------------------------------------------
# The only way these figures are computed. Fixed texts rather than ORM querysets because
# compiling the queryset on each request took longer than PostgreSQL took to answer it for a
# month (docs/performance.md). Each one reads only the ledger's own rows (`ledger_id = %(ledger)s`)
# and is answered by index-only scans of `transaction_stats_idx` (ledger, date) INCLUDE (type,
# status, amount, category). Values travel as parameters; only table names are interpolated.
_TRANSACTIONS = f'"{Transaction._meta.db_table}"'
_CATEGORIES = f'"{Category._meta.db_table}"'
_MONTHS = f'"{MonthSummary._meta.db_table}"'
# The rows counted: the ledger's, or with `member` only those that member entered (`?member=`;
# NULL = everyone — a literal NULL the planner folds away, so the plans stay the same).
_ROWS = "ledger_id = %(ledger)s AND (%(member)s::uuid IS NULL OR created_by_id = %(member)s::uuid)"
_PERIOD = f"{_ROWS} AND date BETWEEN %(date_from)s AND %(date_to)s"


def _sum(condition: str) -> str:
    """SUM(amount) over the rows meeting `condition`, 0 instead of NULL (NULL amounts add 0)."""
    return f"COALESCE(SUM(amount) FILTER (WHERE {condition}), 0.00)"


# Income, expense and count of a set of rows, in one pass.
_TOTALS = f"{_sum('type = %(income)s')}, {_sum('type = %(expense)s')}, COUNT(*)"

_SUMMARY_SQL = f"SELECT {_TOTALS} FROM {_TRANSACTIONS} WHERE {_PERIOD}"  # noqa: S608
_SUMMARY_OF_STATUS_SQL = f"{_SUMMARY_SQL} AND status = %(status)s"

# Per month, from the summary: its rows are a month each, with their sums and counts.
_TREND_SQL = (
    "SELECT month, COALESCE(SUM(total) FILTER (WHERE type = %(income)s), 0.00), "  # noqa: S608
    "COALESCE(SUM(total) FILTER (WHERE type = %(expense)s), 0.00), SUM(count) "
    f"FROM {_MONTHS} WHERE {_ROWS} AND month BETWEEN %(date_from)s AND %(date_to)s GROUP BY month"
)

# Sums per (day, type, status), by day: a month's days, totals and status split, in one pass.
_DAY_GROUPS_SQL = (
    "SELECT date, type, status, COALESCE(SUM(amount), 0.00), COUNT(*) "  # noqa: S608
    f"FROM {_TRANSACTIONS} WHERE {_PERIOD} GROUP BY date, type, status ORDER BY date"
)


def _category_groups_sql(groups: str) -> str:
    """Sums per (category, type) of `groups` (a grouped SELECT of category_id, type, total,
    count), joined with the categories' names after grouping: joining every transaction
    before grouping took twice as long on a 5-year period, and a separate look-up of the
    names cost a query."""
    return (
        "SELECT g.category_id, g.type, g.total, g.count, c.name, c.emoji "  # noqa: S608
        f"FROM ({groups}) AS g LEFT JOIN {_CATEGORIES} AS c ON c.id = g.category_id"
    )


_TRANSACTION_GROUPS = (
    "SELECT category_id, type, COALESCE(SUM(amount), 0.00) AS total, COUNT(*) AS count "  # noqa: S608
    f"FROM {_TRANSACTIONS} WHERE {_PERIOD}"
)
_CATEGORY_GROUPS_SQL = _category_groups_sql(f"{_TRANSACTION_GROUPS} GROUP BY category_id, type")
_CATEGORY_GROUPS_OF_TYPE_SQL = _category_groups_sql(
    f"{_TRANSACTION_GROUPS} AND type = %(type)s GROUP BY category_id, type"
)
# A calendar month's, from the summary: its rows of the month are already summed.
_SUMMARY_GROUPS = (
    "SELECT category_id, type, SUM(total) AS total, SUM(count) AS count "  # noqa: S608
    f"FROM {_MONTHS} WHERE {_ROWS} AND month = %(date_from)s"
)
_MONTH_CATEGORY_GROUPS_SQL = _category_groups_sql(f"{_SUMMARY_GROUPS} GROUP BY category_id, type")
_MONTH_CATEGORY_GROUPS_OF_TYPE_SQL = _category_groups_sql(
    f"{_SUMMARY_GROUPS} AND type = %(type)s GROUP BY category_id, type"
)

# Confirmed and scheduled income and expense over all time, from the summary's months; up to a
# date, the months before its month from the summary and its month's days from the rows.
_ASSETS_SUMS = (
    f"SELECT {_sum('status = %(confirmed)s AND type = %(income)s')}, "
    f"{_sum('status = %(confirmed)s AND type = %(expense)s')}, "
    f"{_sum('status = %(scheduled)s AND type = %(income)s')}, "
    f"{_sum('status = %(scheduled)s AND type = %(expense)s')} "
)
# The ledger's summed rows, as transaction rows of (type, status, amount).
_SUMMARY_ROWS = f"SELECT type, status, total AS amount FROM {_MONTHS} WHERE {_ROWS}"  # noqa: S608
_ASSETS_SQL = f"{_ASSETS_SUMS} FROM ({_SUMMARY_ROWS}) AS r"
_ASSETS_AS_OF_SQL = (
    f"{_ASSETS_SUMS} FROM ({_SUMMARY_ROWS} AND month < %(as_of_month)s UNION ALL "  # noqa: S608
    f"SELECT type, status, amount FROM {_TRANSACTIONS} "
    f"WHERE {_ROWS} AND date BETWEEN %(as_of_month)s AND %(as_of)s) AS r"
)


# Prepared (parsed and planned once per connection, `household_ledger.prepared`): the texts
# whose best plan does not depend on their values, a month's rows or the ledger's summary. A
# date range of any width (the summary of a period, its categories) is planned for its width
# each time: a generic plan made for a month read five years 1.6× slower (`python -m
# bench.stats`, category over 5 years).
_PREPARED = frozenset(
    {
        _DAY_GROUPS_SQL,
        _MONTH_CATEGORY_GROUPS_SQL,
        _MONTH_CATEGORY_GROUPS_OF_TYPE_SQL,
        _TREND_SQL,
        _ASSETS_SQL,
        _ASSETS_AS_OF_SQL,
    }
)


def _fetch_all(sql: str, *, ledger, member=None, **params) -> list[tuple]:
    params = {
        "ledger": ledger.pk,
        "member": member,
        "income": INCOME,
        "expense": EXPENSE,
        "confirmed": CONFIRMED,
        "scheduled": SCHEDULED,
        **params,
    }
    with prepared_cursor() if sql in _PREPARED else connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _category_totals(
    *,
    ledger,
    date_from: datetime.date,
    date_to: datetime.date,
    type: str | None = None,
    member=None,
) -> list[CategoryTotal]:
    """Totals per (category, type) with each category's name, emoji and share of its type's
    total, largest first. One query: of the month summary when the range is one calendar
    month, else of the transactions."""
    if date_from == month_start(date_from) and date_to == month_end(date_from):
        sql = _MONTH_CATEGORY_GROUPS_OF_TYPE_SQL if type else _MONTH_CATEGORY_GROUPS_SQL
    else:
        sql = _CATEGORY_GROUPS_OF_TYPE_SQL if type else _CATEGORY_GROUPS_SQL
    rows = _fetch_all(
        sql,
        ledger=ledger,
        member=member,
        date_from=date_from,
        date_to=date_to,
        type=type,
    )
    whole = {INCOME: ZERO, EXPENSE: ZERO}
    for _, type_, total, *_ in rows:
        whole[type_] += total
    totals = [
        CategoryTotal(
            category_id=category_id,
            name=name or UNCATEGORIZED_NAME,
            emoji=emoji or "",
            type=type_,
            total=total,
            count=count,
            share=_share(total, whole[type_]),
        )
        for category_id, type_, total, count, name, emoji in rows
    ]
    # Largest first; ties by type and name, uncategorized after named ones, for a stable order.
    totals.sort(key=lambda t: (-t.total, t.type, t.category_id is None, t.name, str(t.category_id)))
    return totals


# --- Selectors ---------------------------------------------------------------------------------


def stats_summary(
    *,
    ledger,
    date_from: datetime.date,
    date_to: datetime.date,
    status: str | None = None,
    member=None,
) -> PeriodSummary:
    """Income, expense, net and count over [date_from, date_to]; optionally one status only.

    One query.
    """
    [(income, expense, count)] = _fetch_all(
        _SUMMARY_OF_STATUS_SQL if status else _SUMMARY_SQL,
        ledger=ledger,
        member=member,
        date_from=date_from,
        date_to=date_to,
        status=status,
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
    *, ledger, year: int, month: int, include_projected: bool = False, member=None
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

    zero = {INCOME: ZERO, EXPENSE: ZERO, "count": 0}
    by_day: dict[datetime.date, dict] = {}
    by_status = {CONFIRMED: dict(zero), SCHEDULED: dict(zero)}
    for day, type_, status, total, count in _fetch_all(
        _DAY_GROUPS_SQL, ledger=ledger, member=member, date_from=date_from, date_to=date_to
    ):
        for bucket in (by_day.setdefault(day, dict(zero)), by_status[status]):
            bucket[type_] += total
            bucket["count"] += count
    confirmed = Totals(**by_status[CONFIRMED])
    scheduled = Totals(**by_status[SCHEDULED])

    return MonthlyStats(
        year=year,
        month=month,
        date_from=date_from,
        date_to=date_to,
        income=confirmed.income + scheduled.income,
        expense=confirmed.expense + scheduled.expense,
        count=confirmed.count + scheduled.count,
        confirmed=confirmed,
        scheduled=scheduled,
        categories=_category_totals(
            ledger=ledger, date_from=date_from, date_to=date_to, member=member
        ),
        days=[DayTotal(date=day, **figures) for day, figures in by_day.items()],
        projected=(
            stats_projected(ledger=ledger, date_from=date_from, date_to=date_to, member=member)
            if include_projected
            else None
        ),
    )


def stats_projected(
    *, ledger, date_from: datetime.date, date_to: datetime.date, member=None
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
            ledger=ledger, date_from=date_from, date_to=date_to, with_category=False
        )
        if occurrence.amount is not None
        and (member is None or occurrence.rule.created_by_id == member)
    ]
    by_day: dict[datetime.date, list[ProjectedOccurrenceItem]] = {}
    for item in occurrences:
        by_day.setdefault(item.date, []).append(item)

    def totals(items) -> dict:
        return {
            "income": sum((i.amount for i in items if i.type == INCOME), ZERO),
            "expense": sum((i.amount for i in items if i.type == EXPENSE), ZERO),
            "count": len(items),
        }

    return ProjectedTotals(
        **totals(occurrences),
        days=[DayTotal(date=day, **totals(items)) for day, items in sorted(by_day.items())],
        occurrences=occurrences,
    )


def stats_by_category(
    *,
    ledger,
    date_from: datetime.date,
    date_to: datetime.date,
    type: str | None = None,
    member=None,
) -> CategoryStats:
    """Totals per (category, type) over the period, largest first; uncategorized rows have
    `category_id` None. Every transaction counts, scheduled ones included. One query.
    """
    categories = _category_totals(
        ledger=ledger, date_from=date_from, date_to=date_to, type=type, member=member
    )
    return CategoryStats(
        date_from=date_from,
        date_to=date_to,
        type=type,
        income=sum((c.total for c in categories if c.type == INCOME), ZERO),
        expense=sum((c.total for c in categories if c.type == EXPENSE), ZERO),
        categories=categories,
    )


def stats_assets(*, ledger, as_of: datetime.date | None = None, member=None) -> AssetsStats:
    """Total assets (confirmed income − confirmed expense over all time, or up to `as_of`
    inclusive) and the scheduled sums that give the balance after them. One query: of the
    month summary, and with `as_of` of its month's transactions up to it.

    `as_of` filters by date; statuses are today's (a transaction confirmed since counts as
    confirmed).
    """
    [sums] = _fetch_all(
        _ASSETS_SQL if as_of is None else _ASSETS_AS_OF_SQL,
        ledger=ledger,
        member=member,
        as_of=as_of,
        as_of_month=as_of and month_start(as_of),
    )
    confirmed_income, confirmed_expense, scheduled_income, scheduled_expense = sums
    return AssetsStats(
        as_of=as_of,
        confirmed_income=confirmed_income,
        confirmed_expense=confirmed_expense,
        scheduled_income=scheduled_income,
        scheduled_expense=scheduled_expense,
    )


def stats_trend(
    *, ledger, months: int = 12, until: datetime.date | None = None, member=None
) -> TrendStats:
    """Income, expense, net and count per calendar month for the last `months` months, ending
    with the month of `until` (default: today in the ledger's time zone). Months without
    transactions are zeros. One query, of the month summary.
    """
    until = until or local_today(user_time_zone(ledger))
    date_from = add_months(until, -(months - 1))
    date_to = month_end(until)
    found = {
        month: (income, expense, count)
        for month, income, expense, count in _fetch_all(
            _TREND_SQL, ledger=ledger, member=member, date_from=date_from, date_to=date_to
        )
    }
    items = []
    for index in range(months):
        start = add_months(date_from, index)
        income, expense, count = found.get(start, (ZERO, ZERO, 0))
        items.append(
            MonthTotal(
                year=start.year, month=start.month, income=income, expense=expense, count=count
            )
        )
    return TrendStats(months=months, date_from=date_from, date_to=date_to, items=items)
