"""Helpers shared by the backup tests: the real SPA fixture, Dexie documents, DB snapshots."""

import datetime
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Sum

from ledger.models import Category, RecurringOccurrence, RecurringTransaction, Transaction

SEOUL = ZoneInfo("Asia/Seoul")
FIXTURE = "spa-backup-v1-2025-08-02.json"


def shared_fixture_path(name: str = FIXTURE) -> Path:
    """`../shared/fixtures/<name>` beside the checkout (CI puts `shared/` there too)."""
    return Path(settings.BASE_DIR).parent / "shared" / "fixtures" / name


def spa_fixture_bytes() -> bytes:
    return shared_fixture_path().read_bytes()


def spa_fixture() -> dict:
    return json.loads(spa_fixture_bytes())


def local_date(instant: str, zone: ZoneInfo = SEOUL) -> datetime.date:
    return datetime.datetime.fromisoformat(instant).astimezone(zone).date()


def dexie_document(tables: dict[str, list], *, inbound: dict[str, bool] | None = None) -> dict:
    """A `dexie-export-import` document of ledgerDB with the given table rows."""
    inbound = inbound or {}
    schemas = {
        "transactions": "++id,date,description,amount,type,category,status,recurring_id",
        "recurring_transactions": "++id,template_name,description,amount,type,frequency,"
        "start_date,end_date,day_of_month,is_active,is_variable_amount",
        "categories": "++id,name,emoji",
    }
    return {
        "formatName": "dexie",
        "formatVersion": 1,
        "data": {
            "databaseName": "ledgerDB",
            "databaseVersion": 4,
            "tables": [
                {"name": name, "schema": schemas.get(name, "++id"), "rowCount": len(rows)}
                for name, rows in tables.items()
            ],
            "data": [
                {"tableName": name, "inbound": inbound.get(name, True), "rows": rows}
                for name, rows in tables.items()
            ],
        },
    }


def js_time(day: datetime.date, zone: ZoneInfo = SEOUL) -> int:
    """JavaScript's time value of local midnight (how Typeson stores a Date)."""
    moment = datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
    return int(moment.timestamp() * 1000)


def snapshot(user) -> dict:
    """Everything the user owns, comparable before/after a refused import."""
    return {
        "transactions": sorted(
            Transaction.objects.filter(user=user).values_list(
                "id", "date", "description", "amount", "type", "category_id", "status",
                "recurring_id", "legacy_id",
            )
        ),
        "rules": sorted(
            RecurringTransaction.objects.filter(user=user).values_list("id", "legacy_id")
        ),
        "categories": sorted(Category.objects.filter(user=user).values_list("id", "name")),
        "occurrences": sorted(
            RecurringOccurrence.objects.filter(recurring__user=user).values_list(
                "recurring_id", "date"
            )
        ),
    }


def monthly_totals(user) -> dict:
    """(year, month, type, status) → (sum, count), with a plain ORM aggregate."""
    rows = (
        Transaction.objects.filter(user=user)
        .values("date__year", "date__month", "type", "status")
        .annotate(total=Sum("amount"), count=Count("id"))
    )
    return {
        (r["date__year"], r["date__month"], r["type"], r["status"]): (r["total"], r["count"])
        for r in rows
    }


def file_totals_by_local_month(rows: list[dict], zone: ZoneInfo = SEOUL) -> dict:
    """(year, month, type) → Decimal sum, computed from the SPA file's rows."""
    totals: dict = defaultdict(Decimal)
    for row in rows:
        day = local_date(row["date"], zone)
        totals[(day.year, day.month, row["type"])] += Decimal(str(row["amount"]))
    return dict(totals)
