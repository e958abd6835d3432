"""GET /backup/export, and export → import round trips into another user."""

import datetime
import json
from collections import Counter
from decimal import Decimal

import pytest
import time_machine

from ledger.models import Category, RecurringOccurrence, RecurringTransaction, Transaction
from ledger.tests.backup_support import (
    COFFEE,
    OWN_CATEGORIES,
    PLAIN_NAMES,
    SEOUL,
    dexie_document,
    local_date,
    monthly_totals,
    real_spa_fixture_path,
    snapshot,
    spa_fixture,
    spa_fixture_bytes,
)
from ledger.tests.factories import (
    CategoryFactory,
    RecurringTransactionFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db


def export(client, **query):
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    response = client.get("/backup/export" + suffix)
    assert response.status_code == 200, response.content
    return response, json.loads(b"".join(response.streaming_content))


def import_(client, document, **query):
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    body = document if isinstance(document, bytes) else json.dumps(document)
    response = client.post("/backup/import" + suffix, data=body, content_type="application/json")
    assert response.status_code == 200, response.json()
    return response.json()


def _rich_ledger(client, user):
    """A ledger with everything an export must carry: rules, links, pending amounts, cents,
    own categories with emoji, uncategorized rows and a deleted occurrence."""
    import_(client, spa_fixture_bytes())
    gym = CategoryFactory(user=user, name="헬스", emoji="💪")
    rent = RecurringTransactionFactory(
        user=user,
        template_name="월세",
        amount=Decimal("550000"),
        day_of_month=25,
        start_date=datetime.date(2025, 1, 1),
        end_date=datetime.date(2025, 12, 31),
        category=Category.objects.get(ledger=None, name="월세"),
    )
    power = RecurringTransactionFactory(
        user=user,
        template_name="전기요금",
        amount=None,
        is_variable_amount=True,
        day_of_month=31,
        start_date=datetime.date(2025, 6, 1),
        category=None,
        frequency="monthly",
    )
    yearly = RecurringTransactionFactory(
        user=user,
        template_name="연회비",
        amount=Decimal("120000.50"),
        frequency="yearly",
        day_of_month=1,
        start_date=datetime.date(2024, 3, 1),
        is_active=False,
        category=gym,
    )
    for month in (6, 7):
        day = datetime.date(2025, month, 25)
        TransactionFactory(
            user=user,
            recurring=rent,
            date=day,
            amount=Decimal("550000"),
            description="월세",
            category=rent.category,
        )
        RecurringOccurrence.objects.create(recurring=rent, date=day)
    RecurringOccurrence.objects.create(recurring=rent, date=datetime.date(2025, 5, 25))  # deleted
    pending = TransactionFactory(
        user=user,
        recurring=power,
        date=datetime.date(2025, 8, 31),
        amount=None,
        status="scheduled",
        description="전기요금",
    )
    RecurringOccurrence.objects.create(recurring=power, date=pending.date)
    RecurringOccurrence.objects.create(recurring=yearly, date=datetime.date(2025, 3, 1))
    TransactionFactory(
        user=user,
        date=datetime.date(2025, 7, 3),
        amount=Decimal("1234.56"),
        description="센트 단위",
        category=gym,
        type="expense",
    )
    TransactionFactory(
        user=user,
        date=datetime.date(2025, 7, 4),
        amount=Decimal("777"),
        description="분류 없음",
        category=None,
        type="income",
    )


def _transactions(user):
    return Counter(
        (
            t.date,
            t.description,
            t.amount,
            t.type,
            t.category.name if t.category else None,
            t.category.emoji if t.category else None,
            t.status,
            t.recurring.template_name if t.recurring else None,
        )
        for t in Transaction.objects.filter(ledger__personal_for=user).select_related(
            "category", "recurring"
        )
    )


def _rules(user):
    return sorted(
        (
            r.template_name,
            r.description,
            r.amount,
            r.type,
            r.category.name if r.category else None,
            r.frequency,
            r.start_date,
            r.end_date,
            r.day_of_month,
            r.is_active,
            r.is_variable_amount,
        )
        for r in RecurringTransaction.objects.filter(ledger__personal_for=user).select_related(
            "category"
        )
    )


def _occurrences(user):
    return sorted(
        RecurringOccurrence.objects.filter(recurring__ledger__personal_for=user).values_list(
            "recurring__template_name", "date"
        )
    )


def test_round_trip_into_a_second_user_reproduces_the_same_ledger(auth_client, user, other_user):
    # given
    _rich_ledger(auth_client(user), user)
    _, document = export(auth_client(user))
    # when
    report = import_(auth_client(other_user), document)
    # then
    assert report["format"] == "household_ledger" and report["failed"] == 0
    assert monthly_totals(other_user) == monthly_totals(user)
    assert _transactions(other_user) == _transactions(user)
    assert _rules(other_user) == _rules(user)
    assert _occurrences(other_user) == _occurrences(user)
    assert sorted(
        Category.objects.filter(ledger__personal_for=other_user).values_list("name", "emoji")
    ) == sorted(Category.objects.filter(ledger__personal_for=user).values_list("name", "emoji"))
    # and importing it again, or into the original owner, adds nothing
    before = snapshot(other_user)
    assert import_(auth_client(other_user), document)["created"]["transactions"] == 0
    assert snapshot(other_user) == before
    owner_before = snapshot(user)
    again = import_(auth_client(user), document)
    assert again["created"]["transactions"] == 0
    assert again["created"]["recurring_transactions"] == 0
    assert snapshot(user) == owner_before


def test_round_trip_keeps_the_browser_ids_so_old_backups_still_deduplicate(
    auth_client, user, other_user
):
    import_(auth_client(user), spa_fixture_bytes())
    _, document = export(auth_client(user))
    import_(auth_client(other_user), document)

    report = import_(auth_client(other_user), spa_fixture_bytes())

    assert report["created"]["transactions"] == 0
    assert report["skipped"]["transactions"] == 306


def test_replace_import_of_own_export_restores_the_same_ledger(auth_client, user):
    _rich_ledger(auth_client(user), user)
    _, document = export(auth_client(user))
    totals, rows, rules = monthly_totals(user), _transactions(user), _rules(user)
    TransactionFactory(user=user, description="나중에 추가")

    report = import_(auth_client(user), document, mode="replace")

    assert report["deleted"]["transactions"] == len(document["transactions"]) + 1
    assert monthly_totals(user) == totals
    assert _transactions(user) == rows
    assert _rules(user) == rules


def test_export_document_shape_and_numbers(auth_client, user):
    _rich_ledger(auth_client(user), user)

    response, document = export(auth_client(user))

    assert response["Content-Type"].startswith("application/json")
    assert document["format"] == "household_ledger" and document["version"] == 2
    assert document["time_zone"] == "Asia/Seoul"
    assert "exportDate" not in document and document["exported_at"].endswith("Z")
    own = {name for name, _ in OWN_CATEGORIES} | {"헬스"}
    assert {c["name"] for c in document["categories"]} == own  # own only
    amounts = {t["description"]: t["amount"] for t in document["transactions"]}
    assert amounts["센트 단위"] == 1234.56 and isinstance(amounts["센트 단위"], float)
    coffee_amount = amounts["카페 CHIPS 아아 2잔"]
    assert coffee_amount == 9000 and isinstance(coffee_amount, int)
    assert amounts["전기요금"] is None
    coffee = next(t for t in document["transactions"] if t["description"] == "카페 CHIPS 아아 2잔")
    assert coffee["date"] == "2025-07-25"
    assert coffee["legacy_id"] == COFFEE
    # The older SPA's row 100 (`"amount": 4500.0`): its integer id is kept as a string, and
    # a whole amount is a JSON integer.
    medicine = next(t for t in document["transactions"] if t["legacy_id"] == "100")
    assert medicine["amount"] == 4500 and isinstance(medicine["amount"], int)
    rent = next(r for r in document["recurring_transactions"] if r["template_name"] == "월세")
    assert rent["amount"] == 550000 and rent["start_date"] == "2025-01-01"
    assert rent["occurrence_dates"] == ["2025-05-25", "2025-06-25", "2025-07-25"]
    linked = [t for t in document["transactions"] if t["recurring"] == rent["id"]]
    assert len(linked) == 2


def test_export_rows_are_the_apis_own_renderings(auth_client, user):
    # given
    _rich_ledger(auth_client(user), user)
    client = auth_client(user)
    # when
    _, document = export(client)
    # then: a transaction as GET /transactions/{id} shows it, plus the id it was imported with
    for row in document["transactions"][:20]:
        rendered = client.get(f"/transactions/{row['id']}").json()
        assert {key: value for key, value in row.items() if key != "legacy_id"} == rendered
    for row in document["recurring_transactions"]:
        rendered = client.get(f"/recurring/{row['id']}").json()
        extra = {"legacy_id", "occurrence_dates"}
        assert {key: value for key, value in row.items() if key not in extra} == rendered
    for row in document["categories"]:
        assert row == client.get(f"/categories/{row['id']}").json()


def test_export_file_name_is_the_spas_rfc5987_encoded(auth_client, user):
    with time_machine.travel(datetime.datetime(2025, 8, 1, 16, 0, tzinfo=datetime.UTC)):
        response, _ = export(auth_client(user))

    # 16:00 UTC on 1 August is already 2 August in Seoul.
    assert response["Content-Disposition"] == (
        'attachment; filename="household-ledger-backup-2025-08-02.json"; '
        "filename*=UTF-8''%EA%B0%80%EA%B3%84%EB%B6%80_%EB%B0%B1%EC%97%85_2025-08-02.json"
    )


def _seoul_midnight(instant: str) -> str:
    """The UTC instant of the Seoul midnight starting the day `instant` falls on."""
    day = local_date(instant, SEOUL)
    midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=SEOUL)
    return midnight.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_spa_v1_export_reproduces_the_spas_own_backup_rows(auth_client, user):
    import_(auth_client(user), spa_fixture_bytes())

    response, document = export(auth_client(user), format="spa-v1")

    assert set(document) == {"version", "exportDate", "transactions"}
    assert document["version"] == 1
    assert document["exportDate"].endswith("Z")
    exported = {row["id"]: row for row in document["transactions"]}
    rows = spa_fixture()["transactions"]
    assert len(exported) == len(rows) == 306
    # Ids become strings, names lose the older SPA's emoji, dates become the local midnight's
    # instant (a 15:00Z date is kept as it is), and links to rules not in the file are gone.
    for row in rows:
        assert exported[str(row["id"])] == {
            **row,
            "id": str(row["id"]),
            "date": _seoul_midnight(row["date"]),
            "category": PLAIN_NAMES.get(row["category"], row["category"]),
            "status": row.get("status", "confirmed"),
            "recurring_id": None,
        }
        if row["date"].endswith("T15:00:00.000Z"):
            assert exported[str(row["id"])]["date"] == row["date"]
    assert exported[COFFEE]["date"] == "2025-07-24T15:00:00.000Z"
    lunch = exported["9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"]  # 2025-07-31T03:12:45.120Z
    assert lunch["date"] == "2025-07-30T15:00:00.000Z"
    sale = exported["5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"]  # 2025-06-30T23:30:00.000Z
    assert sale["date"] == "2025-06-30T15:00:00.000Z"
    assert (
        "가계부_백업_" in response["Content-Disposition"]
        or "%EB%B0%B1%EC%97%85" in (response["Content-Disposition"])
    )


