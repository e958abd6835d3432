"""Keeping `MonthSummary`: each ledger's transactions summed per (month, category, type,
status, author).

The transaction services are its only writers, in the same database transaction as the rows
they write and after `revision_bump` (whose ledger lock orders concurrent writers): they take
the sums of the rows they will change or delete as stored (`month_sums_in`) before the write,
those of the rows they inserted or changed after it (`month_sums_of`, `month_sums_in`), and
give both to `month_summary_update`, which adds the difference in one statement. So a rolled-back
write leaves the summary as it was, and the month-grained reads (`ledger.selectors.stats`,
`ledger.selectors.budgets`) sum a few hundred summary rows instead of every transaction.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db import connection
from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from ledger.dates import month_start
from ledger.models import MonthSummary, Transaction

# The transaction fields a summary group depends on: a write touching none of them (the
# description, the rule link, the import hash) leaves the summary as it is.
SUMMED_FIELDS = frozenset({"date", "amount", "type", "category", "status", "created_by"})

ZERO = Decimal("0.00")
_TABLE = f'"{MonthSummary._meta.db_table}"'
_DATE, _AMOUNT = Transaction._meta.get_field("date"), Transaction._meta.get_field("amount")

# (ledger id, month, category id, type, status, author id) → [total, count, pending].
Sums = Mapping[tuple, list]


def _sums() -> defaultdict:
    return defaultdict(lambda: [ZERO, 0, 0])


def month_sums_of(rows: Iterable[Transaction]) -> Sums:
    """The sums of transactions in hand (rows just inserted): no query."""
    sums = _sums()
    for row in rows:
        amount = _AMOUNT.to_python(row.amount)  # a caller may have given a str or an int
        group = sums[
            (
                row.ledger_id,
                month_start(_DATE.to_python(row.date)),
                row.category_id,
                row.type,
                row.status,
                row.created_by_id,
            )
        ]
        group[0] += amount or ZERO
        group[1] += 1
        group[2] += amount is None
    return sums


def month_sums_in(queryset: QuerySet[Transaction]) -> Sums:
    """The sums of the rows of `queryset` as stored. One query, grouped by PostgreSQL."""
    groups = (
        queryset.order_by()
        .values(
            "ledger_id", "category_id", "type", "status", "created_by_id", month=TruncMonth("date")
        )
        .annotate(
            total=Coalesce(Sum("amount"), Value(ZERO), output_field=DecimalField()),
            count=Count("*"),
            pending=Count("pk", filter=Q(amount__isnull=True)),
        )
    )
    sums = _sums()
    for group in groups:
        key = (
            group["ledger_id"],
            group["month"],
            group["category_id"],
            group["type"],
            group["status"],
            group["created_by_id"],
        )
        sums[key] = [group["total"], group["count"], group["pending"]]
    return sums


# Adds each group's change to its row (a new group inserts one), then names the rows left
# without a transaction. A fixed text; the changes travel as arrays.
_ADD_SQL = f"""
WITH changed AS (
    INSERT INTO {_TABLE} AS s
        (ledger_id, month, category_id, type, status, created_by_id, total, count, pending)
    SELECT * FROM unnest(
        %s::uuid[], %s::date[], %s::uuid[], %s::varchar[], %s::varchar[], %s::uuid[],
        %s::numeric[], %s::integer[], %s::integer[])
    ON CONFLICT (ledger_id, month, category_id, type, status, created_by_id) DO UPDATE SET
        total = s.total + EXCLUDED.total,
        count = s.count + EXCLUDED.count,
        pending = s.pending + EXCLUDED.pending
    RETURNING s.id, s.count
)
SELECT id FROM changed WHERE count = 0
"""  # noqa: S608 - only the table name is interpolated
_DELETE_SQL = f"DELETE FROM {_TABLE} WHERE id = ANY(%s)"  # noqa: S608


def month_summary_update(*, added: Sums | None = None, removed: Sums | None = None) -> None:
    """Add `added` and take away `removed` (rows as they were before the write). Groups whose
    change is nil are not written; groups left with no transaction are deleted."""
    change = _sums()
    for sums, sign in ((added or {}, 1), (removed or {}, -1)):
        for key, (total, count, pending) in sums.items():
            group = change[key]
            group[0] += sign * total
            group[1] += sign * count
            group[2] += sign * pending
    change = {key: group for key, group in change.items() if any(group)}
    if not change:
        return
    keys = sorted(change, key=str)  # one order for every writer's rows
    columns = [[key[index] for key in keys] for index in range(6)]
    columns += [[change[key][index] for key in keys] for index in range(3)]
    with connection.cursor() as cursor:
        cursor.execute(_ADD_SQL, columns)
        emptied = [row_id for (row_id,) in cursor.fetchall()]
        if emptied:
            cursor.execute(_DELETE_SQL, [emptied])
