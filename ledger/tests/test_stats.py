"""`/stats/*` through HTTP: every figure of a known ledger, exactly, for its owner only."""

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from ledger.models import Category
from ledger.services.backup import backup_import
from ledger.services.ledgers import personal_ledger
from ledger.tests.backup_support import real_spa_fixture, real_spa_fixture_path, spa_fixture_bytes
from ledger.tests.factories import (
    CategoryFactory,
    RecurringTransactionFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
# Queries the authentication may add per request (user lookup, last-seen mark); the stats'
# own queries are counted exactly by `ledger_queries`.
AUTH_QUERIES = 3  # at most: authentication, which reads the user with its personal ledger


def default_category(name):
    return Category.objects.get(ledger__personal_for__isnull=True, name=name)


@pytest.fixture
def ledger(user, other_user):
    """A known ledger around the July/August 2025 boundary (dates are Asia/Seoul dates).

    The other user has rows on the same days and in the same default categories, so any
    figure that leaked their data would change.
    """
    salary, rent, utilities = (default_category(n) for n in ("월급", "월세", "공과금"))
    eating_out = CategoryFactory(user=user, name="외식", emoji="🍜")
    rent_rule = RecurringTransactionFactory(
        user=user,
        amount=Decimal("550000"),
        type="expense",
        day_of_month=15,
        start_date=D(2025, 7, 1),
        category=rent,
    )
    RecurringTransactionFactory(  # projected on the 31st (clamped to the 30th in June)
        user=user,
        template_name="용돈",
        amount=Decimal("200000"),
        type="income",
        day_of_month=31,
        start_date=D(2025, 7, 1),
        end_date=D(2025, 12, 1),
        category=salary,
    )
    variable_rule = RecurringTransactionFactory(
        user=user,
        template_name="전기요금",
        amount=None,
        is_variable_amount=True,
        type="expense",
        day_of_month=20,
        start_date=D(2025, 7, 1),
        category=utilities,
    )

    def tx(day, amount, type_, category=None, status="confirmed", recurring=None):
        return TransactionFactory(
            user=user,
            date=day,
            amount=None if amount is None else Decimal(amount),
            type=type_,
            category=category,
            status=status,
            recurring=recurring,
        )

    # June: the last day of the month
    tx(D(2025, 6, 30), "2000000", "income", salary)
    tx(D(2025, 6, 30), "30000", "expense", eating_out)
    # July
    tx(D(2025, 7, 1), "3000000", "income", salary)
    tx(D(2025, 7, 1), "12000", "expense", eating_out)
    tx(D(2025, 7, 15), "550000", "expense", rent, recurring=rent_rule)
    tx(D(2025, 7, 20), None, "expense", utilities, "scheduled", variable_rule)  # amount pending
    tx(D(2025, 7, 25), "50000.50", "income", salary, "scheduled")
    tx(D(2025, 7, 31), "8500", "expense", eating_out)
    tx(D(2025, 7, 31), "4000", "expense")  # uncategorized
    # August: the first day of the month (2025-07-31T15:00:00Z in the SPA's terms)
    tx(D(2025, 8, 1), "7000", "expense", eating_out)
    tx(D(2025, 8, 1), "1000", "income")
    tx(D(2025, 8, 25), "550000", "expense", rent, "scheduled")

    other_food = CategoryFactory(user=other_user, name="외식", emoji="🍔")
    RecurringTransactionFactory(
        user=other_user,
        amount=Decimal("999"),
        type="income",
        day_of_month=10,
        start_date=D(2025, 1, 1),
        category=salary,
    )
    for day in (D(2025, 6, 30), D(2025, 7, 1), D(2025, 7, 20), D(2025, 7, 31), D(2025, 8, 1)):
        for type_, category, status in (
            ("income", salary, "confirmed"),
            ("expense", rent, "confirmed"),
            ("expense", other_food, "scheduled"),
            ("expense", None, "confirmed"),
            ("income", None, "scheduled"),
        ):
            TransactionFactory(
                user=other_user,
                date=day,
                amount=Decimal("77777"),
                type=type_,
                category=category,
                status=status,
            )
    return {"salary": salary, "rent": rent, "utilities": utilities, "eating_out": eating_out}


def get(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()


def ledger_queries(captured):
    # The ledger's data, not the resolution of the request's ledger (ledger.api.scope).
    scope = ('FROM "accounts_user"', 'FROM "ledger_ledger"', 'FROM "ledger_membership"')
    return [
        q["sql"]
        for q in captured.captured_queries
        if '"ledger_' in q["sql"] and not any(part in q["sql"] for part in scope)
    ]


# --- /stats/monthly --------------------------------------------------------------------------


def test_monthly_counts_scheduled_in_totals_and_splits_them(auth_client, user, ledger):
    body = get(auth_client(user), "/stats/monthly/2025/7")

    assert body["month"] == "2025-07" and "year" not in body
    assert (body["date_from"], body["date_to"]) == ("2025-07-01", "2025-07-31")
    assert body["income"] == 3050000.5
    assert body["expense"] == 574500
    assert body["net"] == 2475500.5
    assert body["count"] == 7
    assert body["confirmed"] == {
        "income": 3000000,
        "expense": 574500,
        "net": -574500 + 3000000,
        "count": 5,
    }
    assert body["scheduled"] == {"income": 50000.5, "expense": 0, "net": 50000.5, "count": 2}
    assert "projected" not in body


def test_monthly_per_category_largest_first_with_shares(auth_client, user, ledger):
    body = get(auth_client(user), "/stats/monthly/2025/7")

    def row(category, type_, total, count, share):
        return {
            "id": str(category.id) if category else None,
            "name": category.name if category else "미분류",
            "emoji": category.emoji if category else "",
            "type": type_,
            "total": total,
            "count": count,
            "share": share,
        }

    assert body["categories"] == [
        row(ledger["salary"], "income", 3050000.5, 2, 1.0),
        row(ledger["rent"], "expense", 550000, 1, 0.9574),  # 550000 / 574500
        row(ledger["eating_out"], "expense", 20500, 2, 0.0357),
        row(None, "expense", 4000, 1, 0.007),
        row(ledger["utilities"], "expense", 0, 1, 0.0),  # the pending amount counts as 0
    ]


def test_monthly_per_day_lists_every_day_with_transactions(auth_client, user, ledger):
    body = get(auth_client(user), "/stats/monthly/2025/7")

    assert body["days"] == [
        {"date": "2025-07-01", "income": 3000000, "expense": 12000, "count": 2},
        {"date": "2025-07-15", "income": 0, "expense": 550000, "count": 1},
        {"date": "2025-07-20", "income": 0, "expense": 0, "count": 1},
        {"date": "2025-07-25", "income": 50000.5, "expense": 0, "count": 1},
        {"date": "2025-07-31", "income": 0, "expense": 12500, "count": 2},
    ]


def test_monthly_first_day_of_next_month_belongs_to_it(auth_client, user, ledger):
    body = get(auth_client(user), "/stats/monthly/2025/8")

    assert (body["income"], body["expense"], body["net"], body["count"]) == (
        1000,
        557000,
        -556000,
        3,
    )
    assert body["confirmed"] == {"income": 1000, "expense": 7000, "net": -6000, "count": 2}
    assert body["scheduled"] == {"income": 0, "expense": 550000, "net": -550000, "count": 1}
    assert [d["date"] for d in body["days"]] == ["2025-08-01", "2025-08-25"]


def test_monthly_projected_block_has_fixed_amount_rules_not_yet_generated(
    auth_client, user, ledger
):
    july = get(auth_client(user), "/stats/monthly/2025/7", include_projected="true")
    august = get(auth_client(user), "/stats/monthly/2025/8", include_projected="true")

    # July: rent (day 15) and the variable rule (day 20) already have their transactions;
    # the allowance on the 31st does not. Totals are unchanged by the projection.
    assert july["income"] == 3050000.5
    projected = july["projected"]
    assert (projected["income"], projected["expense"], projected["net"], projected["count"]) == (
        200000,
        0,
        200000,
        1,
    )
    assert projected["days"] == [{"date": "2025-07-31", "income": 200000, "expense": 0, "count": 1}]
    [occurrence] = projected["occurrences"]
    assert occurrence["template_name"] == "용돈"
    assert occurrence["date"] == "2025-07-31" and occurrence["amount"] == 200000
    assert occurrence["category"] == str(ledger["salary"].id)
    assert "category_id" not in occurrence and "recurring_id" not in occurrence

    # August: rent on the 15th and the allowance on the 31st; the variable rule's 20th has
    # no amount and is left out.
    assert august["projected"]["income"] == 200000
    assert august["projected"]["expense"] == 550000
    assert august["projected"]["count"] == 2
    assert [d["date"] for d in august["projected"]["days"]] == ["2025-08-15", "2025-08-31"]


def test_monthly_runs_a_fixed_number_of_aggregate_queries(
    auth_client, user, ledger, django_assert_max_num_queries
):
    client = auth_client(user)
    get(client, "/stats/monthly/2025/7")  # warm up
    with django_assert_max_num_queries(2 + AUTH_QUERIES) as before:
        get(client, "/stats/monthly/2025/7")
    TransactionFactory.create_batch(30, user=user, date=D(2025, 7, 9))
    with django_assert_max_num_queries(2 + AUTH_QUERIES) as after:
        body = get(client, "/stats/monthly/2025/7")

    assert body["count"] == 37
    queries = ledger_queries(after)
    assert len(queries) == len(ledger_queries(before)) == 2
    # The days from the transactions, the categories (joined with their names) from the
    # month summary.
    days, categories = queries
    assert '"ledger_transaction"' in days and "GROUP BY date" in days
    assert '"ledger_monthsummary"' in categories and '"ledger_transaction"' not in categories
    assert all("SUM(" in sql for sql in queries)


def test_monthly_with_projection_adds_a_fixed_number_of_queries(
    auth_client, user, ledger, django_assert_max_num_queries
):
    client = auth_client(user)
    get(client, "/stats/monthly/2025/8", include_projected="true")  # warm up
    with django_assert_max_num_queries(3 + AUTH_QUERIES) as captured:
        get(client, "/stats/monthly/2025/8", include_projected="true")
    assert len(ledger_queries(captured)) == 2 + 1


@pytest.mark.parametrize(
    ("path", "include_projected", "projected"),
    [
        ("/stats/monthly/2025/07", "YES", True),
        ("/stats/monthly/2025/7", "on", True),
        ("/stats/monthly/2025/7", "0", False),
        ("/stats/monthly/2025/07", None, False),
    ],
)
def test_monthly_reads_a_four_digit_year_and_a_one_or_two_digit_month(
    auth_client, user, ledger, path, include_projected, projected
):
    client = auth_client(user)
    params = {} if include_projected is None else {"include_projected": include_projected}

    body = get(client, path, **params)

    assert body["month"] == "2025-07"
    assert ("projected" in body) is projected
    assert body == get(client, "/stats/monthly/2025/7", include_projected=str(projected).lower())


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/stats/monthly/25/7", ["year"]),  # not year 25
        ("/stats/monthly/02025/7", ["year"]),
        ("/stats/monthly/+2025/7", ["year"]),
        ("/stats/monthly/%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%95/7", ["year"]),  # full-width 2025
        ("/stats/monthly/1899/12", ["year"]),
        ("/stats/monthly/2101/1", ["year"]),
        ("/stats/monthly/9999/12", ["year"]),
        ("/stats/monthly/2025/7.0", ["month"]),
        ("/stats/monthly/2025/007", ["month"]),
        ("/stats/monthly/2025/%EF%BC%97", ["month"]),  # a full-width 7
        ("/stats/monthly/2025/00", ["month"]),
        ("/stats/monthly/0/13", ["year", "month"]),
    ],
)
def test_monthly_path_outside_the_product_range_is_a_400_naming_the_part(
    auth_client, user, ledger, path, fields
):
    response = auth_client(user).get(path, {"include_projected": "true"})

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    messages = {
        "year": ["Enter a year from 1900 to 2100."],
        "month": ["Enter a month from 1 to 12."],
    }
    assert error["fields"] == {field: messages[field] for field in fields}


