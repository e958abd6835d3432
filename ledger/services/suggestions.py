"""Writes to the category suggester's evidence (`SuggestionGram`): what a household called
what. Derived data, kept in step with transactions by `ledger.services.transactions` — the
one writer of transactions calls `suggestion_grams_update` inside the same atomic block as
its own write, after the owner's row lock (`revision_bump`), so the counts never drift from
the rows and the next suggestion already knows the last write.
"""

from collections.abc import Iterable

from django.db import connection
from django.db.models import QuerySet

from ledger.models import SuggestionGram, Transaction
from ledger.suggestion_grams import Evidence, tally

# Keys per statement: bounded parameter arrays, however large an import is.
BATCH_SIZE = 10_000

_TABLE = connection.ops.quote_name(SuggestionGram._meta.db_table)
# An increment on conflict, which the ORM cannot say (`bulk_create(update_conflicts=True)`
# only overwrites): one statement for all the keys a write touches. It answers the keys no
# row has any more, for the next statement to delete.
_ADD = f"""
    WITH changed AS (
        INSERT INTO {_TABLE} AS g (ledger_id, type, gram, category_id, count, weight)
        SELECT * FROM unnest(%s::uuid[], %s::varchar[], %s::varchar[], %s::uuid[], %s::int[],
                             %s::float8[])
        ON CONFLICT (ledger_id, type, gram, category_id)
        DO UPDATE SET count = g.count + EXCLUDED.count, weight = g.weight + EXCLUDED.weight
        RETURNING ledger_id, type, gram, category_id, count
    )
    SELECT ledger_id, type, gram, category_id FROM changed WHERE count <= 0
"""  # noqa: S608 - the table name comes from the model
# By primary key, and nothing else: a filter on `count` could lead the planner to scan the
# table once per key when its statistics predate a large delete.
_DROP = f"""
    DELETE FROM {_TABLE}
    WHERE (ledger_id, type, gram, category_id) IN (
        SELECT * FROM unnest(%s::uuid[], %s::varchar[], %s::varchar[], %s::uuid[])
    )
"""  # noqa: S608 - the table name comes from the model


def evidence_of(transactions: Iterable[Transaction]) -> list[Evidence]:
    """What these transaction instances teach, as they are in memory."""
    return [
        Evidence(row.ledger_id, row.type, row.description, row.category_id, row.date)
        for row in transactions
    ]


def evidence_in(queryset: QuerySet[Transaction]) -> list[Evidence]:
    """What the rows of `queryset` teach, as the database holds them now (a caller holding
    the owner's lock reads exactly what its write will replace or delete)."""
    fields = ("ledger_id", "type", "description", "category_id", "date")
    return [Evidence(*row) for row in queryset.filter(category__isnull=False).values_list(*fields)]


def suggestion_grams_update(
    *, added: Iterable[Evidence] = (), removed: Iterable[Evidence] = ()
) -> None:
    """Count `added` rows in and `removed` rows out (an edit is both: the row as it was, and
    as it is). Call it inside the transaction write's atomic block."""
    totals = tally(added=added, removed=removed)
    # Keys in order: concurrent writers of several users lock index entries in one order.
    keys = sorted(totals)
    emptied = []
    with connection.cursor() as cursor:
        for start in range(0, len(keys), BATCH_SIZE):
            batch = keys[start : start + BATCH_SIZE]
            cursor.execute(
                _ADD,
                [
                    *_columns(batch),
                    [totals[key][0] for key in batch],
                    [totals[key][1] for key in batch],
                ],
            )
            emptied.extend(cursor.fetchall())
        for start in range(0, len(emptied), BATCH_SIZE):
            cursor.execute(_DROP, _columns(emptied[start : start + BATCH_SIZE]))


def suggestion_grams_forget(*, ledger) -> None:
    """Drop all of `ledger`'s evidence: they have no transactions left (an import's replace),
    so there is nothing to count out row by row."""
    SuggestionGram.objects.filter(ledger=ledger).delete()


def _columns(keys: list[tuple]) -> list[list]:
    return [list(column) for column in zip(*keys, strict=True)]
