"""`/budgets/{YYYY-MM}` through HTTP: effective dating, validation, deletion, isolation."""

import datetime
import uuid
from decimal import Decimal

import pytest

from ledger.models import Budget, BudgetLine, Category
from ledger.services.ledgers import personal_ledger
from ledger.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def default_category(name):
    return Category.objects.get(ledger__personal_for__isnull=True, name=name)


def line(category, amount, carry_over=False):
    return {"category": str(category.pk), "amount": amount, "carry_over": carry_over}


def put(client, month, total=None, categories=(), status=200):
    response = client.put(
        f"/budgets/{month}", {"total": total, "categories": list(categories)}, format="json"
    )
    assert response.status_code == status, response.content
    return response.json()


def get(client, month):
    response = client.get(f"/budgets/{month}")
    assert response.status_code == 200, response.content
    return response.json()


def amounts(body):
    return {row["category_name"]: row["amount"] for row in body["categories"]}


def error_fields(response, status=400):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    return error.get("fields", {})


# --- effective dating -------------------------------------------------------------------------


def test_no_budget_is_an_empty_one(auth_client, user):
    assert get(auth_client(user), "2025-07") == {
        "month": "2025-07",
        "since": None,
        "total": None,
        "categories": [],
    }


def test_a_budget_set_in_march_holds_in_july_and_the_next_years(auth_client, user):
    client = auth_client(user)
    food, cafe = default_category("식비"), default_category("카페")

    answer = put(client, "2025-03", 2500000, [line(cafe, 50000), line(food, 600000, True)])

    assert answer == {
        "month": "2025-03",
        "since": "2025-03",
        "total": 2500000,
        "categories": [  # in the categories' order (식비 before 카페), whatever the body's
            {
                "category": str(food.pk),
                "category_name": "식비",
                "category_emoji": "🍽️",
                "amount": 600000,
                "carry_over": True,
            },
            {
                "category": str(cafe.pk),
                "category_name": "카페",
                "category_emoji": "☕",
                "amount": 50000,
                "carry_over": False,
            },
        ],
    }
    july = get(client, "2025-07")
    assert july["month"] == "2025-07" and july["since"] == "2025-03"
    assert july["total"] == 2500000 and july["categories"] == answer["categories"]
    assert get(client, "2027-01")["since"] == "2025-03"
    # and not before it was set
    assert get(client, "2025-02")["since"] is None
    assert get(client, "2024-12")["categories"] == []


def test_a_change_in_may_holds_from_may_and_march_still_holds_before(auth_client, user):
    client = auth_client(user)
    food, cafe = default_category("식비"), default_category("카페")
    put(client, "2025-03", 2500000, [line(food, 600000), line(cafe, 50000)])

    put(client, "2025-05", None, [line(food, 700000)])

    assert (get(client, "2025-04")["since"], amounts(get(client, "2025-04"))) == (
        "2025-03",
        {"식비": 600000, "카페": 50000},
    )
    may, july = get(client, "2025-05"), get(client, "2025-07")
    assert (may["since"], may["total"], amounts(may)) == ("2025-05", None, {"식비": 700000})
    assert (july["since"], amounts(july)) == ("2025-05", {"식비": 700000})


def test_a_change_in_another_year_holds_across_new_year(auth_client, user):
    client = auth_client(user)
    food = default_category("식비")
    put(client, "2024-11", 1000000, [line(food, 300000)])
    put(client, "2025-02", 1200000, [line(food, 400000)])

    assert get(client, "2025-01")["since"] == "2024-11"
    assert get(client, "2024-12")["total"] == 1000000
    assert get(client, "2025-02")["total"] == 1200000


def test_deleting_mays_change_brings_back_marchs(auth_client, user):
    client = auth_client(user)
    food = default_category("식비")
    put(client, "2025-03", 2500000, [line(food, 600000)])
    put(client, "2025-05", 3000000, [line(food, 700000)])

    response = client.delete("/budgets/2025-05")

    assert response.status_code == 200
    assert response.json()["since"] == "2025-03"
    assert (get(client, "2025-07")["since"], get(client, "2025-07")["total"]) == (
        "2025-03",
        2500000,
    )
    assert list(
        Budget.objects.filter(ledger__personal_for=user).values_list("month", flat=True)
    ) == [datetime.date(2025, 3, 1)]