def test_monthly_at_the_edges_of_the_product_range_with_an_active_rule(auth_client, user):
    # given a rule in effect for ever (the projection would reach year 10000 past 9999/12)
    RecurringTransactionFactory(
        user=user,
        template_name="월세",
        amount=Decimal("550000"),
        type="expense",
        day_of_month=31,
        start_date=D(1900, 1, 1),
    )
    client = auth_client(user)

    # when / then: the last and the first month of the range are answered, with the projection
    last = get(client, "/stats/monthly/2100/12", include_projected="true")
    first = get(client, "/stats/monthly/1900/1", include_projected="true")
    beyond = client.get("/stats/monthly/9999/12", {"include_projected": "true"})

    assert [d["date"] for d in last["projected"]["days"]] == ["2100-12-31"]
    assert [d["date"] for d in first["projected"]["days"]] == ["1900-01-31"]
    assert beyond.status_code == 400
    assert beyond.json()["error"]["fields"] == {"year": ["Enter a year from 1900 to 2100."]}


# --- /stats/summary ----------------------------------------------------------------------------


def test_summary_over_a_period(auth_client, user, ledger):
    body = get(auth_client(user), "/stats/summary", date_from="2025-07-01", date_to="2025-07-31")

    assert body == {
        "income": 3050000.5,
        "expense": 574500,
        "net": 2475500.5,
        "count": 7,
        "date_from": "2025-07-01",
        "date_to": "2025-07-31",
        "status": None,
    }


