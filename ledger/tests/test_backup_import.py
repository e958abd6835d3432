"""POST /backup/import: the SPA's backup, Dexie dumps and this API's export, through HTTP."""

import datetime
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db import transaction as db_transaction
from django.db.models import Sum

from accounts.tests.factories import UserFactory
from ledger.models import Category, RecurringOccurrence, RecurringTransaction, Transaction
from ledger.services.ledgers import personal_ledger
from ledger.services.recurring.engine import recurring_materialize_all
from ledger.tests.backup_support import (
    COFFEE,
    OWN_CATEGORIES,
    PLAIN_NAMES,
    SEOUL,
    dexie_document,
    file_totals_by_local_month,
    js_time,
    local_date,
    real_spa_fixture,
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

URL = "/backup/import"


def post_json(client, document, **query):
    body = document if isinstance(document, (bytes, str)) else json.dumps(document)
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return client.post(URL + suffix, data=body, content_type="application/json")


def post_file(client, content: bytes, **fields):
    upload = SimpleUploadedFile("가계부_백업_2025-08-02.json", content, "application/json")
    return client.post(URL, {"file": upload, **fields}, format="multipart")


# --- an SPA backup (our own fixture, every quirk of the SPA's files) ------------------------


def test_spa_fixture_imports_every_row_on_its_seoul_date(auth_client, user):
    # given
    rows = spa_fixture()["transactions"]
    # when
    response = post_json(auth_client(user), spa_fixture_bytes())
    # then
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["ok"] is True
    assert report["format"] == "spa-v1"
    assert report["rows"]["transactions"] == 306
    assert report["created"]["transactions"] == 306
    assert report["created"]["categories"] == 7  # 쇼핑 and the older SPA's six old names
    assert report["failed"] == 0
    # The SPA file has no rules: its 12 rows with a recurring_id come without the link.
    assert report["warnings"] == 12
    assert {p["field"] for p in report["problems"]} == {"recurring_id"}
    imported = {t.legacy_id: t for t in Transaction.objects.filter(ledger__personal_for=user)}
    assert len(imported) == 306
    for row in rows:
        transaction = imported[str(row["id"])]
        assert transaction.date == local_date(row["date"], SEOUL)
        assert transaction.amount == Decimal(str(row["amount"]))
        assert transaction.type == row["type"]
        assert transaction.description == row["description"]
        assert transaction.status == row.get("status", "confirmed")
        assert transaction.recurring is None
        assert transaction.category.name == PLAIN_NAMES.get(row["category"], row["category"])


def test_spa_fixture_known_rows_land_on_the_korean_date(auth_client, user):
    post_json(auth_client(user), spa_fixture_bytes())
    mine = Transaction.objects.filter(ledger__personal_for=user)

    coffee = mine.get(legacy_id=COFFEE)
    assert coffee.date == datetime.date(2025, 7, 25)  # 2025-07-24T15:00:00.000Z in Seoul
    assert coffee.amount == Decimal("9000")
    assert coffee.type == "expense"
    assert coffee.description == "카페 CHIPS 아아 2잔"
    assert coffee.category.is_default and coffee.category.name == "카페"

    # 2025-06-30T15:00Z and 23:30Z are already July in Korea: the month moves with the zone.
    dinner = mine.get(legacy_id="0d9e8f7a-6b5c-4d3e-8f21-0a9b8c7d6e5f")
    assert dinner.date == datetime.date(2025, 7, 1)
    assert dinner.category.is_default and dinner.category.name == "식비"
    sale = mine.get(legacy_id="5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9")
    assert (sale.date, sale.type, sale.amount) == (datetime.date(2025, 7, 1), "income", 40000)
    assert sale.category.is_default and sale.category.name == "기타"
    # 14:59:59.999Z is still the same day in Seoul (23:59:59), and 03:12Z is noon.
    taxi = mine.get(legacy_id="3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d")
    assert taxi.date == datetime.date(2025, 5, 31)
    lunch = mine.get(legacy_id="9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a")
    assert (lunch.date, lunch.description) == (datetime.date(2025, 7, 31), "아이밀")

    gift = mine.get(legacy_id="b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e")
    assert gift.date == datetime.date(2025, 8, 15) and gift.amount == Decimal("249000")
    assert gift.category.name == "쇼핑"
    assert gift.category.ledger.personal_for == user and not gift.category.is_default

    # The older SPA's rows: integer ids, emoji in front, old names, a float amount.
    medicine = mine.get(legacy_id="100")
    assert (medicine.date, medicine.amount) == (datetime.date(2025, 5, 1), Decimal("4500"))
    assert medicine.category.is_default and medicine.category.name == "의료비"
    interest = mine.get(legacy_id="53")
    assert (interest.date, interest.type) == (datetime.date(2025, 4, 1), "income")
    assert (interest.category.name, interest.category.emoji) == ("금융", "💰")
    assert interest.category.ledger.personal_for == user

    # September's rent is still scheduled in the file; without its rule it has no link.
    rent = mine.get(description="원룸 월세", date=datetime.date(2025, 9, 25))
    assert (rent.status, rent.recurring, rent.amount) == ("scheduled", None, Decimal("550000"))


def test_spa_fixture_july_totals_equal_the_files_rows_by_local_date(auth_client, user):
    post_json(auth_client(user), spa_fixture_bytes())

    expected = file_totals_by_local_month(spa_fixture()["transactions"])
    assert (expected[(2025, 7, "income")], expected[(2025, 7, "expense")]) == (
        Decimal(3160000),
        Decimal(1472490),
    )
    for kind in ("income", "expense"):
        total = Transaction.objects.filter(
            ledger__personal_for=user, type=kind, date__year=2025, date__month=7
        ).aggregate(total=Sum("amount"))["total"]
        assert total == expected[(2025, 7, kind)]
    assert sorted(expected) == sorted(
        {
            (t.date.year, t.date.month, t.type)
            for t in Transaction.objects.filter(ledger__personal_for=user)
        }
    )


def test_spa_fixture_categories_use_defaults_and_its_own_categories(auth_client, user):
    post_json(auth_client(user), spa_fixture_bytes())

    names = {
        PLAIN_NAMES.get(row["category"], row["category"]) for row in spa_fixture()["transactions"]
    }
    used = Category.objects.filter(transactions__ledger__personal_for=user).distinct()
    assert {c.name for c in used} == names
    assert {c.name for c in used if not c.is_default} == {name for name, _ in OWN_CATEGORIES}
    assert (
        set(Category.objects.filter(ledger__personal_for=user).values_list("name", "emoji"))
        == OWN_CATEGORIES
    )


def test_importing_the_same_file_again_creates_nothing(auth_client, user):
    client = auth_client(user)
    post_json(client, spa_fixture_bytes())
    before = snapshot(user)

    response = post_json(client, spa_fixture_bytes())

    assert response.status_code == 200
    report = response.json()
    assert report["created"] == {
        "categories": 0,
        "recurring_transactions": 0,
        "transactions": 0,
        "occurrences": 0,
        "past_dates_closed": 0,
    }
    assert report["skipped"]["transactions"] == 306
    assert snapshot(user) == before


def test_a_newer_backup_containing_the_older_adds_only_the_new_rows(auth_client, user):
    client = auth_client(user)
    document = spa_fixture()
    older = {**document, "transactions": document["transactions"][:50]}
    post_json(client, older)

    response = post_json(client, document)

    assert response.json()["created"]["transactions"] == 256
    assert response.json()["skipped"]["transactions"] == 50
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 306


def test_multipart_upload_with_mode_and_dry_run_fields(auth_client, user):
    response = post_file(auth_client(user), spa_fixture_bytes(), dry_run="true")

    assert response.status_code == 200, response.json()
    assert response.json()["dry_run"] is True
    assert response.json()["created"]["transactions"] == 306
    assert not Transaction.objects.filter(ledger__personal_for=user).exists()

    response = post_file(auth_client(user), spa_fixture_bytes(), mode="merge")
    assert response.json()["created"]["transactions"] == 306
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 306


def test_dry_run_reports_counts_and_writes_nothing(auth_client, user):
    # An imported row (from before import_hash) that nothing wrote since: the file's wins.
    TransactionFactory(user=user, legacy_id=COFFEE, amount=Decimal("5400"))
    before = snapshot(user)

    response = post_json(auth_client(user), spa_fixture_bytes(), dry_run="true")

    report = response.json()
    assert response.status_code == 200
    assert report["dry_run"] is True
    assert report["created"]["transactions"] == 305
    assert report["updated"]["transactions"] == 1
    assert report["skipped"]["transactions"] == 0
    assert [
        (c["action"], c["id"], c["server"]["amount"], c["file"]["amount"])
        for c in report["changes"]
    ] == [("updated", COFFEE, 5400, 9000)]
    assert report["created"]["categories"] == 7
    assert snapshot(user) == before
    assert not Category.objects.filter(ledger__personal_for=user).exists()


def test_replace_mode_deletes_the_users_transactions_but_keeps_rules_and_others(
    auth_client, user, other_user
):
    mine = TransactionFactory(user=user, description="old")
    rule = RecurringTransactionFactory(user=user)
    theirs = TransactionFactory(user=other_user)

    response = post_json(auth_client(user), spa_fixture_bytes(), mode="replace")

    assert response.status_code == 200
    assert response.json()["deleted"]["transactions"] == 1
    assert not Transaction.objects.filter(pk=mine.pk).exists()
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 306
    assert RecurringTransaction.objects.filter(pk=rule.pk).exists()  # SPA file has no rules
    assert Transaction.objects.filter(pk=theirs.pk).exists()


def test_dates_follow_the_importing_users_time_zone(auth_client, user):
    user.time_zone = "UTC"
    user.save()

    post_json(auth_client(user), spa_fixture_bytes())

    mine = Transaction.objects.filter(ledger__personal_for=user)
    assert mine.get(legacy_id=COFFEE).date == datetime.date(2025, 7, 24)
    sale = mine.get(legacy_id="5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9")  # 2025-06-30T23:30Z
    assert sale.date == datetime.date(2025, 6, 30)
    lunch = mine.get(legacy_id="9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a")  # 2025-07-31T03:12Z
    assert lunch.date == datetime.date(2025, 7, 31)


# --- the real user's SPA backup (../shared/fixtures: skipped where absent, required in CI) --


def test_real_spa_backup_imports_every_row_on_its_seoul_date(auth_client, user):
    # given
    raw = real_spa_fixture_path().read_bytes()
    rows = json.loads(raw)["transactions"]
    # when
    response = post_json(auth_client(user), raw)
    # then
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["ok"] is True
    assert report["format"] == "spa-v1"
    assert report["rows"]["transactions"] == 81
    assert report["created"]["transactions"] == 81
    assert report["created"]["categories"] == 1  # 쇼핑 is not a default
    assert report["failed"] == 0
    imported = {t.legacy_id: t for t in Transaction.objects.filter(ledger__personal_for=user)}
    assert len(imported) == 81
    for row in rows:
        transaction = imported[row["id"]]
        assert transaction.date == local_date(row["date"], SEOUL)
        assert transaction.amount == Decimal(row["amount"])
        assert transaction.type == row["type"]
        assert transaction.description == row["description"]
        assert transaction.status == "confirmed"
        assert transaction.category.name == row["category"]


def test_real_spa_backup_known_rows_land_on_the_korean_date(auth_client, user):
    post_json(auth_client(user), real_spa_fixture_path().read_bytes())

    coffee = Transaction.objects.get(
        ledger__personal_for=user, legacy_id="00aae348-e9d2-4f6a-bf5d-66ede9564a65"
    )
    assert coffee.date == datetime.date(2025, 7, 25)  # 2025-07-24T15:00:00.000Z in Seoul
    assert coffee.amount == Decimal("5400")
    assert coffee.type == "expense"
    assert coffee.description == "브루인 커피 3명"
    assert coffee.category.name == "쇼핑"
    assert coffee.category.ledger.personal_for == user and not coffee.category.is_default

    salary = Transaction.objects.get(
        ledger__personal_for=user, legacy_id="0227b3a9-88e3-4023-a288-ea193622e935"
    )
    assert salary.date == datetime.date(2025, 7, 30)
    assert salary.amount == Decimal("2031940")
    assert salary.type == "income"
    assert salary.category.is_default and salary.category.name == "월급"

    # 2025-06-30T15:00Z is already July in Korea: the month boundary moves with the zone.
    dinner = Transaction.objects.get(
        ledger__personal_for=user, legacy_id="04b5acb5-c9d4-4efc-880c-5b4105f55e0b"
    )
    assert dinner.date == datetime.date(2025, 7, 1)
    assert dinner.category.is_default and dinner.category.name == "식비"


def test_real_spa_backup_july_totals_equal_the_files_rows_by_local_date(auth_client, user):
    post_json(auth_client(user), real_spa_fixture_path().read_bytes())

    expected = file_totals_by_local_month(real_spa_fixture()["transactions"])
    for kind in ("income", "expense"):
        total = Transaction.objects.filter(
            ledger__personal_for=user, type=kind, date__year=2025, date__month=7
        ).aggregate(total=Sum("amount"))["total"]
        assert total == expected[(2025, 7, kind)]
    assert sorted(expected) == sorted(
        {
            (t.date.year, t.date.month, t.type)
            for t in Transaction.objects.filter(ledger__personal_for=user)
        }
    )


def test_real_spa_backup_categories_use_defaults_and_one_own_category(auth_client, user):
    post_json(auth_client(user), real_spa_fixture_path().read_bytes())

    names = {row["category"] for row in real_spa_fixture()["transactions"]}
    used = Category.objects.filter(transactions__ledger__personal_for=user).distinct()
    assert {c.name for c in used} == names
    assert {c.name for c in used if not c.is_default} == {"쇼핑"}
    assert list(
        Category.objects.filter(ledger__personal_for=user).values_list("name", flat=True)
    ) == ["쇼핑"]


# --- older and looser SPA files ------------------------------------------------------------


def test_older_spa_rows_with_floats_strings_plain_dates_and_integer_ids(auth_client, user):
    document = {
        "version": 1,
        "exportDate": "2024-03-01T00:00:00.000Z",
        "transactions": [
            {
                "id": 1,
                "description": "점심",
                "amount": 5400.0,
                "type": "expense",
                "date": "2024-02-29T15:00:00.000Z",
                "category": "🍽️ 식비",
            },
            {
                "id": 2,
                "description": "월급",
                "amount": "2,500,000",
                "type": "income",
                "date": "2024-02-25",
                "category": "월급",
            },
            {
                "id": "3",
                "description": "버스",
                "amount": "1,450.50",
                "type": "expense",
                "date": "2024-02-10T09:30:00+09:00",
                "category": "🚌 교통비",
            },
            {
                "id": 4.0,
                "description": "세제",
                "amount": 12000,
                "type": "expense",
                "date": "2024-02-11T23:30:00.000Z",
                "category": "👕 생활용품",
            },
            {
                "id": 5,
                "description": "앨범",
                "amount": 0.1 + 0.2,
                "type": "expense",
                "date": "2024-02-12",
                "category": "음악",
            },
        ],
    }

    response = post_json(auth_client(user), document)

    assert response.status_code == 200, response.json()
    rows = {t.legacy_id: t for t in Transaction.objects.filter(ledger__personal_for=user)}
    assert rows["1"].date == datetime.date(2024, 3, 1) and rows["1"].amount == Decimal("5400")
    assert rows["1"].category.is_default and rows["1"].category.name == "식비"
    assert rows["2"].amount == Decimal("2500000") and rows["2"].date == datetime.date(2024, 2, 25)
    assert rows["3"].amount == Decimal("1450.50") and rows["3"].date == datetime.date(2024, 2, 10)
    assert rows["3"].category.is_default and rows["3"].category.name == "교통비"
    assert rows["4"].date == datetime.date(2024, 2, 12)
    assert (rows["4"].category.name, rows["4"].category.emoji) == ("생활용품", "👕")
    assert rows["5"].amount == Decimal("0.30")
    assert (rows["5"].category.name, rows["5"].category.emoji) == ("음악", "🎵")
    assert all(t.status == "confirmed" and t.recurring is None for t in rows.values())


def test_category_names_match_ignoring_emoji_and_spaces(auth_client, user):
    own = CategoryFactory(user=user, name="쇼핑", emoji="🛍️")
    base = {"type": "expense", "amount": 1000, "date": "2025-07-01", "description": "x"}
    names = ["🍽️ 식비", " 식비 ", "식비", "☕카페", "🛍️ 쇼핑", "쇼핑", "새 카테고리", "새 카테고리"]
    document = {
        "version": 1,
        "transactions": [{**base, "id": str(i), "category": name} for i, name in enumerate(names)]
        + [{**base, "id": "empty", "category": ""}, {**base, "id": "emoji-only", "category": "🎁"}],
    }

    response = post_json(auth_client(user), document)

    assert response.status_code == 200, response.json()
    by_id = {t.legacy_id: t.category for t in Transaction.objects.filter(ledger__personal_for=user)}
    default_food = Category.objects.get(ledger=None, name="식비")
    assert by_id["0"] == by_id["1"] == by_id["2"] == default_food
    assert by_id["3"] == Category.objects.get(ledger=None, name="카페")
    assert by_id["4"] == by_id["5"] == own
    assert by_id["6"] == by_id["7"] and by_id["6"].ledger.personal_for == user
    assert by_id["empty"] is None and by_id["emoji-only"] is None
    assert response.json()["created"]["categories"] == 1
    warned = {(p["id"], p["field"]) for p in response.json()["problems"]}
    assert {("empty", "category"), ("emoji-only", "category")} <= warned


def test_rows_without_ids_are_not_duplicated_on_reimport(auth_client, user):
    row = {
        "description": "커피",
        "amount": 4500,
        "type": "expense",
        "date": "2025-07-01",
        "category": "카페",
    }
    document = {"version": 1, "transactions": [row, dict(row), {**row, "amount": 4600}]}
    client = auth_client(user)

    first = post_json(client, document).json()
    second = post_json(client, document).json()

    assert first["created"]["transactions"] == 3  # two identical coffees are two coffees
    assert second["created"]["transactions"] == 0
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 3


# --- Dexie dumps: categories, rules and linked transactions ---------------------------------


def _dexie_ledger(*, transactions_inbound=True):
    categories = [
        {"id": 1, "name": "식비", "emoji": "🍽️"},
        {"id": 2, "name": "월세", "emoji": "🏠"},
        {"id": 3, "name": "헬스", "emoji": "💪"},
        {"id": 4, "name": "월급", "emoji": "💰"},
    ]
    rules = [
        {
            "id": 1,
            "template_name": "월세",
            "description": "원룸 월세",
            "amount": 550000,
            "type": "expense",
            "category": "🏠 월세",
            "frequency": "monthly",
            "start_date": "2025-01",
            "end_date": "2025-12",
            "day_of_month": "25",
            "is_active": 1,
            "is_variable_amount": 0,
        },
        {
            "id": 2,
            "template_name": "전기요금",
            "description": "",
            "amount": None,
            "type": "expense",
            "category": "공과금",
            "frequency": "monthly",
            "start_date": "2025-06",
            "end_date": None,
            "day_of_month": 31,
            "is_active": True,
            "is_variable_amount": True,
        },
        {
            "id": 3,
            "template_name": "헬스장 연회비",
            "description": "",
            "amount": "300,000",
            "type": "expense",
            "category": "헬스",
            "frequency": "yearly",
            "start_date": "2024-03",
            "end_date": "",
            "day_of_month": 1,
            "is_active": False,
            "is_variable_amount": False,
        },
    ]
    transactions = [
        {
            "id": 10,
            "description": "원룸 월세",
            "amount": 550000,
            "type": "expense",
            "date": js_time(datetime.date(2025, 6, 25)),
            "category": "월세",
            "status": "confirmed",
            "recurring_id": 1,
            "$types": {"date": "date"},
        },
        {
            "id": 11,
            "description": "원룸 월세",
            "amount": 550000,
            "type": "expense",
            "date": "2025-07-24T15:00:00.000Z",
            "category": "월세",
            "status": "confirmed",
            "recurring_id": "1",
        },
        {
            "id": 12,
            "description": "전기요금",
            "amount": None,
            "type": "expense",
            "date": "2025-08-30T15:00:00.000Z",
            "category": "공과금",
            "status": "scheduled",
            "recurring_id": 2,
        },
        {
            "id": 13,
            "description": "월급",
            "amount": 3000000,
            "type": "income",
            "date": "2025-07-09T15:00:00.000Z",
            "category": 4,
            "status": "confirmed",
            "recurring_id": None,
        },
    ]
    if not transactions_inbound:
        transactions = [
            {
                "$": [row["id"], {k: v for k, v in row.items() if k not in ("id", "$types")}],
                "$types": {"$": {"1.date": "date"}},
            }
            if "$types" in row
            else [row["id"], {k: v for k, v in row.items() if k != "id"}]
            for row in transactions
        ]
    return dexie_document(
        {"categories": categories, "recurring_transactions": rules, "transactions": transactions},
        inbound={"transactions": transactions_inbound},
    )


@pytest.mark.parametrize("inbound", [True, False], ids=["rows-as-objects", "key-value-pairs"])
@time_machine.travel(datetime.datetime(2025, 8, 2, 9, 0, tzinfo=datetime.UTC))
def test_dexie_dump_imports_rules_and_links_their_transactions(auth_client, user, inbound):
    response = post_json(auth_client(user), _dexie_ledger(transactions_inbound=inbound))

    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["format"] == "dexie"
    assert report["created"]["recurring_transactions"] == 3
    assert report["created"]["transactions"] == 4
    assert report["created"]["categories"] == 1  # 헬스; the other three are defaults
    assert report["created"]["occurrences"] == 3

    rent = RecurringTransaction.objects.get(ledger__personal_for=user, legacy_id="1")
    assert rent.amount == Decimal("550000") and rent.day_of_month == 25
    assert rent.start_date == datetime.date(2025, 1, 1)
    assert rent.end_date == datetime.date(2025, 12, 31)  # `YYYY-MM` end: the whole month
    assert rent.category.is_default and rent.category.name == "월세"
    assert rent.is_active and not rent.is_variable_amount

    power = RecurringTransaction.objects.get(ledger__personal_for=user, legacy_id="2")
    assert power.amount is None and power.is_variable_amount and power.end_date is None
    assert power.day_of_month == 31

    gym = RecurringTransaction.objects.get(ledger__personal_for=user, legacy_id="3")
    assert gym.frequency == "yearly" and gym.amount == Decimal("300000")
    assert gym.is_active is False and gym.end_date is None
    assert (gym.category.name, gym.category.emoji, gym.category.ledger.personal_for) == (
        "헬스",
        "💪",
        user,
    )

    rows = {t.legacy_id: t for t in Transaction.objects.filter(ledger__personal_for=user)}
    assert rows["10"].date == datetime.date(2025, 6, 25) and rows["10"].recurring == rent
    assert rows["11"].date == datetime.date(2025, 7, 25) and rows["11"].recurring == rent
    assert rows["12"].recurring == power and rows["12"].amount is None
    assert rows["12"].status == "scheduled" and rows["12"].date == datetime.date(2025, 8, 31)
    assert rows["13"].recurring is None and rows["13"].category.name == "월급"
    # The linked rows' dates, and (imported on 2 August 2025) the rules' past dates with no
    # row in the file: January–May for rent, June–July for power; the inactive gym has none.
    assert report["created"]["past_dates_closed"] == 7
    assert set(RecurringOccurrence.objects.values_list("recurring__legacy_id", "date")) == {
        ("1", datetime.date(2025, 6, 25)),
        ("1", datetime.date(2025, 7, 25)),
        ("2", datetime.date(2025, 8, 31)),
        *(("1", datetime.date(2025, month, 25)) for month in range(1, 6)),
        ("2", datetime.date(2025, 6, 30)),
        ("2", datetime.date(2025, 7, 31)),
    }


def _browser_rent_with_gaps() -> dict:
    """A rule the SPA materialized itself since January; the user deleted March and May."""
    rows = [
        {
            "id": 100 + month,
            "description": "월세",
            "amount": 500000,
            "type": "expense",
            "date": js_time(datetime.date(2025, month, 25)),
            "category": "월세",
            "status": "confirmed",
            "recurring_id": 1,
            "$types": {"date": "date"},
        }
        for month in (1, 2, 4)
    ]
    rule = {
        "id": 1,
        "template_name": "월세",
        "description": "월세",
        "amount": 500000,
        "type": "expense",
        "category": "월세",
        "frequency": "monthly",
        "start_date": "2025-01",
        "end_date": None,
        "day_of_month": 25,
        "is_active": 1,
        "is_variable_amount": 0,
    }
    return dexie_document({"recurring_transactions": [rule], "transactions": rows})


@time_machine.travel(datetime.datetime(2025, 6, 10, 3, 0, tzinfo=datetime.UTC))
def test_the_engine_does_not_back_fill_an_imported_rules_past(auth_client, user):
    # given: a browser rule with rows for January, February and April only (imported 10 June)
    client = auth_client(user)
    dry = post_json(client, _browser_rent_with_gaps(), dry_run="true").json()
    assert dry["created"]["past_dates_closed"] == 2
    assert not RecurringOccurrence.objects.exists()
    report = post_json(client, _browser_rent_with_gaps()).json()
    assert (report["created"]["occurrences"], report["created"]["past_dates_closed"]) == (3, 2)
    rule = RecurringTransaction.objects.get(ledger__personal_for=user)

    # when: the nightly engine runs, and the user asks for the rule's months through July
    recurring_materialize_all()
    generated = client.post(f"/recurring/{rule.pk}/generate?through=2025-07").json()

    # then: March and May stay deleted; only the future (June, July) is materialized
    assert sorted(rule.transactions.values_list("date", "status")) == [
        (datetime.date(2025, 1, 25), "confirmed"),
        (datetime.date(2025, 2, 25), "confirmed"),
        (datetime.date(2025, 4, 25), "confirmed"),
        (datetime.date(2025, 6, 25), "scheduled"),
        (datetime.date(2025, 7, 25), "scheduled"),
    ]
    assert generated == []  # the nightly run had already reached July (horizon)
    assert client.get("/stats/monthly/2025/5").json()["expense"] == 0


def test_dexie_dump_reimport_adds_nothing(auth_client, user):
    client = auth_client(user)
    post_json(client, _dexie_ledger())
    before = snapshot(user)

    report = post_json(client, _dexie_ledger()).json()

    assert report["created"]["transactions"] == 0
    assert report["created"]["recurring_transactions"] == 0
    assert report["created"]["categories"] == 0
    assert report["skipped"]["recurring_transactions"] == 3
    assert snapshot(user) == before


def test_spa_backup_links_to_rules_imported_earlier(auth_client, user):
    client = auth_client(user)
    post_json(client, _dexie_ledger())
    document = {
        "version": 1,
        "transactions": [
            {
                "id": 99,
                "description": "원룸 월세",
                "amount": 550000,
                "type": "expense",
                "date": "2025-08-24T15:00:00.000Z",
                "category": "월세",
                "status": "scheduled",
                "recurring_id": 1,
            },
        ],
    }

    post_json(client, document)

    august = Transaction.objects.get(ledger__personal_for=user, legacy_id="99")
    assert august.recurring.legacy_id == "1" and august.status == "scheduled"
    assert RecurringOccurrence.objects.filter(recurring=august.recurring, date=august.date).exists()


def test_two_rows_for_one_rule_and_date_keep_the_second_unlinked(auth_client, user):
    document = _dexie_ledger()
    transactions = document["data"]["data"][2]["rows"]
    transactions.append({**transactions[1], "id": 14, "description": "월세 (중복)"})

    response = post_json(auth_client(user), document)

    assert response.status_code == 200
    second = Transaction.objects.get(ledger__personal_for=user, legacy_id="14")
    assert second.recurring is None and second.date == datetime.date(2025, 7, 25)
    assert (
        Transaction.objects.get(ledger__personal_for=user, legacy_id="11").recurring.legacy_id
        == "1"
    )
    warning = next(p for p in response.json()["problems"] if p["id"] == "14")
    assert warning["level"] == "warning" and warning["field"] == "recurring_id"


def test_an_occurrence_already_on_the_server_is_not_duplicated(auth_client, user):
    client = auth_client(user)
    document = _dexie_ledger()
    post_json(client, document)
    rent = RecurringTransaction.objects.get(ledger__personal_for=user, legacy_id="1")
    # The recurring engine materialized August on the server; the browser did too (id 20).
    TransactionFactory(
        user=user,
        recurring=rent,
        date=datetime.date(2025, 8, 25),
        amount=Decimal("550000"),
        status="scheduled",
    )
    document["data"]["data"][2]["rows"].append(
        {
            "id": 20,
            "description": "원룸 월세",
            "amount": 550000,
            "type": "expense",
            "date": "2025-08-24T15:00:00.000Z",
            "category": "월세",
            "status": "scheduled",
            "recurring_id": 1,
        }
    )

    response = post_json(client, document)

    assert response.status_code == 200
    assert response.json()["created"]["transactions"] == 0
    assert Transaction.objects.filter(recurring=rent, date=datetime.date(2025, 8, 25)).count() == 1


def test_replace_with_a_dexie_dump_replaces_rules_and_categories_too(auth_client, user):
    old_rule = RecurringTransactionFactory(user=user)
    old_category = CategoryFactory(user=user, name="없어질 카테고리")
    TransactionFactory(user=user, recurring=old_rule)

    response = post_json(auth_client(user), _dexie_ledger(), mode="replace")

    assert response.status_code == 200
    assert response.json()["deleted"] == {
        "categories": 1,
        "recurring_transactions": 1,
        "transactions": 1,
    }
    assert not RecurringTransaction.objects.filter(pk=old_rule.pk).exists()
    assert not Category.objects.filter(pk=old_category.pk).exists()
    assert RecurringTransaction.objects.filter(ledger__personal_for=user).count() == 3
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 4


def test_rule_without_amount_becomes_variable_and_day_strings_are_numbers(auth_client, user):
    document = dexie_document(
        {
            "recurring_transactions": [
                {
                    "id": "a1",
                    "template_name": "가스비",
                    "amount": None,
                    "type": "expense",
                    "frequency": "monthly",
                    "start_date": "2025-02",
                    "day_of_month": "5",
                    "is_variable_amount": False,
                },
            ]
        }
    )

    response = post_json(auth_client(user), document)

    assert response.status_code == 200
    rule = RecurringTransaction.objects.get(ledger__personal_for=user)
    assert rule.is_variable_amount and rule.amount is None and rule.day_of_month == 5
    assert rule.is_active is True and rule.category is None
    assert any(p["field"] == "amount" for p in response.json()["problems"])


# --- permissions ----------------------------------------------------------------------------


def test_import_needs_authentication(api_client):
    response = api_client.post(URL, data=spa_fixture_bytes(), content_type="application/json")
    assert response.status_code in (401, 403)
    assert "error" in response.json()
    assert not Transaction.objects.exists()


def test_import_writes_only_to_the_requesting_user(auth_client, user, other_user):
    post_json(auth_client(user), spa_fixture_bytes())

    assert not Transaction.objects.filter(ledger__personal_for=other_user).exists()
    assert not Category.objects.filter(ledger__personal_for=other_user).exists()
    # The other user importing the same ids gets their own rows: ids are per user.
    response = post_json(auth_client(other_user), spa_fixture_bytes())
    assert response.json()["created"]["transactions"] == 306


def test_time_zone_of_the_report_is_the_users(auth_client, user):
    user.time_zone = "America/New_York"
    user.save()
    response = post_json(auth_client(user), spa_fixture_bytes(), dry_run="true")
    assert response.json()["time_zone"] == "America/New_York"
    coffee_instant = "2025-07-24T15:00:00.000Z"
    assert local_date(coffee_instant, ZoneInfo("America/New_York")) == datetime.date(2025, 7, 24)


def test_dry_run_in_replace_mode_deletes_nothing(auth_client, user):
    TransactionFactory(user=user, description="남아야 할 거래")
    before = snapshot(user)

    response = post_json(auth_client(user), spa_fixture_bytes(), mode="replace", dry_run="true")

    assert response.json()["deleted"]["transactions"] == 1
    assert response.json()["created"]["transactions"] == 306
    assert snapshot(user) == before


# --- the imported rows are ready to read at once ------------------------------------------


def _count_scan(user) -> dict:
    """The index-only scan under `SELECT count(*)` of the user's ledger's rows, as it ran."""
    with db_transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM ledger_transaction "
            "WHERE ledger_id = %s",
            [personal_ledger(user=user).pk],
        )
        plan = cursor.fetchone()[0][0]["Plan"]
    while plan["Node Type"] != "Index Only Scan":
        (plan,) = plan["Plans"]
    return plan


@pytest.mark.django_db(transaction=True)
def test_an_import_leaves_its_rows_visible_to_index_only_scans(auth_client):
    # given: a new user (their rows will be the newest pages of the table)
    user = UserFactory()
    # when
    response = post_json(auth_client(user), spa_fixture_bytes())
    # then: the visibility map covers the new rows (the import vacuumed after committing), so
    # the list's count and the stats read the index alone, without visiting each row's page
    assert response.status_code == 200, response.json()
    scan = _count_scan(user)
    assert scan["Actual Rows"] == 306
    assert scan["Heap Fetches"] == 0
