"""Reads over budgets: the changes of a ledger's budget, the budget in effect for a month, and
how a month goes against it.

A budget is effective-dated: a change (`Budget`) made for a month holds from that month on,
until a later month's change replaces it, so the budget in effect for a month is the latest
change at or before it. Each function names its owner once (`ledger_id = %(ledger)s`, `ledger=`):
moving budgets to a ledger is one change per function.

Budget versus actual counts expense transactions only: `spent` is confirmed, `scheduled` is
scheduled (committed, not spent), and a pending variable-amount occurrence (no amount yet)
counts its rule's last known amount as scheduled (`recurring_estimate_sql`), flagged
`estimated`.

Carry-over: when a line carries over, what was left of the month before (or overspent, as a
negative amount) adds to it; that month's own carried amount did too if its line carried, and
so on back to the start of the chain, at most CARRY_OVER_MONTHS (12) months back. Telescoped,
the carried amount is the sum of the chain months' budgets (from the changes: a multiplication
per change) minus the chain months' spending (one range sum per category in the same SQL query
as the month's own sums), so no number of months or transactions adds a query or a loop over
months. The sums read the ledger's month summary (`MonthSummary`, kept by the transaction
services): at most thirteen months of a row per category, status and author.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.db.models import QuerySet

from household_ledger.prepared import prepared_cursor
from ledger.dates import add_months, month_end
from ledger.default_categories import INCOME_DEFAULT_CATEGORIES
from ledger.models import (
    Budget,
    BudgetLine,
    Category,
    MonthSummary,
    Transaction,
    TransactionStatus,
    TransactionType,
)
from ledger.selectors.categories import category_list
from ledger.selectors.recurring import recurring_estimate_sql

ZERO = Decimal("0.00")
RATIO_PLACES = Decimal("0.0001")
WON = Decimal("1")
# How far back a carry-over chain reaches: what was left (or overspent) over at most the last
# twelve months, so the figures of a month never depend on years-old spending.
CARRY_OVER_MONTHS = 12
# `warning` from this share of the month's budget on (spent + scheduled ≥ 80 %).
WARNING_RATIO = Decimal("0.8")
UNCATEGORIZED_NAME = "미분류"
OK, WARNING, OVER = "ok", "warning", "over"
STATUSES = (OK, WARNING, OVER)
CONFIRMED, SCHEDULED = TransactionStatus.CONFIRMED.value, TransactionStatus.SCHEDULED.value
EXPENSE = TransactionType.EXPENSE.value


def budget_category_list(*, ledger) -> QuerySet[Category]:
    """The categories a budget of `ledger` may hold: those the ledger may use (the defaults and
    their own, `category_list`), less the defaults that name income (월급)."""
    return category_list(ledger=ledger).exclude(is_default=True, name__in=INCOME_DEFAULT_CATEGORIES)


# --- The changes and the budget in effect -------------------------------------------------------


@dataclass(frozen=True)
class BudgetLineRow:
    category_id: object
    category_name: str
    category_emoji: str
    amount: Decimal
    carry_over: bool


@dataclass(frozen=True)
class BudgetInEffect:
    """The budget in effect for `month`: the change made in `since` (None: no budget yet, an
    empty one). `lines` in the categories' order (the defaults' SPA order, then by name)."""

    month: datetime.date
    since: datetime.date | None
    total: Decimal | None
    lines: list[BudgetLineRow]
    id: object = None  # the change's id (`/sync` names deleted changes by it)


_BUDGETS = f'"{Budget._meta.db_table}"'
_LINES = f'"{BudgetLine._meta.db_table}"'
_CATEGORIES = f'"{Category._meta.db_table}"'
_TRANSACTIONS = f'"{Transaction._meta.db_table}"'
_MONTHS = f'"{MonthSummary._meta.db_table}"'

# Every change (through a month) with its lines and their categories, oldest first. A fixed
# text (values travel as parameters), answered by the unique (ledger, month) and (budget,
# category) indexes.
_SELECT = (
    "SELECT b.id, b.month, b.total, l.category_id, c.name, c.emoji, l.amount, l.carry_over "  # noqa: S608
    f"FROM {_BUDGETS} AS b LEFT JOIN {_LINES} AS l ON l.budget_id = b.id "
    f"LEFT JOIN {_CATEGORIES} AS c ON c.id = l.category_id "
)
_ORDER = " ORDER BY b.month, c.is_default DESC, c.sort_order, c.name"
# From the change in effect for `from` (the months before it are not read) through `through`.
_IN_EFFECT_FROM = (
    f"(SELECT MAX(e.month) FROM {_BUDGETS} AS e "  # noqa: S608 - a fixed text
    "WHERE e.ledger_id = %(ledger)s AND e.month <= %(from)s)"
)
_CHANGES_SQL = (
    _SELECT + "WHERE b.ledger_id = %(ledger)s AND b.month <= %(through)s "
    f"AND b.month >= COALESCE({_IN_EFFECT_FROM}, %(from)s)" + _ORDER
)
# The changes written in a window of revisions (`/sync`), by the (ledger, revision) index.
_REVISIONS_SQL = (
    _SELECT + "WHERE b.ledger_id = %(ledger)s AND b.revision > %(since)s "
    "AND b.revision <= %(until)s" + _ORDER
)
_FIRST_MONTH, _LAST_MONTH = datetime.date(1, 1, 1), datetime.date(9999, 12, 1)


def budget_changes(
    *, ledger, since: datetime.date | None = None, through: datetime.date | None = None
) -> list[BudgetInEffect]:
    """The changes of `ledger`'s budget from the one in effect for `since`'s month through
    the last made for `through`'s (all of them by default), oldest first, each with its lines
    (`month` = `since` = the change's month). One query."""
    return _changes(
        _CHANGES_SQL,
        {"ledger": ledger.pk, "from": since or _FIRST_MONTH, "through": through or _LAST_MONTH},
    )


def budget_changes_between(*, ledger, since: int, until: int) -> list[BudgetInEffect]:
    """The changes of `user`'s budget last written after revision `since` and at or before
    `until`, by month, each with its lines (the delta of `/sync`). One query."""
    return _changes(_REVISIONS_SQL, {"ledger": ledger.pk, "since": since, "until": until})


def _changes(sql: str, params: dict) -> list[BudgetInEffect]:
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    changes: list[BudgetInEffect] = []
    for budget_id, month, total, category_id, name, emoji, amount, carry_over in rows:
        if not changes or changes[-1].id != budget_id:
            changes.append(
                BudgetInEffect(month=month, since=month, total=total, lines=[], id=budget_id)
            )
        if category_id is not None:
            changes[-1].lines.append(
                BudgetLineRow(
                    category_id=category_id,
                    category_name=name,
                    category_emoji=emoji,
                    amount=amount,
                    carry_over=carry_over,
                )
            )
    return changes


def budget_in_effect(*, ledger, month: datetime.date) -> BudgetInEffect:
    """The budget in effect for `month` (its first day): the latest change made for it or an
    earlier month, or an empty budget (`since` None) when there is none. One query."""
    changes = budget_changes(ledger=ledger, since=month, through=month)
    if not changes:
        return BudgetInEffect(month=month, since=None, total=None, lines=[])
    latest = changes[-1]
    return BudgetInEffect(
        month=month, since=latest.since, total=latest.total, lines=latest.lines, id=latest.id
    )


# --- Budget versus actual -----------------------------------------------------------------------


@dataclass(frozen=True)
class Spending:
    """Expense of one month: `spent` confirmed, `scheduled` scheduled (with the estimates of
    pending amounts, then `estimated`)."""

    spent: Decimal
    scheduled: Decimal
    estimated: bool

    @property
    def committed(self) -> Decimal:
        return self.spent + self.scheduled


@dataclass(frozen=True)
class BudgetFigures(Spending):
    """A budget against its month. `budget` None (the total when none is set) leaves
    `remaining`, `ratio`, `status` and `daily_allowance` None. `days_left` counts today, in
    the current month only."""

    budget: Decimal | None
    carried: Decimal
    days_left: int | None

    @property
    def available(self) -> Decimal | None:
        return None if self.budget is None else self.budget + self.carried

    @property
    def remaining(self) -> Decimal | None:
        """budget + carried − spent − scheduled: negative once over."""
        return None if self.budget is None else self.available - self.committed

    @property
    def ratio(self) -> Decimal | None:
        """(spent + scheduled) ÷ (budget + carried), to 4 places; None when nothing is
        available (an overspending carried in ate the budget)."""
        if self.budget is None or self.available <= 0:
            return None
        return (self.committed / self.available).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)

    @property
    def status(self) -> str | None:
        if self.budget is None:
            return None
        if self.remaining < 0:
            return OVER
        if self.committed >= WARNING_RATIO * self.available:
            return WARNING
        return OK

    @property
    def daily_allowance(self) -> Decimal | None:
        """What is left per day until the month ends, today included, in whole won (rounded
        down, so spending it never goes over); 0 once nothing is left."""
        if self.budget is None or self.days_left is None:
            return None
        left = max(self.remaining, ZERO)
        return (left / self.days_left).quantize(WON, rounding=ROUND_DOWN)