def test_summary_filters_by_status(auth_client, user, ledger):
    client = auth_client(user)
    confirmed = get(
        client, "/stats/summary", date_from="2025-07-01", date_to="2025-07-31", status="confirmed"
    )
    scheduled = get(
        client, "/stats/summary", date_from="2025-07-01", date_to="2025-07-31", status="scheduled"
    )

    assert (confirmed["income"], confirmed["expense"], confirmed["count"]) == (3000000, 574500, 5)
    assert (scheduled["income"], scheduled["expense"], scheduled["count"]) == (50000.5, 0, 2)
    assert confirmed["status"] == "confirmed"


def test_summary_reads_iso_instants_as_seoul_dates(auth_client, user, ledger):
    # 2025-06-30T15:00Z is 1 July in Seoul and 2025-07-31T15:00Z is 1 August.
    body = get(
        auth_client(user),
        "/stats/summary",
        date_from="2025-06-30T15:00:00.000Z",
        date_to="2025-07-31T15:00:00Z",
    )

    assert (body["date_from"], body["date_to"]) == ("2025-07-01", "2025-08-01")
    assert (body["income"], body["expense"], body["count"]) == (3051000.5, 581500, 9)


@time_machine.travel("2025-07-31T15:30:00Z", tick=False)  # 1 August, 00:30 in Seoul
def test_summary_defaults_to_the_current_month_in_seoul(auth_client, user, ledger):
    body = get(auth_client(user), "/stats/summary")

    assert (body["date_from"], body["date_to"]) == ("2025-08-01", "2025-08-31")
    assert (body["income"], body["expense"], body["net"], body["count"]) == (
        1000,
        557000,
        -556000,
        3,
    )


