"""Budgets in this API's own export and import, through HTTP: exported as `GET /budgets`
renders them, imported through the budgets service, all or nothing, never twice."""

import datetime
import json
from decimal import Decimal

import pytest

from ledger.models import Budget, BudgetLine, Category, Transaction
from ledger.tests.backup_support import spa_fixture_bytes
from ledger.tests.factories import CategoryFactory, TransactionFactory

pytestmark = pytest.mark.django_db


def export(client) -> dict:
    response = client.get("/backup/export")
    assert response.status_code == 200
    return json.loads(b"".join(response.streaming_content))


def import_(client, document, *, status=200, **query) -> dict:
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    body = document if isinstance(document, bytes) else json.dumps(document)
    response = client.post("/backup/import" + suffix, data=body, content_type="application/json")
    assert response.status_code == status, response.json()
    return response.json()


def put(client, month, total, lines):
    body = {
        "total": total,
        "categories": [
            {"category": str(c.pk), "amount": amount, "carry_over": carry}
            for c, amount, carry in lines
        ],
    }
    assert client.put(f"/budgets/{month}", body, format="json").status_code == 200


def budget(client, month) -> dict:
    return client.get(f"/budgets/{month}").json()


def named(body) -> dict:
    """A budget answer without ids (they differ between users)."""
    return {
        **body,
        "categories": [
            {k: v for k, v in row.items() if k != "category"} for row in body["categories"]
        ],
    }


def budgets_of(user) -> list:
    return sorted(
        BudgetLine.objects.filter(budget__ledger__personal_for=user).values_list(
            "budget__month", "budget__total", "category__name", "amount", "carry_over"
        )
    )


@pytest.fixture
def ledger(auth_client, user):
    """Two changes (March, then May), one of them with the user's own category."""
    client = auth_client(user)
    food = Category.objects.get(ledger=None, name="식비")
    pets = CategoryFactory(user=user, name="반려동물", emoji="🐶")
    put(client, "2025-03", 2500000, [(food, 600000, True), (pets, 80000, False)])
    put(client, "2025-05", None, [(food, 700000, True)])
    TransactionFactory(
        user=user, date=datetime.date(2025, 3, 5), amount=Decimal(20000), category=pets
    )
    TransactionFactory(
        user=user, date=datetime.date(2025, 4, 5), amount=Decimal(650000), category=food
    )
    return client


def test_the_export_carries_every_change_as_the_api_renders_it(ledger):
    document = export(ledger)

    assert document["budgets"] == [budget(ledger, "2025-03"), budget(ledger, "2025-05")]
    assert [row["month"] for row in document["budgets"]] == ["2025-03", "2025-05"]
    assert all(row["month"] == row["since"] for row in document["budgets"])


def test_the_export_of_a_user_without_budgets_has_an_empty_table(auth_client, user):
    assert export(auth_client(user))["budgets"] == []


def test_a_round_trip_into_another_user_gives_the_same_budgets_and_figures(
    ledger, user, other_user, auth_client
):
    theirs = auth_client(other_user)

    report = import_(theirs, export(ledger))

    assert report["rows"]["budgets"] == report["created"]["budgets"] == 2
    assert report["created"]["categories"] == 1  # 반려동물, found by name
    for month in ("2025-02", "2025-03", "2025-04", "2025-05", "2026-01"):
        assert named(budget(theirs, month)) == named(budget(ledger, month))
    pets = Category.objects.get(ledger__personal_for=other_user, name="반려동물")
    assert str(pets.pk) in json.dumps(budget(theirs, "2025-03"))
    mine = ledger.get("/stats/budget/2025/6").json()
    copied = theirs.get("/stats/budget/2025/6").json()
    assert [named_row(r) for r in copied["categories"]] == [
        named_row(r) for r in mine["categories"]
    ]
    assert copied["total"] == mine["total"]


def named_row(row):
    return {k: v for k, v in row.items() if k != "category"}


def test_importing_the_same_export_again_creates_no_budget(ledger, user, other_user, auth_client):
    document = export(ledger)
    theirs = auth_client(other_user)
    import_(theirs, document)

    for who, client in ((other_user, theirs), (user, ledger)):
        before = budgets_of(who)
        report = import_(client, document)
        assert (report["created"]["budgets"], report["skipped"]["budgets"]) == (0, 2)
        assert budgets_of(who) == before