def test_delete_removes_only_the_change_of_that_month(auth_client, user):
    client = auth_client(user)
    put(client, "2025-03", 2500000)

    response = client.delete("/budgets/2025-07")  # in effect in July, but set in March

    assert error_fields(response, 404) == {}
    assert response.json()["error"]["code"] == "not_found"
    assert get(client, "2025-07")["since"] == "2025-03"

    assert client.delete("/budgets/2025-03").status_code == 200
    assert get(client, "2025-07")["since"] is None
    assert client.delete("/budgets/2025-03").status_code == 404


def test_put_replaces_the_change_of_the_same_month_whole(auth_client, user):
    client = auth_client(user)
    food, cafe = default_category("식비"), default_category("카페")
    put(client, "2025-03", 2500000, [line(food, 600000), line(cafe, 50000)])

    again = put(client, "2025-03", None, [line(cafe, 70000, True)])

    assert again["total"] is None
    assert [(r["category_name"], r["amount"], r["carry_over"]) for r in again["categories"]] == [
        ("카페", 70000, True)
    ]
    assert Budget.objects.filter(ledger__personal_for=user).count() == 1
    assert BudgetLine.objects.filter(budget__ledger__personal_for=user).count() == 1


def test_an_empty_change_stops_budgeting_from_that_month(auth_client, user):
    client = auth_client(user)
    put(client, "2025-03", 2500000, [line(default_category("식비"), 600000)])

    put(client, "2025-06", None, [])

    june = get(client, "2025-06")
    assert (june["since"], june["total"], june["categories"]) == ("2025-06", None, [])
    assert get(client, "2025-05")["total"] == 2500000


def test_amounts_are_exact_decimals_and_whole_ones_render_as_integers(auth_client, user):
    client = auth_client(user)
    body = put(client, "2025-03", "2500000.50", [line(default_category("식비"), "600000")])
    assert body["total"] == 2500000.5 and body["categories"][0]["amount"] == 600000
    assert Budget.objects.get(ledger__personal_for=user).total == Decimal("2500000.50")


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize("month", ["2025-13", "2025-00", "2025-7", "1899-12", "2101-01", "abcd"])
def test_a_bad_month_is_a_400_naming_month(auth_client, user, month):
    client = auth_client(user)
    for response in (
        client.get(f"/budgets/{month}"),
        client.put(f"/budgets/{month}", {"total": None, "categories": []}, format="json"),
        client.delete(f"/budgets/{month}"),
    ):
        assert list(error_fields(response)) == ["month"]


def test_the_edges_of_the_product_range_are_months_too(auth_client, user):
    client = auth_client(user)
    put(client, "1900-01", 1000)
    put(client, "2100-12", 2000)
    assert get(client, "2100-11")["since"] == "1900-01"
    assert get(client, "2100-12")["total"] == 2000


def test_an_income_category_is_a_400_naming_it(auth_client, user):
    client = auth_client(user)
    salary, food = default_category("월급"), default_category("식비")

    response = client.put(
        "/budgets/2025-03",
        {"total": None, "categories": [line(food, 1000), line(salary, 1000)]},
        format="json",
    )

    assert error_fields(response) == {
        "categories[1].category": [
            "월급 is an income category: a budget holds expense categories only."
        ]
    }
    assert not Budget.objects.exists()


def test_another_users_category_is_as_unknown_as_a_random_id(auth_client, user, other_user):
    client = auth_client(user)
    theirs = CategoryFactory(user=other_user, name="남의 것")
    food = default_category("식비")

    answers = [
        client.put(
            "/budgets/2025-03",
            {"total": None, "categories": [line(food, 1000), {"category": pk, "amount": 1000}]},
            format="json",
        )
        for pk in (str(theirs.pk), str(uuid.uuid4()))
    ]

    assert answers[0].json() == answers[1].json()
    assert list(error_fields(answers[0])) == ["categories[1].category"]
    assert not Budget.objects.exists()