def test_summary_is_one_query(auth_client, user, ledger, django_assert_max_num_queries):
    with django_assert_max_num_queries(1 + AUTH_QUERIES) as captured:
        get(auth_client(user), "/stats/summary", date_from="2025-01-01", date_to="2025-12-31")
    assert len(ledger_queries(captured)) == 1


# --- /stats/category ---------------------------------------------------------------------------


def test_category_totals_over_a_period_largest_first(auth_client, user, ledger):
    body = get(
        auth_client(user),
        "/stats/category",
        date_from="2025-06-30",
        date_to="2025-08-01",
        type="expense",
    )

    assert (body["type"], body["income"], body["expense"]) == ("expense", 0, 611500)
    rows = [(r["id"], r["name"], r["total"], r["count"], r["share"]) for r in body["categories"]]
    assert rows == [
        (str(ledger["rent"].id), "월세", 550000, 1, 0.8994),
        (str(ledger["eating_out"].id), "외식", 57500, 4, 0.094),
        (None, "미분류", 4000, 1, 0.0065),
        (str(ledger["utilities"].id), "공과금", 0, 1, 0.0),
    ]


def test_category_without_type_has_income_and_expense_rows(auth_client, user, ledger):
    body = get(auth_client(user), "/stats/category", date_from="2025-08-01", date_to="2025-08-31")

    assert (body["income"], body["expense"]) == (1000, 557000)
    assert [(r["name"], r["type"], r["total"], r["share"]) for r in body["categories"]] == [
        ("월세", "expense", 550000, 0.9874),
        ("외식", "expense", 7000, 0.0126),
        ("미분류", "income", 1000, 1.0),
    ]


