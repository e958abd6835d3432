"""`GET /stats/budget/{year}/{month}` through HTTP: a month against the budget in effect for
it — spent, scheduled (committed), carry-over chains, estimates — for its owner only, in a
fixed number of queries."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from ledger.models import Category, Transaction
from ledger.selectors.budgets import budget_changes
from ledger.services.ledgers import personal_ledger
from ledger.services.transactions import transaction_bulk_create
from ledger.tests.factories import (
    CategoryFactory,
    RecurringTransactionFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
AUTH_QUERIES = 3  # at most: authentication, which reads the user with its personal ledger


def default_category(name):
    return Category.objects.get(ledger__personal_for__isnull=True, name=name)


@pytest.fixture
def food():
    return default_category("식비")


def set_budget(client, month, total=None, lines=()):
    """`lines`: (category, amount[, carry_over])."""
    body = {
        "total": total,
        "categories": [
            {"category": str(c.pk), "amount": amount, "carry_over": bool(rest and rest[0])}
            for c, amount, *rest in lines
        ],
    }
    response = client.put(f"/budgets/{month}", body, format="json")
    assert response.status_code == 200, response.content


def spend(user, day, amount, category=None, status="confirmed", type_="expense", **extra):
    return TransactionFactory(
        user=user,
        date=day,
        amount=None if amount is None else Decimal(amount),
        category=category,
        status=status,
        type=type_,
        **extra,
    )


def stats(client, year, month):
    response = client.get(f"/stats/budget/{year}/{month}")
    assert response.status_code == 200, response.content
    return response.json()


def line_of(body, name):
    [found] = [row for row in body["categories"] if row["category_name"] == name]
    return found


def figures(row, *keys):
    keys = keys or ("budget", "carried", "spent", "scheduled", "remaining", "ratio", "status")
    return {key: row[key] for key in keys}


# --- one month ---------------------------------------------------------------------------------


@time_machine.travel("2025-09-10T03:00:00Z", tick=False)
def test_spent_is_confirmed_and_scheduled_is_committed_but_not_spent(
    auth_client, user, other_user, food
):
    # given
    rent, cafe = default_category("월세"), default_category("카페")
    client = auth_client(user)
    set_budget(client, "2025-07", 1000000, [(food, 100000), (rent, 600000)])
    spend(user, D(2025, 7, 3), 50000, food)
    spend(user, D(2025, 7, 28), 30000, food, status="scheduled")
    spend(user, D(2025, 7, 25), 550000, rent, status="scheduled")  # the rent that is coming
    spend(user, D(2025, 7, 10), 12000, cafe)
    spend(user, D(2025, 7, 11), 5400)  # uncategorized
    spend(user, D(2025, 7, 12), 999999, food, type_="income")  # income never counts
    spend(user, D(2025, 6, 30), 777777, food)  # other months do not
    spend(user, D(2025, 8, 1), 777777, food)
    spend(other_user, D(2025, 7, 3), 888888, food)  # nor another user's rows
    # when
    body = stats(client, 2025, 7)
    # then
    assert (body["year"], body["month"], body["since"], body["days_left"]) == (
        2025,
        7,
        "2025-07",
        None,
    )
    assert (body["date_from"], body["date_to"]) == ("2025-07-01", "2025-07-31")
    assert figures(line_of(body, "식비")) == {
        "budget": 100000,
        "carried": 0,
        "spent": 50000,
        "scheduled": 30000,
        "remaining": 20000,
        "ratio": 0.8,
        "status": "warning",  # 80 % is the threshold, inclusive
    }
    assert figures(line_of(body, "월세")) == {
        "budget": 600000,
        "carried": 0,
        "spent": 0,
        "scheduled": 550000,
        "remaining": 50000,
        "ratio": 0.9167,
        "status": "warning",
    }
    assert figures(body["total"]) == {
        "budget": 1000000,
        "carried": 0,
        "spent": 67400,
        "scheduled": 580000,
        "remaining": 352600,
        "ratio": 0.6474,
        "status": "ok",
    }
    assert body["total"]["daily_allowance"] is None  # a past month
    assert body["unbudgeted"] == [
        {
            "category": str(cafe.pk),
            "category_name": "카페",
            "category_emoji": "☕",
            "spent": 12000,
            "scheduled": 0,
            "estimated": False,
        },
        {
            "category": None,
            "category_name": "미분류",
            "category_emoji": "",
            "spent": 5400,
            "scheduled": 0,
            "estimated": False,
        },
    ]


def test_over_budget_is_over_with_a_negative_remaining(auth_client, user, food):
    client = auth_client(user)
    set_budget(client, "2025-07", 100000, [(food, 50000)])
    spend(user, D(2025, 7, 3), 49999, food)
    spend(user, D(2025, 7, 4), 50002, food, status="scheduled")

    body = stats(client, 2025, 7)

    assert figures(line_of(body, "식비"), "remaining", "ratio", "status") == {
        "remaining": -50001,
        "ratio": 2.0,
        "status": "over",
    }
    assert figures(body["total"], "remaining", "ratio", "status") == {
        "remaining": -1,
        "ratio": 1.0,
        "status": "over",
    }


def test_below_eighty_percent_is_ok(auth_client, user, food):
    client = auth_client(user)
    set_budget(client, "2025-07", None, [(food, 100000)])
    spend(user, D(2025, 7, 3), 79999, food)

    row = line_of(stats(client, 2025, 7), "식비")

    assert (row["ratio"], row["status"]) == (0.8, "ok")  # 79.999 %: rounded, but not 80 %


def test_a_month_without_a_budget_lists_its_spending_as_unbudgeted(auth_client, user, food):
    spend(user, D(2025, 7, 3), 5000, food)

    body = stats(auth_client(user), 2025, 7)

    assert body["since"] is None and body["categories"] == []
    assert body["total"] == {
        "spent": 5000,
        "scheduled": 0,
        "estimated": False,
        "budget": None,
        "carried": 0,
        "remaining": None,
        "ratio": None,
        "status": None,
        "daily_allowance": None,
    }
    assert [(u["category_name"], u["spent"]) for u in body["unbudgeted"]] == [("식비", 5000)]


def test_without_a_total_the_total_has_no_limit_but_the_lines_do(auth_client, user, food):
    client = auth_client(user)
    set_budget(client, "2025-03", None, [(food, 100000)])
    spend(user, D(2025, 7, 3), 25000, food)

    body = stats(client, 2025, 7)

    assert body["since"] == "2025-03"
    assert (body["total"]["spent"], body["total"]["budget"], body["total"]["status"]) == (
        25000,
        None,
        None,
    )
    assert figures(line_of(body, "식비"), "remaining", "status") == {
        "remaining": 75000,
        "status": "ok",
    }


# --- the current month -----------------------------------------------------------------------


@time_machine.travel("2025-07-15T03:00:00Z", tick=False)  # 15 July, noon in Seoul
def test_the_current_month_has_a_daily_allowance_over_the_days_left(auth_client, user, food):
    client = auth_client(user)
    cafe = default_category("카페")
    set_budget(client, "2025-03", 500000, [(food, 100000), (cafe, 10000)])
    spend(user, D(2025, 7, 3), 15000, food)
    spend(user, D(2025, 7, 4), 20000, cafe)  # over

    body = stats(client, 2025, 7)

    assert body["days_left"] == 17  # 15 … 31 July
    assert line_of(body, "식비")["daily_allowance"] == 5000  # 85,000 ÷ 17
    assert line_of(body, "카페")["daily_allowance"] == 0  # nothing left
    assert body["total"]["daily_allowance"] == 27352  # 465,000 ÷ 17 = 27,352.9…, rounded down
    # other months have none
    assert stats(client, 2025, 6)["total"]["daily_allowance"] is None
    assert stats(client, 2025, 8)["days_left"] is None


@time_machine.travel("2025-07-31T15:30:00Z", tick=False)  # already 1 August in Seoul
def test_the_current_month_is_the_users_local_one(auth_client, user, food):
    client = auth_client(user)
    set_budget(client, "2025-07", 310000, [(food, 31000)])

    july, august = stats(client, 2025, 7), stats(client, 2025, 8)

    assert july["days_left"] is None and july["total"]["daily_allowance"] is None
    assert august["days_left"] == 31
    assert august["total"]["daily_allowance"] == 10000


# --- estimates -----------------------------------------------------------------------------------


def test_a_pending_variable_amount_counts_its_last_known_amount_flagged_estimated(
    auth_client, user
):
    client = auth_client(user)
    utilities, phone = default_category("공과금"), default_category("통신비")
    electricity = RecurringTransactionFactory(
        user=user, amount=None, is_variable_amount=True, day_of_month=20, category=utilities
    )
    brand_new = RecurringTransactionFactory(
        user=user, amount=None, is_variable_amount=True, day_of_month=5, category=phone
    )
    set_budget(client, "2025-07", 1000000, [(utilities, 100000), (phone, 50000)])
    spend(user, D(2025, 5, 20), 38000, utilities, recurring=electricity)
    spend(user, D(2025, 6, 20), 42000, utilities, recurring=electricity)  # the last known
    spend(user, D(2025, 7, 20), None, utilities, status="scheduled", recurring=electricity)
    spend(user, D(2025, 7, 5), None, phone, status="scheduled", recurring=brand_new)
    spend(user, D(2025, 7, 1), 3000, phone)

    body = stats(client, 2025, 7)

    assert figures(line_of(body, "공과금"), "spent", "scheduled", "remaining", "estimated") == {
        "spent": 0,
        "scheduled": 42000,
        "remaining": 58000,
        "estimated": True,
    }
    # no amount known yet: nothing to add, still flagged
    assert figures(line_of(body, "통신비"), "spent", "scheduled", "estimated") == {
        "spent": 3000,
        "scheduled": 0,
        "estimated": True,
    }
    assert (body["total"]["scheduled"], body["total"]["estimated"]) == (42000, True)
    # a month with nothing pending is not estimated
    assert stats(client, 2025, 6)["total"]["estimated"] is False


def test_an_uncategorized_pending_occurrence_counts_its_estimate_as_unbudgeted(auth_client, user):
    client = auth_client(user)
    gym = RecurringTransactionFactory(user=user, amount=None, is_variable_amount=True)
    set_budget(client, "2025-07", 1000000, [])
    spend(user, D(2025, 6, 3), 55000, None, recurring=gym)
    spend(user, D(2025, 7, 3), None, None, status="scheduled", recurring=gym)
    spend(user, D(2025, 7, 9), 7000, None)

    body = stats(client, 2025, 7)

    unbudgeted = [
        (u["category"], u["spent"], u["scheduled"], u["estimated"]) for u in body["unbudgeted"]
    ]
    assert unbudgeted == [(None, 7000, 55000, True)]
    assert (body["total"]["scheduled"], body["total"]["remaining"]) == (55000, 938000)


# --- carry-over ---------------------------------------------------------------------------------


def test_carry_over_chains_month_to_month_including_overspending(auth_client, user, food):
    client = auth_client(user)
    set_budget(client, "2025-03", None, [(food, 100000, True)])
    spend(user, D(2025, 3, 10), 80000, food)  # 20,000 left
    spend(user, D(2025, 4, 10), 150000, food)  # 120,000 available: 30,000 over
    spend(user, D(2025, 6, 10), 40000, food, status="scheduled")  # committed counts too

    carried = {m: line_of(stats(client, 2025, m), "식비")["carried"] for m in range(3, 8)}

    assert carried == {3: 0, 4: 20000, 5: -30000, 6: 70000, 7: 130000}
    may = line_of(stats(client, 2025, 5), "식비")
    assert figures(may, "budget", "carried", "remaining", "ratio", "status") == {
        "budget": 100000,
        "carried": -30000,
        "remaining": 70000,
        "ratio": 0.0,
        "status": "ok",
    }


def test_an_overspending_larger_than_the_budget_leaves_nothing_available(auth_client, user, food):
    client = auth_client(user)
    set_budget(client, "2025-03", None, [(food, 10000, True)])
    spend(user, D(2025, 3, 10), 50000, food)

    april = line_of(stats(client, 2025, 4), "식비")

    assert figures(april, "carried", "remaining", "ratio", "status") == {
        "carried": -40000,
        "remaining": -30000,
        "ratio": None,
        "status": "over",
    }


def test_carry_over_follows_changes_and_restarts_where_it_was_off(auth_client, user, food):
    client = auth_client(user)
    cafe = default_category("카페")
    set_budget(client, "2025-03", None, [(food, 100000, True)])
    spend(user, D(2025, 3, 10), 50000, food)
    set_budget(client, "2025-05", None, [(food, 200000, True)])  # a new amount, still carrying
    spend(user, D(2025, 5, 10), 100000, food)
    set_budget(client, "2025-07", None, [(food, 300000, False)])  # carry-over off
    spend(user, D(2025, 7, 10), 10000, food)
    set_budget(client, "2025-08", None, [(food, 300000, True)])  # on again: July's remainder
    set_budget(client, "2025-09", None, [(cafe, 1000)])  # 식비 not budgeted in September
    set_budget(client, "2025-10", None, [(food, 50000, True)])  # nothing to carry from

    def carried(month):
        return line_of(stats(client, 2025, month), "식비")["carried"]

    assert carried(4) == 50000
    assert carried(5) == 150000  # April's 100,000 + 50,000 carried into it
    assert carried(6) == 250000  # 150,000 + 200,000 − 100,000
    assert carried(7) == 0
    assert carried(8) == 290000  # July: 300,000 − 10,000 (its own carried was 0)
    assert carried(10) == 0
    assert carried(11) == 50000


def test_carry_over_crosses_the_new_year(auth_client, user, food):
    client = auth_client(user)
    set_budget(client, "2024-12", None, [(food, 100000, True)])
    spend(user, D(2024, 12, 31), 30000, food)
    spend(user, D(2025, 1, 1), 10000, food)

    january = line_of(stats(client, 2025, 1), "식비")

    assert (january["carried"], january["spent"], january["remaining"]) == (70000, 10000, 160000)


def test_carry_over_includes_pending_estimates_of_the_months_before(auth_client, user):
    client = auth_client(user)
    utilities = default_category("공과금")
    rule = RecurringTransactionFactory(
        user=user, amount=None, is_variable_amount=True, day_of_month=20, category=utilities
    )
    set_budget(client, "2025-03", None, [(utilities, 100000, True)])
    spend(user, D(2025, 3, 20), 60000, utilities, recurring=rule)
    spend(
        user, D(2025, 4, 20), None, utilities, status="scheduled", recurring=rule
    )  # never entered

    may = line_of(stats(client, 2025, 5), "공과금")

    # March left 40,000; April's pending occurrence counts the last known 60,000
    assert (may["carried"], may["estimated"]) == (80000, True)


def test_a_line_without_carry_over_carries_nothing(auth_client, user, food):
    client = auth_client(user)
    set_budget(client, "2025-03", None, [(food, 100000)])
    spend(user, D(2025, 3, 10), 10000, food)

    assert line_of(stats(client, 2025, 4), "식비")["carried"] == 0


# --- categories deleted after being budgeted -------------------------------------------------


def test_a_category_deleted_after_being_budgeted_leaves_its_spending_uncategorized(
    auth_client, user, food
):
    client = auth_client(user)
    hobby = CategoryFactory(user=user, name="취미 용품", emoji="🎨")
    set_budget(client, "2025-03", 500000, [(food, 100000, True), (hobby, 80000, True)])
    spend(user, D(2025, 3, 10), 20000, hobby)
    spend(user, D(2025, 7, 10), 30000, hobby)
    spend(user, D(2025, 7, 11), 10000, food)
    before = stats(client, 2025, 7)

    assert client.delete(f"/categories/{hobby.pk}").status_code == 200

    after = stats(client, 2025, 7)
    assert [row["category_name"] for row in after["categories"]] == ["식비"]
    assert line_of(after, "식비") == line_of(before, "식비")
    assert [(u["category"], u["category_name"], u["spent"]) for u in after["unbudgeted"]] == [
        (None, "미분류", 30000)
    ]
    assert after["total"] == before["total"]
    assert [row["category_name"] for row in stats(client, 2025, 3)["categories"]] == ["식비"]


# --- queries, paths, ETags --------------------------------------------------------------------


def _ledger_queries(captured):
    # The ledger's data, not the resolution of the request's ledger (ledger.api.scope).
    scope = ('FROM "accounts_user"', 'FROM "ledger_ledger"', 'FROM "ledger_membership"')
    return [
        q["sql"]
        for q in captured.captured_queries
        if '"ledger_' in q["sql"] and not any(part in q["sql"] for part in scope)
    ]


def _rows(user, count, category):
    ledger = personal_ledger(user=user)
    transaction_bulk_create(
        ledger=ledger,
        transactions=[
            Transaction(
                ledger=ledger,
                date=D(2023, 1, 1) + datetime.timedelta(days=i % 940),  # Jan 2023 … Jul 2025
                description="많은 거래",
                amount=Decimal(1000 + i),
                type="expense",
                category=category if i % 3 else None,
                status="confirmed",
            )
            for i in range(count)
        ],
    )


@pytest.mark.parametrize("pending", [False, True])
def test_a_fixed_number_of_queries_with_10_or_1000_transactions(
    auth_client, user, food, django_assert_max_num_queries, pending
):
    client = auth_client(user)
    cafe = default_category("카페")
    set_budget(client, "2023-01", 2000000, [(food, 100000, True), (cafe, 5000)])
    set_budget(client, "2024-06", 2500000, [(food, 150000, True), (cafe, 5000, True)])
    if pending:
        rule = RecurringTransactionFactory(user=user, amount=None, is_variable_amount=True)
        spend(user, D(2025, 6, 25), 42000, food, recurring=rule)
        spend(user, D(2025, 7, 25), None, food, status="scheduled", recurring=rule)
    expected = 2  # the changes, and the sums with the pending rows' estimates

    _rows(user, 10, food)
    with django_assert_max_num_queries(expected + AUTH_QUERIES) as few:
        small = stats(client, 2025, 7)
    _rows(user, 990, food)
    with django_assert_max_num_queries(expected + AUTH_QUERIES) as many:
        large = stats(client, 2025, 7)

    assert len(_ledger_queries(few)) == len(_ledger_queries(many)) == expected
    assert line_of(large, "식비")["carried"] != line_of(small, "식비")["carried"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/stats/budget/2025/13", "month"),
        ("/stats/budget/2025/0", "month"),
        ("/stats/budget/25/7", "year"),
        ("/stats/budget/1899/12", "year"),
        ("/stats/budget/2101/1", "year"),
    ],
)
def test_a_bad_year_or_month_is_a_400_naming_it(auth_client, user, path, field):
    response = auth_client(user).get(path)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_carry_over_reaches_back_twelve_months_at_most(auth_client, user, food):
    client = auth_client(user)
    set_budget(client, "2024-01", None, [(food, 100000, True)])
    spend(user, D(2024, 1, 10), 90000, food)
    spend(user, D(2024, 12, 10), 5000, food)

    def carried(year, month):
        return line_of(stats(client, year, month), "식비")["carried"]

    assert carried(2025, 1) == 12 * 100000 - 95000  # January … December 2024
    assert carried(2025, 2) == 12 * 100000 - 5000  # February 2024 … January 2025


def test_a_chain_reads_the_changes_from_the_one_in_effect_twelve_months_back(
    auth_client, user, food
):
    client = auth_client(user)
    for month, amount in (("2023-01", 50000), ("2024-03", 100000), ("2024-09", 120000)):
        set_budget(client, month, None, [(food, amount, True)])
    ledger = personal_ledger(user=user)

    months = [
        c.since for c in budget_changes(ledger=ledger, since=D(2024, 7, 1), through=D(2025, 7, 1))
    ]
    everything = [c.since for c in budget_changes(ledger=ledger)]

    assert months == [D(2024, 3, 1), D(2024, 9, 1)]  # March's is in effect in July 2024
    assert everything == [D(2023, 1, 1), D(2024, 3, 1), D(2024, 9, 1)]
    # July 2024 … June 2025: two months of March's budget, then ten of September's
    assert line_of(stats(client, 2025, 7), "식비")["carried"] == 2 * 100000 + 10 * 120000


def test_the_edges_of_the_product_range(auth_client, user, food):
    client = auth_client(user)
    set_budget(client, "1900-01", None, [(food, 1000, True)])
    spend(user, D(1900, 1, 1), 10, food)

    assert line_of(stats(client, 2100, 12), "식비")["carried"] == 12 * 1000
    assert line_of(stats(client, 1900, 2), "식비")["carried"] == 1000 - 10
    assert stats(client, 1900, 1)["since"] == "1900-01"


def test_answers_304_until_the_ledger_changes(auth_client, user, food):
    client = auth_client(user)
    etag = client.get("/stats/budget/2025/7")["ETag"]

    assert client.get("/stats/budget/2025/7", HTTP_IF_NONE_MATCH=etag).status_code == 304
    set_budget(client, "2025-07", 1000)
    assert client.get("/stats/budget/2025/7", HTTP_IF_NONE_MATCH=etag).status_code == 200