@dataclass(frozen=True)
class CategoryBudget(BudgetFigures):
    category_id: object
    category_name: str
    category_emoji: str
    carry_over: bool


@dataclass(frozen=True)
class UnbudgetedSpending(Spending):
    """A category with expense in the month and no budget line (`category_id` None:
    uncategorized, named 미분류)."""

    category_id: object
    category_name: str
    category_emoji: str


@dataclass(frozen=True)
class BudgetVsActual:
    year: int
    month: int
    since: datetime.date | None
    date_from: datetime.date
    date_to: datetime.date
    days_left: int | None
    total: BudgetFigures
    categories: list[CategoryBudget]
    unbudgeted: list[UnbudgetedSpending]


@dataclass(frozen=True)
class _Chain:
    """A carry-over chain of one category: the months from `start` to the month before the
    asked one, and the sum of their budgets."""

    start: datetime.date
    budgeted: Decimal


def _months(first: datetime.date, last: datetime.date) -> int:
    """How many months from `first`'s to `last`'s, both included (0 when `last` is earlier)."""
    return max(0, (last.year - first.year) * 12 + last.month - first.month + 1)


def _carry_chains(changes: list[BudgetInEffect], month: datetime.date) -> dict:
    """{category id: _Chain} for the lines in effect for `month` that carry over and have a
    month before to carry from, reaching back at most CARRY_OVER_MONTHS. Walks the changes,
    never the months: within one change a line is the same every month."""
    before = add_months(month, -1)
    earliest = add_months(month, -CARRY_OVER_MONTHS)
    lines = [{line.category_id: line for line in change.lines} for change in changes]
    chains = {}
    for category_id, line in lines[-1].items() if lines else ():
        if not line.carry_over:
            continue
        index, budgeted, start = len(changes) - 1, ZERO, None
        span_last = before  # the chain ends with the month before the asked one
        while True:
            line = lines[index][category_id]
            if not line.carry_over:
                # Its last month's remainder is carried into the change after it; its own
                # carried amount is 0, so the chain starts there.
                budgeted += line.amount
                start = span_last
                break
            span_first = max(changes[index].since, earliest)
            budgeted += line.amount * _months(span_first, span_last)
            start = span_first
            if span_first == earliest or index == 0 or category_id not in lines[index - 1]:
                break
            span_last = add_months(span_first, -1)
            index -= 1
        if start <= before:
            chains[category_id] = _Chain(start=start, budgeted=budgeted)
    return chains