@pytest.mark.parametrize("type_", [None, "expense"])
def test_a_whole_months_categories_from_the_summary_match_its_transactions(
    auth_client, user, ledger, type_
):
    # A calendar month is read from the month summary, any other range from the transactions:
    # the month equals its two halves added up.
    client = auth_client(user)
    typed = {"type": type_} if type_ else {}

    def totals(date_from, date_to):
        body = get(client, "/stats/category", date_from=date_from, date_to=date_to, **typed)
        return {(r["id"], r["type"]): (r["total"], r["count"]) for r in body["categories"]}

    month = totals("2025-07-01", "2025-07-31")
    halves: dict = {}
    for part in (totals("2025-07-01", "2025-07-15"), totals("2025-07-16", "2025-07-31")):
        for key, (total, count) in part.items():
            before = halves.get(key, (0, 0))
            halves[key] = (before[0] + total, before[1] + count)

    assert month == halves
    assert sum(count for _, count in month.values()) >= 3


def test_a_months_figures_are_prepared_and_a_periods_are_planned_each_time(
    auth_client, user, ledger
):
    # A generic plan made for a month read five years 1.6× slower (ledger/selectors/stats.py).
    client = auth_client(user)
    get(client, "/stats/monthly/2025/7")
    get(client, "/stats/category", date_from="2022-01-01", date_to="2025-12-31")
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]

    assert any("GROUP BY date, type, status" in sql for sql in prepared)  # the month's days
    assert any('"ledger_monthsummary"' in sql for sql in prepared)  # its categories
    assert not any('"ledger_transaction"' in sql and "category_id" in sql for sql in prepared)


def test_category_is_one_aggregate_joined_with_the_category_names(
    auth_client, user, ledger, django_assert_max_num_queries
):
    with django_assert_max_num_queries(1 + AUTH_QUERIES) as captured:
        get(auth_client(user), "/stats/category", date_from="2025-01-01", date_to="2025-12-31")
    assert len(ledger_queries(captured)) == 1


# --- /stats/assets -----------------------------------------------------------------------------


def test_assets_count_confirmed_only_and_project_the_scheduled(auth_client, user, ledger):
    body = get(auth_client(user), "/stats/assets")

    assert body == {
        "as_of": None,
        "assets": 4389500,  # 5,001,000 confirmed income − 611,500 confirmed expense
        "confirmed_income": 5001000,
        "confirmed_expense": 611500,
        "scheduled_income": 50000.5,
        "scheduled_expense": 550000,  # the pending (NULL) amount counts as 0
        "projected_balance": 3889500.5,
    }


def test_assets_as_of_a_date(auth_client, user, ledger):
    client = auth_client(user)
    july = get(client, "/stats/assets", as_of="2025-07-31")
    first_of_august = get(client, "/stats/assets", as_of="2025-07-31T15:00:00Z")

    assert (july["as_of"], july["assets"], july["projected_balance"]) == (
        "2025-07-31",
        4395500,
        4445500.5,
    )
    assert (first_of_august["as_of"], first_of_august["assets"]) == ("2025-08-01", 4389500)
    assert first_of_august["scheduled_expense"] == 0


def test_assets_is_one_query(auth_client, user, ledger, django_assert_max_num_queries):
    with django_assert_max_num_queries(1 + AUTH_QUERIES) as captured:
        get(auth_client(user), "/stats/assets")
    assert len(ledger_queries(captured)) == 1


# --- /stats/trend ------------------------------------------------------------------------------


