"""Export → import through HTTP: the own format (version 2, and version 1 files users still
hold), the SPA's shape at the edges of the date range, the revision, the category cap."""

import datetime
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Count, Sum

from ledger.models import Category, RecurringOccurrence, RecurringTransaction, Transaction
from ledger.services.categories import MAX_CATEGORIES_PER_USER
from ledger.services.ledgers import personal_ledger
from ledger.tests.backup_support import snapshot
from ledger.tests.factories import CategoryFactory, TransactionFactory

pytestmark = pytest.mark.django_db

# This API's export in its first shape (version 1: `recurring_id`, `category` as a name),
# written by the exporter of that time for an invented ledger: browser and server rows, three
# rules with their links and records (May's rent deleted), a pending amount, cents.
OWN_V1 = Path(__file__).parent / "fixtures" / "own-export-v1.json"


def export(client, **query) -> dict:
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    response = client.get("/backup/export" + suffix)
    assert response.status_code == 200, response.content
    return json.loads(b"".join(response.streaming_content))


def import_(client, document, *, status=200, **query) -> dict:
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    body = document if isinstance(document, bytes) else json.dumps(document)
    response = client.post("/backup/import" + suffix, data=body, content_type="application/json")
    assert response.status_code == status, response.json()
    return response.json()


def totals(user) -> dict:
    """(category name, year, month, type) → (sum, count) over the user's transactions."""
    rows = (
        Transaction.objects.filter(ledger__personal_for=user)
        .values("category__name", "date__year", "date__month", "type")
        .annotate(total=Sum("amount"), count=Count("id"))
    )
    return {
        (r["category__name"], r["date__year"], r["date__month"], r["type"]): (
            r["total"],
            r["count"],
        )
        for r in rows
    }


def v1_file_totals(document: dict) -> dict:
    found: dict = defaultdict(lambda: [Decimal(0), 0])
    for row in document["transactions"]:
        day = datetime.date.fromisoformat(row["date"])
        entry = found[(row["category"], day.year, day.month, row["type"])]
        if row["amount"] is not None:
            entry[0] += Decimal(str(row["amount"]))
        entry[1] += 1
    return {key: (total or None, count) for key, (total, count) in found.items()}


NOTHING = {
    "categories": 0,
    "recurring_transactions": 0,
    "transactions": 0,
    "occurrences": 0,
    "past_dates_closed": 0,
}


# --- version 1 files ------------------------------------------------------------------------


def test_a_version_1_export_imports_with_its_totals_links_and_records(auth_client, user):
    # given
    document = json.loads(OWN_V1.read_bytes())
    assert document["version"] == 1
    # when
    report = import_(auth_client(user), OWN_V1.read_bytes())
    # then
    assert report["format"] == "household_ledger" and report["ok"]
    assert report["created"]["transactions"] == len(document["transactions"])
    assert report["created"]["recurring_transactions"] == 3
    assert report["created"]["categories"] == 2
    assert totals(user) == v1_file_totals(document)
    rules = {r["id"]: r for r in document["recurring_transactions"]}
    for row in document["transactions"]:
        imported = Transaction.objects.get(
            ledger__personal_for=user, legacy_id=row["legacy_id"] or row["id"]
        )
        linked = rules.get(row["recurring_id"])
        assert (imported.recurring.template_name if imported.recurring else None) == (
            linked["template_name"] if linked else None
        )
    records = sorted(
        RecurringOccurrence.objects.filter(recurring__ledger__personal_for=user).values_list(
            "recurring__template_name", "date"
        )
    )
    assert records == sorted(
        (rule["template_name"], datetime.date.fromisoformat(day))
        for rule in document["recurring_transactions"]
        for day in rule["occurrence_dates"]
    )
    # and again: nothing new
    before = snapshot(user)
    assert import_(auth_client(user), OWN_V1.read_bytes())["created"] == NOTHING
    assert snapshot(user) == before


# --- version 2: the API's renderings --------------------------------------------------------


def test_export_then_import_into_a_new_user_gives_equal_totals_per_category_and_month(
    auth_client, user, other_user
):
    # given: a ledger that came from a version 1 file, plus rows made on the server
    import_(auth_client(user), OWN_V1.read_bytes())
    gift = CategoryFactory(user=user, name="선물", emoji="🎁")
    TransactionFactory(
        user=user,
        date=datetime.date(2025, 8, 1),
        amount=Decimal("30000.10"),
        category=gift,
        description="생일 선물",
    )
    document = export(auth_client(user))
    assert document["version"] == 2
    # when
    report = import_(auth_client(other_user), document)
    # then
    assert report["ok"] and report["created"]["transactions"] == len(document["transactions"])
    assert totals(other_user) == totals(user)
    assert sorted(
        Category.objects.filter(ledger__personal_for=other_user).values_list("name", "emoji")
    ) == sorted(Category.objects.filter(ledger__personal_for=user).values_list("name", "emoji"))
    assert sorted(
        RecurringOccurrence.objects.filter(recurring__ledger__personal_for=other_user).values_list(
            "recurring__template_name", "date"
        )
    ) == sorted(
        RecurringOccurrence.objects.filter(recurring__ledger__personal_for=user).values_list(
            "recurring__template_name", "date"
        )
    )
    # and re-importing creates nothing, for the new user or for the one it came from
    for who in (other_user, user):
        before = snapshot(who)
        again = import_(auth_client(who), document)
        assert again["created"] == NOTHING
        assert again["skipped"]["transactions"] == len(document["transactions"])
        assert snapshot(who) == before


