"""The export: the ledger's own categories, rules and transactions as one JSON document.

Streamed in chunks (`iterator()`), so memory stays flat however large the ledger is.

- `household_ledger` (default, version 2): this API's format. Each row is the API's own
  rendering — a transaction as `GET /transactions` shows it, a rule as `GET /recurring`, a
  category as `GET /categories` — plus what a restore needs besides: the `legacy_id` it was
  imported with, and a rule's `occurrence_dates` (so a deleted occurrence stays deleted);
  `budgets` are the budget's changes as `GET /budgets/{month}` renders them (`budgets`).
- `spa-v1`: the SPA's backup shape (SPEC §4), for users going back to the browser-only SPA:
  dates are the UTC instant of local midnight (2025-07-25 in Seoul → `2025-07-24T15:00:00.000Z`),
  as the SPA wrote them. A different format, not a rendering.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from household_ledger.api.rendering import JSONEncoder
from ledger.api.categories import CategorySerializer
from ledger.api.recurring import RecurringSerializer
from ledger.api.transactions import TransactionSerializer
from ledger.dates import local_date
from ledger.models import Category, RecurringOccurrence, RecurringTransaction, Transaction
from ledger.selectors.recurring import recurring_list, recurring_rows

from .budgets import budget_export_rows
from .formats import OWN, OWN_VERSION, SPA_V1

EXPORT_FORMATS = (OWN, SPA_V1)
_ROWS_PER_QUERY = 2000


class BackupTransactionSerializer(TransactionSerializer):
    """A transaction as the API renders it, and the browser id it was imported with."""

    legacy_id = serializers.CharField(help_text="the IndexedDB id it was imported with, or empty")


class BackupRuleSerializer(RecurringSerializer):
    """A rule as the API renders it, its browser id, and the dates it already materialized."""

    legacy_id = serializers.CharField(help_text="the IndexedDB id it was imported with, or empty")
    occurrence_dates = serializers.SerializerMethodField(
        help_text="every date the rule materialized (a deleted occurrence stays deleted)"
    )

    @extend_schema_field({"type": "array", "items": {"type": "string", "format": "date"}})
    def get_occurrence_dates(self, row) -> list[str]:
        return row["occurrence_dates"]


# One encoder for every row: numbers, ids and instants exactly as the API's JSON renderer.
_ENCODER = JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _user_zone(ledger) -> str:
    return getattr(ledger, "time_zone", "") or settings.TIME_ZONE


def backup_export_filename(*, ledger) -> str:
    """The SPA's file name, dated today in the ledger's time zone: `가계부_백업_2025-08-02.json`."""
    today = local_date(timezone.now(), _user_zone(ledger))
    return f"가계부_백업_{today.isoformat()}.json"


def backup_content_disposition(*, filename: str) -> str:
    """An attachment header with an ASCII fallback and the RFC 5987 UTF-8 name."""
    fallback = "household-ledger-backup-" + filename.rsplit("_", 1)[-1]
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def backup_export(*, ledger, export_format: str = OWN) -> Iterator[str]:
    """The export document of `ledger`, as chunks of JSON text."""
    if export_format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {export_format!r}")
    if export_format == SPA_V1:
        return _export_spa_v1(ledger)
    return _export_own(ledger)


def _array(rows: Iterable[dict]) -> Iterator[str]:
    yield "["
    first = True
    for row in rows:
        yield ("\n" if first else ",\n") + _ENCODER.encode(row)
        first = False
    yield "\n]"


def _head(document: dict) -> str:
    """The document's first keys, left open for the arrays that follow."""
    return _ENCODER.encode(document)[:-1]


def _export_own(ledger) -> Iterator[str]:
    yield _head(
        {
            "format": OWN,
            "version": OWN_VERSION,
            "exported_at": _instant(timezone.now()),
            "time_zone": _user_zone(ledger),
        }
    )

    yield ',\n"categories":'
    categories = Category.objects.filter(ledger=ledger).order_by("sort_order", "name")
    yield from _array(CategorySerializer(categories, many=True).data)

    yield ',\n"recurring_transactions":'
    occurrences = defaultdict(list)
    for rule_id, day in (
        RecurringOccurrence.objects.filter(ledger=ledger)
        .order_by("recurring_id", "date")
        .values_list("recurring_id", "date")
    ):
        occurrences[rule_id].append(day.isoformat())
    rules = recurring_rows(
        recurring_list(ledger=ledger).order_by("created_at", "id"),
        fields=BackupRuleSerializer.row_keys(),
    )
    rendering = BackupRuleSerializer()
    yield from _array(
        rendering.to_representation({**row, "occurrence_dates": occurrences.get(row["id"], [])})
        for row in rules.iterator()
    )

    yield ',\n"transactions":'
    rendering = BackupTransactionSerializer()
    rows = _transaction_rows(ledger, BackupTransactionSerializer.row_keys())
    yield from _array(rendering.to_representation(row) for row in rows)

    yield ',\n"budgets":'
    yield from _array(budget_export_rows(ledger=ledger))
    yield "}\n"


def _transaction_rows(ledger, fields: list[str]) -> Iterator[dict]:
    return (
        Transaction.objects.filter(ledger=ledger)
        .order_by("date", "created_at", "id")
        .values(*fields)
        .iterator(chunk_size=_ROWS_PER_QUERY)
    )


# --- the SPA's backup shape -----------------------------------------------------------------

_SPA_FIELDS = [
    "id",
    "legacy_id",
    "date",
    "description",
    "amount",
    "type",
    "category__name",
    "status",
    "recurring_id",
]


def _number(amount: Decimal | None):
    """The SPA's amounts: integers when whole (won), else two-decimal floats."""
    if amount is None:
        return None
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _instant(moment: datetime.datetime) -> str:
    """JavaScript's `Date.prototype.toISOString()` form: `2025-07-24T15:00:00.000Z`."""
    moment = moment.astimezone(datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _local_midnight(day: datetime.date, zone: ZoneInfo) -> str:
    """The instant the SPA stored for a date: its local midnight, in UTC."""
    try:
        return _instant(datetime.datetime.combine(day, datetime.time(), tzinfo=zone))
    except OverflowError:
        # Only 0001-01-01 east of UTC (a row from before the API kept dates in 1900–2100):
        # midnight UTC is the same date there, so the row still reads back as itself.
        return f"{day.isoformat()}T00:00:00.000Z"


def _export_spa_v1(ledger) -> Iterator[str]:
    zone = ZoneInfo(_user_zone(ledger))
    rule_ids = {
        pk: legacy_id or str(pk)
        for pk, legacy_id in RecurringTransaction.objects.filter(ledger=ledger).values_list(
            "pk", "legacy_id"
        )
    }
    yield _head({"version": 1, "exportDate": _instant(timezone.now())})
    yield ',\n"transactions":'
    yield from _array(
        {
            "id": row["legacy_id"] or str(row["id"]),
            "description": row["description"],
            "amount": _number(row["amount"]),
            "type": row["type"],
            "date": _local_midnight(row["date"], zone),
            "category": row["category__name"] or "",
            "status": row["status"],
            "recurring_id": rule_ids.get(row["recurring_id"]) if row["recurring_id"] else None,
        }
        for row in _transaction_rows(ledger, _SPA_FIELDS)
    )
    yield "}\n"