@time_machine.travel("2025-08-10T03:00:00Z", tick=False)
def test_trend_per_month_ending_with_this_month(
    auth_client, user, ledger, django_assert_max_num_queries
):
    with django_assert_max_num_queries(1 + AUTH_QUERIES) as captured:
        body = get(auth_client(user), "/stats/trend", months=4)

    assert body == [
        {"month": "2025-05", "income": 0, "expense": 0, "net": 0, "count": 0},
        {"month": "2025-06", "income": 2000000, "expense": 30000, "net": 1970000, "count": 2},
        {"month": "2025-07", "income": 3050000.5, "expense": 574500, "net": 2475500.5, "count": 7},
        {"month": "2025-08", "income": 1000, "expense": 557000, "net": -556000, "count": 3},
    ]
    assert len(ledger_queries(captured)) == 1


@time_machine.travel("2025-08-10T03:00:00Z", tick=False)
def test_trend_defaults_to_twelve_months(auth_client, user, ledger):
    body = get(auth_client(user), "/stats/trend")

    assert [item["month"] for item in body][:2] == ["2024-09", "2024-10"]
    assert len(body) == 12


# --- Empty ledgers, other users, authentication -------------------------------------------------


def test_empty_period_gives_zeros_not_nulls(auth_client, user, ledger):
    client = auth_client(user)
    monthly = get(client, "/stats/monthly/2024/2", include_projected="true")
    summary = get(client, "/stats/summary", date_from="2020-01-01", date_to="2020-12-31")
    category = get(client, "/stats/category", date_from="2020-01-01", date_to="2020-12-31")
    assets = get(client, "/stats/assets", as_of="2020-01-01")

    assert (monthly["income"], monthly["expense"], monthly["net"], monthly["count"]) == (0, 0, 0, 0)
    assert (
        monthly["confirmed"]
        == monthly["scheduled"]
        == {
            "income": 0,
            "expense": 0,
            "net": 0,
            "count": 0,
        }
    )
    assert monthly["categories"] == monthly["days"] == []
    assert monthly["projected"]["count"] == 0 and monthly["projected"]["income"] == 0
    assert (summary["income"], summary["expense"], summary["net"], summary["count"]) == (0, 0, 0, 0)
    assert (category["income"], category["expense"], category["categories"]) == (0, 0, [])
    assert all(assets[key] == 0 for key in assets if key != "as_of")
    assert all(isinstance(summary[key], int | float) for key in ("income", "expense", "net"))


def test_a_user_sees_only_their_own_figures(auth_client, other_user, ledger):
    body = get(auth_client(other_user), "/stats/monthly/2025/7", include_projected="true")

    # 3 July days × (77,777 income confirmed + 77,777 income scheduled) etc.
    assert (body["income"], body["expense"], body["count"]) == (466662, 699993, 15)
    assert {row["name"] for row in body["categories"]} == {"월급", "월세", "외식", "미분류"}
    assert body["projected"]["income"] == 999 and body["projected"]["count"] == 1
    assets = get(auth_client(other_user), "/stats/assets")
    assert (assets["confirmed_income"], assets["confirmed_expense"]) == (388885, 777770)


def test_stats_need_authentication(api_client, ledger):
    for url in (
        "/stats/summary",
        "/stats/monthly/2025/7",
        "/stats/category",
        "/stats/assets",
        "/stats/trend",
    ):
        assert api_client.get(url).status_code in (401, 403), url