def test_spa_v1_export_reproduces_the_real_spa_backup_rows(auth_client, user):
    raw = real_spa_fixture_path().read_bytes()
    import_(auth_client(user), raw)

    _, document = export(auth_client(user), format="spa-v1")

    exported = {row["id"]: row for row in document["transactions"]}
    rows = json.loads(raw)["transactions"]
    assert len(exported) == len(rows)
    for row in rows:
        assert exported[row["id"]] == {**row, "status": "confirmed", "recurring_id": None}


def test_spa_v1_export_round_trips_into_another_user(auth_client, user, other_user):
    _rich_ledger(auth_client(user), user)
    _, document = export(auth_client(user), format="spa-v1")

    report = import_(auth_client(other_user), document)

    # A pending amount cannot exist without its rule (the SPA format has no rules): skipped.
    assert (
        report["created"]["transactions"]
        == Transaction.objects.filter(ledger__personal_for=user).count() - 1
    )
    expected = monthly_totals(user)
    del expected[(2025, 8, "expense", "scheduled")]
    assert monthly_totals(other_user) == expected


def test_export_contains_only_the_users_own_data(auth_client, user, other_user):
    TransactionFactory(user=other_user, description="남의 거래")
    CategoryFactory(user=other_user, name="남의 카테고리")
    RecurringTransactionFactory(user=other_user, template_name="남의 규칙")
    TransactionFactory(user=user, description="내 거래")

    _, document = export(auth_client(user))

    assert [t["description"] for t in document["transactions"]] == ["내 거래"]
    assert document["categories"] == [] and document["recurring_transactions"] == []


