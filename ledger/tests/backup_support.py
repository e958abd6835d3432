"""Helpers shared by the backup tests: the SPA fixtures, Dexie documents, DB snapshots."""

import datetime
import json
import os
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db.models import Count, Sum

from ledger.models import Category, RecurringOccurrence, RecurringTransaction, Transaction

SEOUL = ZoneInfo("Asia/Seoul")
# An invented household's SPA backup, in the repository (see fixtures/make_spa_backup_own.py).
SPA_FIXTURE = Path(__file__).parent / "fixtures" / "spa-backup-own.json"
# The real user's SPA backup: an extra test set, beside the checkout in ../shared/fixtures.
REAL_SPA_FIXTURE = "spa-backup-v1-2025-08-02.json"


def spa_fixture_bytes() -> bytes:
    return SPA_FIXTURE.read_bytes()


def spa_fixture() -> dict:
    return json.loads(spa_fixture_bytes())


# The own fixture's category names as the ledger stores them: the older SPA's emoji dropped.
PLAIN_NAMES = {
    "🍽️ 식비": "식비",
    "☕ 카페": "카페",
    "🚌 교통비": "교통비",
    "👕 생활용품": "생활용품",
    "🍪 간식류": "간식류",
    "⚡ 공과금": "공과금",
    "🏠 주거비": "주거비",
    "🏥 의료비": "의료비",
}
# The own categories its import creates (not defaults), with their emoji: the file's prefix,
# else the one the older SPA showed for that name, else none (쇼핑 is simply unknown).
OWN_CATEGORIES = {
    ("쇼핑", ""),
    ("생활용품", "👕"),
    ("주거비", "🏠"),
    ("음악", "🎵"),
    ("선물", "🎁"),
    ("취미", "🎯"),
    ("금융", "💰"),
}
# Rows the tests name (ids in the fixture).
COFFEE = "8c3f6a1e-2b4d-4c5e-9f70-1a2b3c4d5e6f"  # 2025-07-24T15:00:00.000Z → 25 July


def real_spa_fixture_path(name: str = REAL_SPA_FIXTURE) -> Path:
    """`../shared/fixtures/<name>`, or the test skips saying it is absent (a plain clone has
    no `../shared`). Under `CI=true` its absence fails the test: CI must run the real data."""
    path = Path(settings.BASE_DIR).parent / "shared" / "fixtures" / name
    if not path.is_file():
        reason = f"the real SPA backup {path} is absent (no ../shared beside the checkout)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
        pytest.skip(reason)
    return path


def real_spa_fixture() -> dict:
    return json.loads(real_spa_fixture_path().read_bytes())


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
            Transaction.objects.filter(ledger__personal_for=user).values_list(
                "id",
                "date",
                "description",
                "amount",
                "type",
                "category_id",
                "status",
                "recurring_id",
                "legacy_id",
            )
        ),
        "rules": sorted(
            RecurringTransaction.objects.filter(ledger__personal_for=user).values_list(
                "id", "legacy_id"
            )
        ),
        "categories": sorted(
            Category.objects.filter(ledger__personal_for=user).values_list("id", "name")
        ),
        "occurrences": sorted(
            RecurringOccurrence.objects.filter(recurring__ledger__personal_for=user).values_list(
                "recurring_id", "date"
            )
        ),
    }


def monthly_totals(user) -> dict:
    """(year, month, type, status) → (sum, count), with a plain ORM aggregate."""
    rows = (
        Transaction.objects.filter(ledger__personal_for=user)
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