# --- Bad input: 400 naming the field ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/stats/summary", {"date_from": "2025-13-01", "date_to": "2025-12-31"}, "date_from"),
        ("/stats/summary", {"date_from": "2025-07-01", "date_to": "yesterday"}, "date_to"),
        ("/stats/summary", {"date_from": "2025-08-01", "date_to": "2025-07-31"}, "date_from"),
        ("/stats/summary", {"date_from": "2025-07-01"}, "date_to"),
        ("/stats/summary", {"date_to": "2025-07-01"}, "date_from"),
        ("/stats/summary", {"date_from": "2015-01-01", "date_to": "2025-01-01"}, "date_to"),
        ("/stats/summary", {"status": "pending"}, "status"),
        ("/stats/category", {"date_from": "2025-02-30", "date_to": "2025-03-01"}, "date_from"),
        ("/stats/category", {"type": "transfer"}, "type"),
        ("/stats/monthly/2025/13", {}, "month"),
        ("/stats/monthly/2025/0", {}, "month"),
        ("/stats/monthly/2025/july", {}, "month"),
        ("/stats/monthly/20x5/7", {}, "year"),
        ("/stats/monthly/2025/7", {"include_projected": "perhaps"}, "include_projected"),
        ("/stats/assets", {"as_of": "2025-07-32"}, "as_of"),
        ("/stats/assets", {"as_of": "1899-12-31"}, "as_of"),
        ("/stats/category", {"date_from": "1899-12-31", "date_to": "1900-01-31"}, "date_from"),
        ("/stats/category", {"date_from": "2100-12-01", "date_to": "2101-01-01"}, "date_to"),
        ("/stats/trend", {"months": "0"}, "months"),
        ("/stats/trend", {"months": "121"}, "months"),
        ("/stats/trend", {"months": "twelve"}, "months"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(auth_client, user, url, params, field):
    response = auth_client(user).get(url, params)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [field]
    assert error["message"].startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("url", "params", "fields"),
    [
        # the instant's Seoul date would be in year 10000: not representable
        ("/stats/assets", {"as_of": "9999-12-31T23:59:59Z"}, ["as_of"]),
        ("/stats/assets", {"as_of": "0001-01-01T00:00:00+14:00"}, ["as_of"]),
        ("/stats/assets", {"as_of": "2100-12-31T15:00:00Z"}, ["as_of"]),  # 2101-01-01 in Seoul
        (
            "/stats/summary",
            {"date_from": "9999-01-01", "date_to": "9999-12-31T20:00:00Z"},
            ["date_from", "date_to"],
        ),
        (
            "/stats/category",
            {"date_from": "0001-01-01", "date_to": "0001-01-02"},
            ["date_from", "date_to"],
        ),
    ],
)
def test_dates_outside_the_product_range_are_a_400_naming_each_field(
    auth_client, user, ledger, url, params, fields
):
    response = auth_client(user).get(url, params)

    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"] == {
        field: ["Enter a date from 1900-01-01 to 2100-12-31."] for field in fields
    }


def test_the_edges_of_the_product_range_are_answered(auth_client, user, ledger):
    client = auth_client(user)

    # 2100-12-31T14:59:59Z is 23:59:59 on 31 December 2100 in Seoul, the last day in range.
    assets = get(client, "/stats/assets", as_of="2100-12-31T14:59:59Z")
    century = get(client, "/stats/summary", date_from="1900-01-01", date_to="1909-12-31")
    last = get(client, "/stats/category", date_from="2100-12-31", date_to="2100-12-31")

    assert (assets["as_of"], assets["assets"]) == ("2100-12-31", 4389500)
    assert (century["date_from"], century["date_to"], century["count"]) == (
        "1900-01-01",
        "1909-12-31",
        0,
    )
    assert last["categories"] == []