# Expense per category: the month's confirmed and scheduled sums, and for each carry-over
# chain (`chain`: category id → its first month) the chain months' sum; each with the
# estimates of its pending occurrences (no amount yet: `recurring_estimate_sql`; a pending
# amount is always a scheduled occurrence of a rule, a CHECK of the table) and whether there
# were any. Grouped first, then joined with the categories' names (for the unbudgeted ones).
# One pass over the ledger's expense rows of the month summary from the earliest chain start
# through the month, by its unique (ledger, month, …) index, and one over the ledger's pending
# rows of those months, by `transaction_pending_idx`. A fixed text; values travel as
# parameters.
_MONTH_SQL = (
    "WITH chain AS (SELECT * FROM "  # noqa: S608
    "unnest(%(chain_categories)s::uuid[], %(chain_starts)s::date[]) AS chain(category_id, start)), "
    # MATERIALIZED: each estimate is computed once, not once per aggregate that reads it.
    "pending AS MATERIALIZED (SELECT p.category_id, p.date, "
    f"{recurring_estimate_sql('p.recurring_id')} AS estimate "
    f"FROM {_TRANSACTIONS} AS p WHERE p.ledger_id = %(ledger)s AND p.amount IS NULL "
    f"AND p.type = '{EXPENSE}' AND p.status = '{SCHEDULED}' "
    "AND p.date BETWEEN %(date_from)s AND %(date_to)s), "
    "estimates AS (SELECT p.category_id, "
    "SUM(p.estimate) FILTER (WHERE p.date >= %(first)s) AS in_month, "
    "SUM(p.estimate) FILTER (WHERE p.date < %(first)s AND p.date >= chain.start) AS in_chain "
    "FROM pending AS p LEFT JOIN chain ON chain.category_id = p.category_id "
    "GROUP BY p.category_id) "
    "SELECT g.category_id, g.spent, g.scheduled + COALESCE(e.in_month, 0), g.pending > 0, "
    "g.before + COALESCE(e.in_chain, 0), g.pending_before > 0, c.name, c.emoji FROM ("
    "SELECT s.category_id, "
    f"COALESCE(SUM(s.total) FILTER (WHERE s.month = %(first)s AND s.status = '{CONFIRMED}'), "
    "0.00) AS spent, "
    f"COALESCE(SUM(s.total) FILTER (WHERE s.month = %(first)s AND s.status = '{SCHEDULED}'), "
    "0.00) AS scheduled, "
    "COALESCE(SUM(s.pending) FILTER (WHERE s.month = %(first)s), 0) AS pending, "
    "COALESCE(SUM(s.total) FILTER (WHERE s.month < %(first)s), 0.00) AS before, "
    "COALESCE(SUM(s.pending) FILTER (WHERE s.month < %(first)s), 0) AS pending_before "
    f"FROM {_MONTHS} AS s LEFT JOIN chain ON chain.category_id = s.category_id "
    f"WHERE s.ledger_id = %(ledger)s AND s.type = '{EXPENSE}' "
    "AND s.month BETWEEN %(date_from)s AND %(first)s "
    "AND (s.month = %(first)s OR s.month >= chain.start) "
    f"GROUP BY s.category_id) AS g LEFT JOIN {_CATEGORIES} AS c ON c.id = g.category_id "
    # uncategorized (NULL) rows meet their estimates too
    "LEFT JOIN estimates AS e ON e.category_id IS NOT DISTINCT FROM g.category_id"
)


