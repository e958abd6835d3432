"""The export: the user's own categories, rules and transactions as one JSON document.

Streamed row by row (`iterator()`), so memory stays flat however large the ledger is.

- `household_ledger` (default): this API's format; importing it reproduces the same data.
- `spa-v1`: the SPA's backup shape, for users going back to the browser-only SPA: dates are
  the UTC instant of local midnight (2025-07-25 in Seoul → `2025-07-24T15:00:00.000Z`), as the
  SPA wrote them.
"""

import datetime
import json
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from ledger.models import Category, RecurringOccurrence, RecurringTransaction, Transaction

from .formats import OWN, OWN_VERSION, SPA_V1

EXPORT_FORMATS = (OWN, SPA_V1)
_ROWS_PER_QUERY = 2000


def _number(amount: Decimal | None):
    """Amounts are JSON numbers: integers when whole (won), else two-decimal floats."""
    if amount is None:
        return None
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _instant(moment: datetime.datetime) -> str:
    """JavaScript's `Date.prototype.toISOString()` form: `2025-07-24T15:00:00.000Z`."""
    moment = moment.astimezone(datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _user_zone(user) -> ZoneInfo:
    return ZoneInfo(getattr(user, "time_zone", "") or settings.TIME_ZONE)


def backup_export_filename(*, user) -> str:
    """The SPA's file name, dated today in the user's time zone: `가계부_백업_2025-08-02.json`."""
    today = timezone.now().astimezone(_user_zone(user)).date()
    return f"가계부_백업_{today.isoformat()}.json"


def backup_content_disposition(*, filename: str) -> str:
    """An attachment header with an ASCII fallback and the RFC 5987 UTF-8 name."""
    fallback = "household-ledger-backup-" + filename.rsplit("_", 1)[-1]
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _array(rows: Iterator[dict]) -> Iterator[str]:
    yield "["
    first = True
    for row in rows:
        yield ("\n" if first else ",\n") + _dumps(row)
        first = False
    yield "\n]"


def backup_export(*, user, export_format: str = OWN) -> Iterator[str]:
    """The export document of `user`, as chunks of JSON text."""
    if export_format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {export_format!r}")
    if export_format == SPA_V1:
        return _export_spa_v1(user)
    return _export_own(user)


def _transactions(user):
    return (
        Transaction.objects.filter(user=user)
        .order_by("date", "created_at", "id")
        .values_list(
            "id", "legacy_id", "date", "description", "amount", "type", "category__name",
            "status", "recurring_id",
        )
        .iterator(chunk_size=_ROWS_PER_QUERY)
    )


def _export_own(user) -> Iterator[str]:
    zone = _user_zone(user)
    head = {
        "format": OWN,
        "version": OWN_VERSION,
        "exportDate": _instant(timezone.now()),
        "timeZone": str(zone.key),
    }
    yield _dumps(head)[:-1]

    yield ',\n"categories":'
    categories = Category.objects.filter(user=user).order_by("sort_order", "name")
    yield from _array(
        {"id": str(c.pk), "name": c.name, "emoji": c.emoji} for c in categories.iterator()
    )

    yield ',\n"recurring_transactions":'
    occurrences = defaultdict(list)
    for rule_id, day in (
        RecurringOccurrence.objects.filter(recurring__user=user)
        .order_by("recurring_id", "date")
        .values_list("recurring_id", "date")
    ):
        occurrences[rule_id].append(day.isoformat())
    rules = (
        RecurringTransaction.objects.filter(user=user)
        .select_related("category")
        .order_by("created_at", "id")
    )
    yield from _array(
        {
            "id": str(rule.pk),
            "legacy_id": rule.legacy_id,
            "template_name": rule.template_name,
            "description": rule.description,
            "amount": _number(rule.amount),
            "type": rule.type,
            "category": rule.category.name if rule.category else None,
            "frequency": rule.frequency,
            "start_date": rule.start_date.isoformat(),
            "end_date": rule.end_date.isoformat() if rule.end_date else None,
            "day_of_month": rule.day_of_month,
            "is_active": rule.is_active,
            "is_variable_amount": rule.is_variable_amount,
            "occurrence_dates": occurrences.get(rule.pk, []),
        }
        for rule in rules.iterator()
    )

    yield ',\n"transactions":'
    yield from _array(
        {
            "id": str(pk),
            "legacy_id": legacy_id,
            "date": day.isoformat(),
            "description": description,
            "amount": _number(amount),
            "type": kind,
            "category": category,
            "status": status,
            "recurring_id": str(rule_id) if rule_id else None,
        }
        for pk, legacy_id, day, description, amount, kind, category, status, rule_id in (
            _transactions(user)
        )
    )
    yield "}\n"


def _export_spa_v1(user) -> Iterator[str]:
    zone = _user_zone(user)
    rule_ids = {
        pk: legacy_id or str(pk)
        for pk, legacy_id in RecurringTransaction.objects.filter(user=user).values_list(
            "pk", "legacy_id"
        )
    }
    yield _dumps({"version": 1, "exportDate": _instant(timezone.now())})[:-1]
    yield ',\n"transactions":'
    yield from _array(
        {
            "id": legacy_id or str(pk),
            "description": description,
            "amount": _number(amount),
            "type": kind,
            "date": _instant(datetime.datetime.combine(day, datetime.time(), tzinfo=zone)),
            "category": category or "",
            "status": status,
            "recurring_id": rule_ids.get(rule_id) if rule_id else None,
        }
        for pk, legacy_id, day, description, amount, kind, category, status, rule_id in (
            _transactions(user)
        )
    )
    yield "}\n"