def test_too_long_a_period_says_the_cap(auth_client, user):
    response = auth_client(user).get(
        "/stats/category", {"date_from": "2015-01-01", "date_to": "2025-01-01"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["date_to"] == [
        "The period may be at most 10 years (here: until 2024-12-31)."
    ]


def test_ten_years_exactly_is_allowed(auth_client, user):
    response = auth_client(user).get(
        "/stats/summary", {"date_from": "2015-01-01", "date_to": "2024-12-31"}
    )
    assert response.status_code == 200


STATS_OPERATIONS = [
    ("/stats/summary", "StatsSummaryOutput"),
    ("/stats/monthly/{year}/{month}", "StatsMonthlyOutput"),
    ("/stats/category", "StatsCategoryOutput"),
    ("/stats/assets", "StatsAssetsOutput"),
    ("/stats/trend", "MonthTotalOutput"),
]


def _schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def test_openapi_documents_every_stats_endpoint_with_its_response(client):
    schema = _schema(client)

    for path, component in STATS_OPERATIONS:
        operation = schema["paths"][path]["get"]
        ok = operation["responses"]["200"]["content"]["application/json"]
        reference = ok["schema"].get("items", ok["schema"])  # the trend is a bare array
        assert reference["$ref"] == f"#/components/schemas/{component}"
        assert ok["examples"], path
        assert "400" in operation["responses"], path
    assert (
        schema["components"]["schemas"]["StatsMonthlyOutput"]["properties"]["income"]["type"]
        == "number"
    )


def test_openapi_400_examples_name_a_parameter_of_their_own_endpoint(client):
    schema = _schema(client)

    for path, _ in STATS_OPERATIONS:
        operation = schema["paths"][path]["get"]
        parameters = {parameter["name"] for parameter in operation.get("parameters", [])}
        examples = operation["responses"]["400"]["content"]["application/json"]["examples"]
        for example in examples.values():
            assert set(example["value"]["error"]["fields"]) <= parameters, path


def test_openapi_states_the_bounds_of_the_monthly_path(client):
    operation = _schema(client)["paths"]["/stats/monthly/{year}/{month}"]["get"]

    bounds = {
        p["name"]: (p["schema"]["type"], p["schema"]["minimum"], p["schema"]["maximum"])
        for p in operation["parameters"]
        if p["in"] == "path"
    }
    assert bounds == {"year": ("integer", 1900, 2100), "month": ("integer", 1, 12)}


# --- SPA backups, imported through the backup service --------------------------------------


def test_july_and_september_2025_of_an_imported_spa_backup(auth_client, user):
    """The seam of import and stats: our own SPA fixture, imported as a user would, gives the
    figures its rows give when their instants are read as Seoul dates (worked out from the
    file apart from the code: 53 July rows, of which 2025-06-30T15:00Z and 23:30Z are 1 July
    and 2025-07-31T03:12Z stays 31 July; September holds the four scheduled rule rows)."""
    report = backup_import(ledger=personal_ledger(user=user), file=io.BytesIO(spa_fixture_bytes()))
    assert report.failed == 0

    client = auth_client(user)
    monthly = get(client, "/stats/monthly/2025/7")
    assert (monthly["income"], monthly["expense"], monthly["count"]) == (3160000, 1472490, 53)
    assert monthly["net"] == 3160000 - 1472490
    assert monthly["confirmed"]["count"] == 53  # July's rows have no status, or "confirmed"
    summary = get(client, "/stats/summary", date_from="2025-07-01", date_to="2025-07-31")
    assert (summary["income"], summary["expense"], summary["count"]) == (3160000, 1472490, 53)
    assert summary["net"] == monthly["net"]
    september = get(client, "/stats/monthly/2025/9")
    assert (september["expense"], september["count"]) == (550000 + 46100 + 25000 + 7890, 4)
    assert (september["scheduled"]["count"], september["confirmed"]["count"]) == (4, 0)


def test_july_2025_of_the_imported_real_spa_backup(auth_client, user):
    """The same seam with the SPA's real backup (../shared): its July 2025 figures."""
    with real_spa_fixture_path().open("rb") as file:
        report = backup_import(ledger=personal_ledger(user=user), file=file)
    assert report.failed == 0
    # Recompute July from the file: ISO instants → Asia/Seoul calendar dates.
    seoul = ZoneInfo("Asia/Seoul")
    july = [
        row
        for row in real_spa_fixture()["transactions"]
        if datetime.datetime.fromisoformat(row["date"]).astimezone(seoul).date().timetuple()[:2]
        == (2025, 7)
    ]
    income = sum(Decimal(str(r["amount"])) for r in july if r["type"] == "income")
    expense = sum(Decimal(str(r["amount"])) for r in july if r["type"] == "expense")
    assert (income, expense, len(july)) == (Decimal(2351940), Decimal(1866130), 72)

    client = auth_client(user)
    monthly = get(client, "/stats/monthly/2025/7")
    assert (monthly["income"], monthly["expense"], monthly["count"]) == (2351940, 1866130, 72)
    assert monthly["net"] == 2351940 - 1866130
    assert monthly["confirmed"]["count"] == 72  # the SPA's rows have no status: confirmed
    summary = get(client, "/stats/summary", date_from="2025-07-01", date_to="2025-07-31")
    assert (summary["income"], summary["expense"], summary["count"]) == (2351940, 1866130, 72)
    assert summary["net"] == monthly["net"]