def budget_vs_actual(*, ledger, year: int, month: int, today: datetime.date) -> BudgetVsActual:
    """The month against the budget in effect for it: the total and each budgeted category
    (budget, carried, spent, scheduled, remaining, ratio, status; `daily_allowance` when the
    month is `today`'s), and the unbudgeted categories' spending, largest first.

    Two queries (the changes through the month, then the sums with the estimates of pending
    variable-amount occurrences), whatever the number of transactions or months.
    """
    first = datetime.date(year, month, 1)
    last = month_end(first)
    days_left = (last - today).days + 1 if first <= today <= last else None
    # A chain reaches back at most CARRY_OVER_MONTHS: the changes before are not read.
    changes = budget_changes(
        ledger=ledger, since=add_months(first, -CARRY_OVER_MONTHS), through=first
    )
    current = changes[-1] if changes else None
    chains = _carry_chains(changes, first)
    date_from = min([first, *(chain.start for chain in chains.values())])
    with prepared_cursor() as cursor:
        cursor.execute(
            _MONTH_SQL,
            {
                "ledger": ledger.pk,
                "first": first,
                "date_from": date_from,
                "date_to": last,
                "chain_categories": list(chains),
                "chain_starts": [chain.start for chain in chains.values()],
            },
        )
        rows = cursor.fetchall()

    sums = {}
    for category_id, spent, scheduled, pending, before, pending_before, name, emoji in rows:
        sums[category_id] = {
            "spending": Spending(spent=spent, scheduled=scheduled, estimated=pending),
            "before": before,
            "estimated_before": pending_before,
            "name": name,
            "emoji": emoji,
        }
    nothing = {
        "spending": Spending(spent=ZERO, scheduled=ZERO, estimated=False),
        "before": ZERO,
        "estimated_before": False,
    }

    categories = []
    for line in current.lines if current else ():
        found = sums.get(line.category_id, nothing)
        spending, chain = found["spending"], chains.get(line.category_id)
        categories.append(
            CategoryBudget(
                category_id=line.category_id,
                category_name=line.category_name,
                category_emoji=line.category_emoji,
                carry_over=line.carry_over,
                budget=line.amount,
                carried=ZERO if chain is None else chain.budgeted - found["before"],
                spent=spending.spent,
                scheduled=spending.scheduled,
                estimated=spending.estimated or (chain is not None and found["estimated_before"]),
                days_left=days_left,
            )
        )
    budgeted = {line.category_id for line in current.lines} if current else set()
    unbudgeted = [
        UnbudgetedSpending(
            category_id=category_id,
            category_name=found["name"] or UNCATEGORIZED_NAME,
            category_emoji=found["emoji"] or "",
            spent=found["spending"].spent,
            scheduled=found["spending"].scheduled,
            estimated=found["spending"].estimated,
        )
        for category_id, found in sums.items()
        if category_id not in budgeted  # its rows are the month's: only budgeted ones chain
    ]
    # Largest first; uncategorized after named ones of the same amount, then by name.
    unbudgeted.sort(key=lambda u: (-u.committed, u.category_id is None, u.category_name))
    spent = sum((s["spending"].spent for s in sums.values()), ZERO)
    scheduled = sum((s["spending"].scheduled for s in sums.values()), ZERO)
    return BudgetVsActual(
        year=year,
        month=month,
        since=current.since if current else None,
        date_from=first,
        date_to=last,
        days_left=days_left,
        total=BudgetFigures(
            budget=current.total if current else None,
            carried=ZERO,
            spent=spent,
            scheduled=scheduled,
            estimated=any(s["spending"].estimated for s in sums.values()),
            days_left=days_left,
        ),
        categories=categories,
        unbudgeted=unbudgeted,
    )