def test_own_categories_may_be_budgeted(auth_client, user):
    client = auth_client(user)
    own = CategoryFactory(user=user, name="반려동물", emoji="🐶")
    body = put(client, "2025-03", None, [line(own, 80000)])
    assert body["categories"][0]["category_name"] == "반려동물"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"categories": []}, ["total"]),
        ({"total": None}, ["categories"]),
        ({"total": 0, "categories": []}, ["total"]),
        ({"total": "12abc", "categories": []}, ["total"]),
        ({"total": True, "categories": []}, ["total"]),
        ({"total": None, "categories": "식비"}, ["categories"]),
        ({"total": None, "categories": [{"amount": 1000}]}, ["categories[0].category"]),
        (
            {"total": None, "categories": [{"category": "x", "amount": 1}]},
            ["categories[0].category"],
        ),
        ({"total": None, "categories": ["식비"]}, ["categories[0]"]),
        ([], []),  # not an object: the message says so, no field is at fault
    ],
)
def test_bad_bodies_are_400s_naming_the_field(auth_client, user, body, fields):
    response = auth_client(user).put("/budgets/2025-03", body, format="json")
    assert sorted(error_fields(response)) == sorted(fields)
    assert not Budget.objects.exists()


@pytest.mark.parametrize("amount", [0, -1, 1.001, "abc", None, 10**13])
def test_a_bad_line_amount_is_a_400_naming_it(auth_client, user, amount):
    food = default_category("식비")
    response = auth_client(user).put(
        "/budgets/2025-03",
        {"total": None, "categories": [{"category": str(food.pk), "amount": amount}]},
        format="json",
    )
    assert list(error_fields(response)) == ["categories[0].amount"]


def test_a_category_listed_twice_is_a_400_naming_the_second(auth_client, user):
    food = default_category("식비")
    response = auth_client(user).put(
        "/budgets/2025-03",
        {"total": None, "categories": [line(food, 1000), line(food, 2000)]},
        format="json",
    )
    assert error_fields(response) == {"categories[1].category": ["This category is listed twice."]}


def test_a_refused_change_leaves_the_month_as_it_was(auth_client, user):
    client = auth_client(user)
    food = default_category("식비")
    put(client, "2025-03", 2500000, [line(food, 600000)])
    before = get(client, "2025-03")

    response = client.put(
        "/budgets/2025-03",
        {"total": 1, "categories": [line(food, 1), line(default_category("월급"), 1)]},
        format="json",
    )

    assert response.status_code == 400
    assert get(client, "2025-03") == before


# --- categories deleted after being budgeted -------------------------------------------------


def test_a_deleted_category_leaves_the_budget_without_its_line(auth_client, user):
    client = auth_client(user)
    own = CategoryFactory(user=user, name="취미 용품")
    food = default_category("식비")
    put(client, "2025-03", 2500000, [line(food, 600000), line(own, 100000)])

    assert client.delete(f"/categories/{own.pk}").status_code == 200

    body = get(client, "2025-07")
    assert (body["since"], body["total"], amounts(body)) == ("2025-03", 2500000, {"식비": 600000})


# --- revisions and ETags -------------------------------------------------------------------------


def test_get_answers_304_until_the_budget_changes(auth_client, user):
    client = auth_client(user)
    first = client.get("/budgets/2025-07")
    etag = first["ETag"]

    assert client.get("/budgets/2025-07", HTTP_IF_NONE_MATCH=etag).status_code == 304
    put(client, "2025-03", 1000)
    changed = client.get("/budgets/2025-07", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["since"] == "2025-03"


def test_every_write_bumps_the_revision_and_a_refused_delete_does_not(auth_client, user):
    client = auth_client(user)

    def revision():
        return personal_ledger(user=user).revision

    start = revision()
    put(client, "2025-03", 1000)
    assert revision() == start + 1
    client.delete("/budgets/2025-03")
    assert revision() == start + 2
    assert client.delete("/budgets/2025-03").status_code == 404
    assert revision() == start + 2


# --- isolation -----------------------------------------------------------------------------------


def test_another_users_budget_is_neither_seen_nor_deleted(auth_client, user, other_user):
    alice, bob = auth_client(user), auth_client(other_user)
    put(alice, "2025-03", 2500000, [line(default_category("식비"), 600000)])

    assert get(bob, "2025-07") == {
        "month": "2025-07",
        "since": None,
        "total": None,
        "categories": [],
    }
    assert bob.delete("/budgets/2025-03").status_code == 404
    put(bob, "2025-03", 1000)

    alices = get(alice, "2025-07")
    assert (alices["since"], alices["total"], amounts(alices)) == (
        "2025-03",
        2500000,
        {"식비": 600000},
    )
    assert get(bob, "2025-07")["total"] == 1000