def test_merge_keeps_a_month_the_user_changed_and_adds_the_others(
    ledger, user, other_user, auth_client
):
    theirs = auth_client(other_user)
    cafe = Category.objects.get(ledger=None, name="카페")
    put(theirs, "2025-05", 1000, [(cafe, 1000, False)])

    report = import_(theirs, export(ledger))

    assert (report["created"]["budgets"], report["skipped"]["budgets"]) == (1, 1)
    assert budget(theirs, "2025-05")["total"] == 1000
    assert budget(theirs, "2025-04")["total"] == 2500000


def test_replace_puts_the_files_budgets_in_place_of_the_users(
    ledger, user, other_user, auth_client
):
    theirs = auth_client(other_user)
    cafe = Category.objects.get(ledger=None, name="카페")
    put(theirs, "2024-01", 1000, [(cafe, 1000, False)])
    put(theirs, "2025-05", 1000, [(cafe, 1000, False)])

    report = import_(theirs, export(ledger), mode="replace")

    assert report["deleted"]["budgets"] == 2
    assert report["created"]["budgets"] == 2
    assert [
        m.isoformat()
        for m in Budget.objects.filter(ledger__personal_for=other_user).values_list(
            "month", flat=True
        )
    ] == [
        "2025-03-01",
        "2025-05-01",
    ]
    assert budget(theirs, "2024-06")["since"] is None


def test_a_file_without_budgets_leaves_them_alone_even_in_replace_mode(ledger, user):
    before = budgets_of(user)

    for mode in ("merge", "replace"):
        report = import_(ledger, spa_fixture_bytes(), mode=mode)
        assert "budgets" not in report["rows"] and "budgets" not in report["created"]

    assert budgets_of(user) == before


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"since": "2025-13", "total": None, "categories": []}, "budgets[0].since"),
        ({"total": None, "categories": []}, "budgets[0].since"),
        ({"since": "2025-03", "total": -5, "categories": []}, "budgets[0].total"),
        ({"since": "2025-03", "total": None, "categories": "식비"}, "budgets[0].categories"),
        (
            {
                "since": "2025-03",
                "total": None,
                "categories": [{"category_name": "식비", "amount": 0}],
            },
            "budgets[0].categories[0].amount",
        ),
        (
            {"since": "2025-03", "total": None, "categories": [{"amount": 1000}]},
            "budgets[0].categories[0].category_name",
        ),
        (
            {
                "since": "2025-03",
                "total": None,
                "categories": [{"category_name": "월급", "amount": 1}],
            },
            "budgets[0].categories[0].category",
        ),
        (
            {
                "since": "2025-03",
                "total": None,
                "categories": [
                    {"category_name": "식비", "amount": 1},
                    {"category_name": "🍽️ 식비", "amount": 2},
                ],
            },
            "budgets[0].categories[1].category",
        ),
        ("2025-03", "budgets[0].month"),
    ],
)
def test_an_invalid_budget_refuses_the_whole_file(
    ledger, user, other_user, auth_client, row, field
):
    theirs = auth_client(other_user)
    document = export(ledger)
    document["budgets"] = [row]

    body = import_(theirs, document, status=400)

    assert field in body["error"]["fields"], body["error"]["fields"]
    assert not Budget.objects.filter(ledger__personal_for=other_user).exists()
    assert not Transaction.objects.filter(ledger__personal_for=other_user).exists()
    assert not Category.objects.filter(ledger__personal_for=other_user).exists()


def test_two_changes_for_one_month_refuse_the_file(ledger, other_user, auth_client):
    document = export(ledger)
    document["budgets"].append({**document["budgets"][0]})

    body = import_(auth_client(other_user), document, status=400)

    assert "budgets[2].since" in body["error"]["fields"]


def test_a_dry_run_counts_the_budgets_and_writes_none(ledger, other_user, auth_client):
    report = import_(auth_client(other_user), export(ledger), dry_run="true")

    assert report["dry_run"] and report["created"]["budgets"] == 2
    assert not Budget.objects.filter(ledger__personal_for=other_user).exists()