def test_unknown_export_format_is_a_field_error(auth_client, user):
    response = auth_client(user).get("/backup/export?format=xml")

    assert response.status_code == 400
    assert "format" in response.json()["error"]["fields"]


def test_export_needs_authentication(api_client):
    response = api_client.get("/backup/export")

    assert response.status_code in (401, 403)
    assert "error" in response.json()


def test_empty_ledger_exports_an_importable_document(auth_client, user, other_user):
    _, document = export(auth_client(user))

    assert document["transactions"] == []
    report = import_(auth_client(other_user), document)
    assert report["created"]["transactions"] == 0 and report["ok"]


def test_dexie_dump_round_trips_through_the_export(auth_client, user, other_user):
    document = dexie_document(
        {
            "recurring_transactions": [
                {
                    "id": 1,
                    "template_name": "구독",
                    "amount": 9900,
                    "type": "expense",
                    "category": "📺 구독료",
                    "frequency": "monthly",
                    "start_date": "2025-05",
                    "end_date": "2025-09",
                    "day_of_month": "31",
                    "is_active": 1,
                    "is_variable_amount": 0,
                },
            ],
            "transactions": [
                {
                    "id": 1,
                    "description": "구독",
                    "amount": 9900,
                    "type": "expense",
                    "date": "2025-06-29T15:00:00.000Z",
                    "category": "구독료",
                    "status": "confirmed",
                    "recurring_id": 1,
                },
            ],
        }
    )
    import_(auth_client(user), document)

    _, exported = export(auth_client(user))
    import_(auth_client(other_user), exported)

    assert _rules(other_user) == _rules(user)
    assert _transactions(other_user) == _transactions(user)
    # The browser's rule is history through the import day: its past dates without a row
    # (May, July–September) are closed too, and the export carries every record.
    assert (
        _occurrences(other_user)
        == _occurrences(user)
        == [
            ("구독", datetime.date(2025, 5, 31)),
            ("구독", datetime.date(2025, 6, 30)),
            ("구독", datetime.date(2025, 7, 31)),
            ("구독", datetime.date(2025, 8, 31)),
            ("구독", datetime.date(2025, 9, 30)),
        ]
    )