def test_a_version_1_file_and_its_version_2_export_are_the_same_ledger(
    auth_client, user, other_user
):
    import_(auth_client(user), OWN_V1.read_bytes())

    import_(auth_client(other_user), export(auth_client(user)))

    assert totals(other_user) == totals(user) == v1_file_totals(json.loads(OWN_V1.read_bytes()))
    links = lambda who: sorted(  # noqa: E731
        Transaction.objects.filter(ledger__personal_for=who, recurring__isnull=False).values_list(
            "recurring__template_name", "date", "amount"
        )
    )
    assert links(other_user) == links(user)


# --- the date range -------------------------------------------------------------------------


def _edge_rows(client) -> None:
    for day, amount in (("1900-01-01", 1000), ("2100-12-31", 2000)):
        response = client.post(
            "/transactions",
            {"date": day, "description": f"끝 {day}", "amount": amount, "type": "expense"},
            format="json",
        )
        assert response.status_code == 201, response.json()


@pytest.mark.parametrize("export_format", ["household_ledger", "spa-v1"])
def test_the_first_and_last_day_of_the_range_export_and_import_back(
    auth_client, user, other_user, export_format
):
    _edge_rows(auth_client(user))

    document = export(auth_client(user), format=export_format)
    import_(auth_client(other_user), document)

    dates = sorted(
        Transaction.objects.filter(ledger__personal_for=other_user).values_list("date", flat=True)
    )
    assert dates == [datetime.date(1900, 1, 1), datetime.date(2100, 12, 31)]


def test_a_row_from_before_the_range_was_enforced_exports_and_is_refused_naming_it(
    auth_client, user, other_user
):
    # given: a row the API refuses today, kept from before it did
    TransactionFactory(user=user, date=datetime.date(1, 1, 1), description="고대")
    TransactionFactory(user=user, date=datetime.date(2025, 7, 1))
    for export_format in ("spa-v1", "household_ledger"):
        # when: the whole document streams (no overflow cuts it short)
        document = export(auth_client(user), format=export_format)
        assert len(document["transactions"]) == 2
        # then: importing it names the row and the field, and writes nothing
        error = import_(auth_client(other_user), document, status=400)["error"]
        [(where, [reason])] = error["fields"].items()
        assert where == "transactions[0].date" and "out of range" in reason
    assert not Transaction.objects.filter(ledger__personal_for=other_user).exists()


# --- the revision ---------------------------------------------------------------------------


def test_an_import_changes_the_transactions_etag_and_a_dry_run_does_not(auth_client, user):
    client = auth_client(user)
    first = client.get("/transactions")["ETag"]

    import_(client, OWN_V1.read_bytes())
    after_import = client.get("/transactions", HTTP_IF_NONE_MATCH=first)

    assert after_import.status_code == 200 and after_import["ETag"] != first
    TransactionFactory(user=user)  # so the dry run would have something to delete
    etag = client.get("/transactions")["ETag"]
    dry = import_(client, OWN_V1.read_bytes(), mode="replace", dry_run="true")
    assert dry["deleted"]["transactions"] > 0
    assert client.get("/transactions", HTTP_IF_NONE_MATCH=etag).status_code == 304
    import_(client, {"version": 1, "transactions": [{"id": "x", "amount": -1}]}, status=400)
    assert client.get("/transactions", HTTP_IF_NONE_MATCH=etag).status_code == 304


# --- the category cap -----------------------------------------------------------------------


def _spa(*categories: str) -> dict:
    return {
        "version": 1,
        "transactions": [
            {
                "id": str(n),
                "description": "x",
                "amount": 1000,
                "type": "expense",
                "date": "2025-07-01",
                "category": name,
            }
            for n, name in enumerate(categories)
        ],
    }


def test_an_import_cannot_pass_the_category_cap(auth_client, user):
    # given: room for one more category of the user's own
    Category.objects.bulk_create(
        Category(ledger=personal_ledger(user=user), name=f"내 분류 {n}")
        for n in range(MAX_CATEGORIES_PER_USER - 1)
    )
    before = snapshot(user)
    # when: a file names two new ones
    error = import_(auth_client(user), _spa("새 분류 1", "새 분류 2", "식비"), status=400)["error"]
    # then: refused whole, saying why
    assert error["code"] == "invalid_backup"
    assert f"at most {MAX_CATEGORIES_PER_USER}" in error["fields"]["categories.name"][0]
    assert snapshot(user) == before
    # and one new one still fits
    assert import_(auth_client(user), _spa("새 분류 1", "식비"))["created"]["categories"] == 1
    assert Category.objects.filter(ledger__personal_for=user).count() == MAX_CATEGORIES_PER_USER
    assert RecurringTransaction.objects.filter(ledger__personal_for=user).count() == 0
