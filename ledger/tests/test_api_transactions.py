"""`/transactions` through HTTP: CRUD, filters, pagination, calendar views, isolation, queries."""

import datetime
import uuid
from decimal import Decimal

import pytest
import time_machine

from ledger.api.transactions import TransactionFilter
from ledger.models import Category, RecurringOccurrence, Transaction
from ledger.tests.backup_support import PLAIN_NAMES, real_spa_fixture, spa_fixture
from ledger.tests.factories import (
    CategoryFactory,
    RecurringTransactionFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

# Queries the authentication may add per request once real Clerk tokens are used (user lookup,
# last-seen mark). The "constant whatever the size" checks compare 1 row with 100 rows exactly.
AUTH_QUERIES = 3  # at most: authentication, which reads the user with its personal ledger


def default_category(name="식비"):
    return Category.objects.get(ledger=None, name=name)


def body(**overrides):
    data = {
        "date": "2025-07-25",
        "description": "점심",
        "amount": 5400,
        "type": "expense",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not ...}


def assert_field_error(response, field):
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"], error
    assert error["fields"][field]
    return error


def ids(response_json):
    rows = response_json["results"] if isinstance(response_json, dict) else response_json
    return [row["id"] for row in rows]


# --- create ---------------------------------------------------------------------------------


def test_create_returns_the_transaction_with_category_inline(auth_client, user):
    # given
    client = auth_client(user)
    food = default_category()
    # when
    response = client.post("/transactions", body(category=str(food.id)), format="json")
    # then
    assert response.status_code == 201, response.content
    data = response.json()
    row = Transaction.objects.get(pk=data["id"])
    assert row.ledger.personal_for == user
    assert row.amount == Decimal("5400.00")
    assert data["amount"] == 5400 and isinstance(data["amount"], (int, float))
    assert data["date"] == "2025-07-25"
    assert data["category"] == str(food.id)
    assert data["category_name"] == "식비"
    assert data["category_emoji"] == "🍽️"
    assert data["status"] == "confirmed"
    assert data["recurring"] is None
    assert data["projected"] is False
    assert data["amount_pending"] is False


def test_create_converts_the_spas_utc_instant_to_the_seoul_date(auth_client, user):
    response = auth_client(user).post(
        "/transactions", body(date="2025-07-24T15:00:00.000Z"), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["date"] == "2025-07-25"


def test_create_keeps_cents_exact_and_answers_a_number(auth_client, user):
    response = auth_client(user).post("/transactions", body(amount="1234.56"), format="json")
    assert response.status_code == 201
    assert response.json()["amount"] == 1234.56
    assert Transaction.objects.get().amount == Decimal("1234.56")


def test_create_with_own_category_and_uncategorized(auth_client, user):
    client = auth_client(user)
    mine = CategoryFactory(user=user, name="쇼핑", emoji="🛍️")
    with_own = client.post("/transactions", body(category=str(mine.id)), format="json")
    without = client.post("/transactions", body(category=None), format="json")
    assert with_own.status_code == 201 and without.status_code == 201
    assert with_own.json()["category_name"] == "쇼핑"
    assert without.json()["category"] is None
    assert without.json()["category_name"] is None
    assert without.json()["category_emoji"] is None


def test_an_empty_string_is_not_a_category(auth_client, user):
    client = auth_client(user)
    response = client.post("/transactions", body(category=""), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "category": ["Send null for none, not an empty string."]
    }
    rule = client.post(
        "/recurring",
        {
            "template_name": "월세",
            "description": "월세",
            "amount": 550000,
            "type": "expense",
            "frequency": "monthly",
            "start_date": "2025-01",
            "day_of_month": 25,
            "category": "",
        },
        format="json",
    )
    assert rule.status_code == 400 and list(rule.json()["error"]["fields"]) == ["category"]


def test_create_scheduled(auth_client, user):
    response = auth_client(user).post("/transactions", body(status="scheduled"), format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "scheduled"


def test_create_ignores_user_and_recurring_from_the_body(auth_client, user, other_user):
    rule = RecurringTransactionFactory(user=user)
    response = auth_client(user).post(
        "/transactions",
        body(user=str(other_user.id), recurring=str(rule.id), id=str(uuid.uuid4())),
        format="json",
    )
    assert response.status_code == 201
    row = Transaction.objects.get(pk=response.json()["id"])
    assert row.ledger.personal_for == user
    assert row.recurring is None
    assert not Transaction.objects.filter(ledger__personal_for=other_user).exists()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"description": ...}, "description"),
        ({"description": ""}, "description"),
        ({"description": "   "}, "description"),
        ({"description": "가" * 501}, "description"),
        ({"description": "a\x00b"}, "description"),
        ({"amount": ...}, "amount"),
        ({"amount": None}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": -100}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "Infinity"}, "amount"),
        ({"amount": "1e999999"}, "amount"),
        ({"amount": 1.234}, "amount"),
        ({"amount": "12345678901234"}, "amount"),
        ({"type": ...}, "type"),
        ({"type": "transfer"}, "type"),
        ({"status": "done"}, "status"),
        ({"date": ...}, "date"),
        ({"date": "2025-02-30"}, "date"),
        ({"date": "yesterday"}, "date"),
        ({"date": 20250725}, "date"),
        ({"category": "not-a-uuid"}, "category"),
        ({"category": str(uuid.UUID(int=7))}, "category"),
        ({"category": 3}, "category"),
    ],
)
def test_create_rejects_bad_input_naming_the_field(auth_client, user, overrides, field):
    response = auth_client(user).post("/transactions", body(**overrides), format="json")
    assert_field_error(response, field)
    assert not Transaction.objects.exists()


def test_create_with_another_users_category_is_400_naming_category(auth_client, user, other_user):
    theirs = CategoryFactory(user=other_user)
    response = auth_client(user).post("/transactions", body(category=str(theirs.id)), format="json")
    error = assert_field_error(response, "category")
    random = auth_client(user).post(
        "/transactions", body(category=str(uuid.uuid4())), format="json"
    )
    # the same answer as for an id that does not exist: nothing is learnt about other users
    assert assert_field_error(random, "category")["fields"] == error["fields"]
    assert not Transaction.objects.exists()


def test_create_rejects_a_non_object_body(auth_client, user):
    response = auth_client(user).post("/transactions", ["nope"], format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_anonymous_requests_are_refused(api_client, user):
    TransactionFactory(user=user)
    for method, url in [
        ("get", "/transactions"),
        ("post", "/transactions"),
        ("get", "/transactions/by-date/2025-07-25"),
        ("get", "/transactions/by-month/2025/7"),
    ]:
        response = getattr(api_client, method)(url)
        assert response.status_code in (401, 403), (method, url)
        assert "error" in response.json()


# --- retrieve / update / delete -------------------------------------------------------------


def test_retrieve_one(auth_client, user):
    row = TransactionFactory(user=user, category=default_category("카페"))
    response = auth_client(user).get(f"/transactions/{row.id}")
    assert response.status_code == 200
    assert response.json()["id"] == str(row.id)
    assert response.json()["category_emoji"] == "☕"


def test_detail_ignores_list_filters(auth_client, user):
    row = TransactionFactory(user=user, type="expense")
    response = auth_client(user).get(f"/transactions/{row.id}?type=income&date_from=bad")
    assert response.status_code == 200


def test_a_malformed_id_is_404(auth_client, user):
    response = auth_client(user).get("/transactions/not-a-uuid")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_patch_changes_only_the_given_fields(auth_client, user):
    cafe = default_category("카페")
    row = TransactionFactory(user=user, category=cafe, amount=Decimal("4500"))
    response = auth_client(user).patch(
        f"/transactions/{row.id}", {"description": "라떼"}, format="json"
    )
    assert response.status_code == 200, response.content
    row.refresh_from_db()
    assert row.description == "라떼"
    assert row.amount == Decimal("4500")
    assert row.category == cafe


def test_put_replaces_all_fields_and_omitted_optionals_take_defaults(auth_client, user):
    row = TransactionFactory(user=user, category=default_category(), status="scheduled")
    response = auth_client(user).put(
        f"/transactions/{row.id}",
        {"date": "2025-08-01", "description": "월급", "amount": 3000000, "type": "income"},
        format="json",
    )
    assert response.status_code == 200, response.content
    row.refresh_from_db()
    assert (row.date, row.description, row.amount, row.type) == (
        datetime.date(2025, 8, 1),
        "월급",
        Decimal("3000000"),
        "income",
    )
    assert row.category is None
    assert row.status == "confirmed"


def test_put_needs_the_required_fields(auth_client, user):
    row = TransactionFactory(user=user)
    response = auth_client(user).put(f"/transactions/{row.id}", {"description": "x"}, format="json")
    error = assert_field_error(response, "date")
    assert {"amount", "type"} <= set(error["fields"])


@pytest.mark.parametrize(
    "change, field",
    [
        ({"amount": None}, "amount"),
        ({"amount": 0}, "amount"),
        ({"description": " "}, "description"),
        ({"type": "gift"}, "type"),
        ({"status": "pending"}, "status"),
        ({"date": "2025-13-01"}, "date"),
        ({"category": str(uuid.uuid4())}, "category"),
    ],
)
def test_patch_rejects_bad_input_and_changes_nothing(auth_client, user, change, field):
    row = TransactionFactory(user=user, description="원래")
    response = auth_client(user).patch(f"/transactions/{row.id}", change, format="json")
    assert_field_error(response, field)
    row.refresh_from_db()
    assert row.description == "원래"
    assert row.amount == Decimal("5400")


def test_patch_to_another_users_category_is_400(auth_client, user, other_user):
    row = TransactionFactory(user=user)
    theirs = CategoryFactory(user=other_user)
    response = auth_client(user).patch(
        f"/transactions/{row.id}", {"category": str(theirs.id)}, format="json"
    )
    assert_field_error(response, "category")
    row.refresh_from_db()
    assert row.category is None


@pytest.fixture
def pending(user):
    """A scheduled occurrence of a variable-amount rule, its amount not known yet."""
    rule = RecurringTransactionFactory(
        user=user, amount=None, is_variable_amount=True, template_name="전기요금"
    )
    return TransactionFactory(
        user=user, recurring=rule, amount=None, status="scheduled", date=datetime.date(2025, 8, 25)
    )


def test_a_pending_amount_is_shown_as_pending(auth_client, user, pending):
    data = auth_client(user).get(f"/transactions/{pending.id}").json()
    assert data["amount"] is None
    assert data["amount_pending"] is True
    assert data["recurring"] == str(pending.recurring_id)


def test_confirming_a_pending_occurrence_needs_its_amount(auth_client, user, pending):
    response = auth_client(user).patch(
        f"/transactions/{pending.id}", {"status": "confirmed"}, format="json"
    )
    assert_field_error(response, "amount")
    pending.refresh_from_db()
    assert pending.status == "scheduled"


def test_confirming_a_pending_occurrence_with_its_amount(auth_client, user, pending):
    response = auth_client(user).patch(
        f"/transactions/{pending.id}", {"status": "confirmed", "amount": 48210}, format="json"
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["status"], data["amount"], data["amount_pending"]) == ("confirmed", 48210, False)
    assert data["recurring"] == str(pending.recurring_id)


def test_a_pending_occurrence_can_be_edited_and_stay_pending(auth_client, user, pending):
    client = auth_client(user)
    patched = client.patch(
        f"/transactions/{pending.id}", {"description": "8월 전기"}, format="json"
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["amount_pending"] is True
    put = client.put(
        f"/transactions/{pending.id}",
        {"date": "2025-08-25", "description": "8월 전기", "type": "expense", "status": "scheduled"},
        format="json",
    )
    assert put.status_code == 200, put.content
    put_without_status = client.put(
        f"/transactions/{pending.id}",
        {"date": "2025-08-25", "description": "8월 전기", "type": "expense"},
        format="json",
    )
    assert_field_error(put_without_status, "amount")  # status defaults to confirmed


def test_a_generated_occurrence_keeps_its_rule_when_edited(auth_client, user):
    rule = RecurringTransactionFactory(user=user)
    row = TransactionFactory(user=user, recurring=rule, date=datetime.date(2025, 7, 25))
    response = auth_client(user).patch(
        f"/transactions/{row.id}", {"amount": 560000, "recurring": None}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["recurring"] == str(rule.id)
    row.refresh_from_db()
    assert row.recurring == rule and row.amount == Decimal("560000")


def test_moving_an_occurrence_onto_another_of_its_rule_is_400_naming_date(auth_client, user):
    rule = RecurringTransactionFactory(user=user)
    TransactionFactory(user=user, recurring=rule, date=datetime.date(2025, 7, 25))
    august = TransactionFactory(user=user, recurring=rule, date=datetime.date(2025, 8, 25))
    response = auth_client(user).patch(
        f"/transactions/{august.id}", {"date": "2025-07-25", "amount": 1}, format="json"
    )
    assert_field_error(response, "date")
    august.refresh_from_db()
    assert (august.date, august.amount) == (datetime.date(2025, 8, 25), Decimal("5400"))


def test_delete(auth_client, user):
    row = TransactionFactory(user=user)
    response = auth_client(user).delete(f"/transactions/{row.id}")
    assert response.status_code == 204
    assert not Transaction.objects.filter(pk=row.pk).exists()


def test_deleting_an_occurrence_keeps_the_rule_and_its_materialized_mark(auth_client, user):
    rule = RecurringTransactionFactory(user=user)
    row = TransactionFactory(user=user, recurring=rule, date=datetime.date(2025, 7, 25))
    RecurringOccurrence.objects.create(recurring=rule, date=row.date)
    assert auth_client(user).delete(f"/transactions/{row.id}").status_code == 204
    assert RecurringOccurrence.objects.filter(recurring=rule, date=row.date).exists()
    # so the calendar does not project it again either
    month = auth_client(user).get("/transactions/by-month/2025/7?include_projected=true").json()
    assert month == []


# --- list: order, filters, pagination -------------------------------------------------------


def test_list_is_newest_date_first_then_newest_created(auth_client, user):
    old = TransactionFactory(user=user, date=datetime.date(2025, 7, 1))
    first_today = TransactionFactory(user=user, date=datetime.date(2025, 7, 25))
    second_today = TransactionFactory(user=user, date=datetime.date(2025, 7, 25))
    response = auth_client(user).get("/transactions")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 3
    assert ids(data) == [str(second_today.id), str(first_today.id), str(old.id)]


@pytest.fixture
def ledger_rows(user):
    """A small ledger to filter."""
    food, cafe = default_category("식비"), default_category("카페")
    rule = RecurringTransactionFactory(user=user)
    return {
        "lunch": TransactionFactory(
            user=user,
            date=datetime.date(2025, 7, 1),
            description="Lunch 김밥",
            amount=Decimal("4000"),
            category=food,
        ),
        "coffee": TransactionFactory(
            user=user,
            date=datetime.date(2025, 7, 15),
            description="아이스 LATTE",
            amount=Decimal("5500"),
            category=cafe,
        ),
        "salary": TransactionFactory(
            user=user,
            date=datetime.date(2025, 7, 25),
            description="월급",
            type="income",
            amount=Decimal("3000000"),
        ),
        "rent": TransactionFactory(
            user=user,
            date=datetime.date(2025, 7, 31),
            description="월세",
            recurring=rule,
            amount=Decimal("550000"),
            status="scheduled",
        ),
        "rule": rule,
        "food": food,
    }


@pytest.mark.parametrize(
    "query, expected",
    [
        ("date_from=2025-07-15", {"coffee", "salary", "rent"}),
        ("date_to=2025-07-15", {"lunch", "coffee"}),
        ("date_from=2025-07-15&date_to=2025-07-25", {"coffee", "salary"}),
        ("date_from=2025-07-25&date_to=2025-07-25", {"salary"}),
        ("type=income", {"salary"}),
        ("type=expense", {"lunch", "coffee", "rent"}),
        ("status=scheduled", {"rent"}),
        ("status=confirmed", {"lunch", "coffee", "salary"}),
        ("category=none", {"salary", "rent"}),
        ("q=latte", {"coffee"}),
        ("q=lunch", {"lunch"}),
        ("q=월", {"salary", "rent"}),
        ("amount_min=5500", {"coffee", "salary", "rent"}),
        ("amount_max=5500", {"lunch", "coffee"}),
        ("amount_min=5000&amount_max=600000", {"coffee", "rent"}),
        ("type=expense&date_from=2025-07-10&q=라", set()),
        ("type=", {"lunch", "coffee", "salary", "rent"}),
        ("ordering=,", {"lunch", "coffee", "salary", "rent"}),
    ],
)
def test_list_filters(auth_client, user, ledger_rows, query, expected):
    response = auth_client(user).get(f"/transactions?{query}")
    assert response.status_code == 200, response.content
    names = {name for name, row in ledger_rows.items() if isinstance(row, Transaction)}
    by_id = {str(ledger_rows[name].id): name for name in names}
    assert {by_id[i] for i in ids(response.json())} == expected


def test_list_filters_by_category_id_and_recurring_id(auth_client, user, ledger_rows):
    client = auth_client(user)
    by_category = client.get(f"/transactions?category={ledger_rows['food'].id}").json()
    assert ids(by_category) == [str(ledger_rows["lunch"].id)]
    by_rule = client.get(f"/transactions?recurring={ledger_rows['rule'].id}").json()
    assert ids(by_rule) == [str(ledger_rows["rent"].id)]


@pytest.mark.parametrize(
    "ordering, expected",
    [
        ("amount", ["lunch", "coffee", "rent", "salary"]),
        ("-amount", ["salary", "rent", "coffee", "lunch"]),
        ("date", ["lunch", "coffee", "salary", "rent"]),
        ("-date", ["rent", "salary", "coffee", "lunch"]),
        ("created_at", ["lunch", "coffee", "salary", "rent"]),
        ("-created_at", ["rent", "salary", "coffee", "lunch"]),
        ("type,-amount", ["rent", "coffee", "lunch", "salary"]),
    ],
)
def test_list_ordering(auth_client, user, ledger_rows, ordering, expected):
    response = auth_client(user).get(f"/transactions?ordering={ordering}")
    assert response.status_code == 200 or ordering.startswith("type"), response.content
    if ordering.startswith("type"):  # not an allowed ordering field
        assert_field_error(response, "ordering")
        return
    assert ids(response.json()) == [str(ledger_rows[name].id) for name in expected]


# (query, the parameter its 400 names): each filter of the list, alone.
BAD_FILTER_VALUES = [
    ("date_from=2025-02-30", "date_from"),
    ("date_from=07/01/2025", "date_from"),
    ("date_to=yesterday", "date_to"),
    ("date_from=2025-07-20&date_to=2025-07-01", "date_to"),
    ("type=transfer", "type"),
    ("status=done", "status"),
    ("category=not-a-uuid", "category"),
    (f"category={uuid.UUID(int=5)}", "category"),
    ("recurring=12", "recurring"),
    (f"recurring={uuid.UUID(int=5)}", "recurring"),
    ("amount_min=abc", "amount_min"),
    ("amount_max=NaN", "amount_max"),
    ("amount_min=10&amount_max=5", "amount_max"),
    ("amount_min=1e-999999", "amount_min"),
    ("amount_max=" + "9" * 40, "amount_max"),
    ("amount_min=0.001", "amount_min"),
    ("q=%00", "q"),
    ("category=%00", "category"),
    ("ordering=description", "ordering"),
    ("ordering=-user", "ordering"),
    ("q=" + "x" * 201, "q"),
]


@pytest.mark.parametrize("query, parameter", BAD_FILTER_VALUES)
def test_list_rejects_bad_filter_values_naming_the_parameter(auth_client, user, query, parameter):
    TransactionFactory(user=user)
    response = auth_client(user).get(f"/transactions?{query}")
    assert_field_error(response, parameter)


def test_every_list_filter_is_validated_when_it_is_the_only_parameter():
    # The list skips django-filter when no filter is asked for; each filter alone (the table
    # above) must still reach it, so a new filter needs its row there.
    assert {parameter for _, parameter in BAD_FILTER_VALUES} == set(TransactionFilter.base_filters)


def test_list_rejects_another_users_category_and_rule_like_unknown_ids(
    auth_client, user, other_user
):
    client = auth_client(user)
    TransactionFactory(user=user)
    their_category = CategoryFactory(user=other_user)
    their_rule = RecurringTransactionFactory(user=other_user)
    for parameter, value in [("category", their_category.id), ("recurring", their_rule.id)]:
        theirs = client.get(f"/transactions?{parameter}={value}")
        unknown = client.get(f"/transactions?{parameter}={uuid.uuid4()}")
        assert_field_error(theirs, parameter)
        assert_field_error(unknown, parameter)
        assert theirs.json() == unknown.json()


def test_list_is_paginated(auth_client, user):
    TransactionFactory.create_batch(5, user=user)
    client = auth_client(user)
    first = client.get("/transactions?page_size=2").json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["next"]
    last = client.get("/transactions?page_size=2&page=3").json()
    assert len(last["results"]) == 1 and last["next"] is None
    everything = set(ids(first)) | set(ids(client.get("/transactions?page_size=2&page=2").json()))
    assert len(everything | set(ids(last))) == 5


def test_page_size_is_capped(auth_client, user, settings):
    settings.API_MAX_PAGE_SIZE = 3
    TransactionFactory.create_batch(5, user=user)
    data = auth_client(user).get("/transactions?page_size=1000").json()
    assert data["count"] == 5 and len(data["results"]) == 3


def test_default_page_size_is_50(auth_client, user):
    TransactionFactory.create_batch(51, user=user)
    data = auth_client(user).get("/transactions").json()
    assert data["count"] == 51 and len(data["results"]) == 50


def test_a_page_past_the_end_is_404(auth_client, user):
    TransactionFactory(user=user)
    response = auth_client(user).get("/transactions?page=9")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- calendar views -------------------------------------------------------------------------


def test_by_date_lists_that_day_in_creation_order_unpaginated(auth_client, user):
    first = TransactionFactory(user=user, date=datetime.date(2025, 7, 25))
    second = TransactionFactory(user=user, date=datetime.date(2025, 7, 25))
    TransactionFactory(user=user, date=datetime.date(2025, 7, 24))
    TransactionFactory(user=user, date=datetime.date(2025, 7, 26))
    response = auth_client(user).get("/transactions/by-date/2025-07-25")
    assert response.status_code == 200
    assert ids(response.json()) == [str(first.id), str(second.id)]
    assert all(row["projected"] is False for row in response.json())


def test_by_month_lists_that_month_by_date(auth_client, user):
    late = TransactionFactory(user=user, date=datetime.date(2025, 7, 31))
    early = TransactionFactory(user=user, date=datetime.date(2025, 7, 1))
    TransactionFactory(user=user, date=datetime.date(2025, 6, 30))
    TransactionFactory(user=user, date=datetime.date(2025, 8, 1))
    response = auth_client(user).get("/transactions/by-month/2025/7")
    assert response.status_code == 200
    assert ids(response.json()) == [str(early.id), str(late.id)]
    assert auth_client(user).get("/transactions/by-month/2025/07").json() == response.json()


def test_by_month_handles_february_of_a_leap_year(auth_client, user):
    leap_day = TransactionFactory(user=user, date=datetime.date(2024, 2, 29))
    assert ids(auth_client(user).get("/transactions/by-month/2024/2").json()) == [str(leap_day.id)]


@pytest.mark.parametrize(
    "url, parameter",
    [
        ("/transactions/by-date/2025-02-30", "date"),
        ("/transactions/by-date/2025-13-01", "date"),
        ("/transactions/by-date/2025-7-1", "date"),
        ("/transactions/by-date/today", "date"),
        ("/transactions/by-month/2025/13", "month"),
        ("/transactions/by-month/2025/0", "month"),
        ("/transactions/by-month/2025/july", "month"),
        ("/transactions/by-month/25/7", "year"),
        ("/transactions/by-month/0000/7", "year"),
        ("/transactions/by-date/2025-07-25?include_projected=maybe", "include_projected"),
        ("/transactions/by-month/2025/7?include_projected=2", "include_projected"),
    ],
)
def test_calendar_rejects_bad_dates_and_months(auth_client, user, url, parameter):
    assert_field_error(auth_client(user).get(url), parameter)


@pytest.fixture
def rent_rule(user):
    return RecurringTransactionFactory(
        user=user,
        template_name="월세",
        description="7월 월세",
        amount=Decimal("550000"),
        category=default_category("월세"),
        day_of_month=31,
        start_date=datetime.date(2025, 1, 1),
    )


def test_by_month_includes_projected_occurrences_when_asked(auth_client, user, rent_rule):
    client = auth_client(user)
    real = TransactionFactory(user=user, date=datetime.date(2025, 6, 3))
    without = client.get("/transactions/by-month/2025/6").json()
    assert ids(without) == [str(real.id)]
    data = client.get("/transactions/by-month/2025/6?include_projected=true").json()
    assert [row["id"] for row in data] == [str(real.id), None]
    projected = data[1]
    assert projected == {
        "id": None,
        "date": "2025-06-30",  # day 31 clamped to June's last day
        "description": "7월 월세",
        "amount": 550000,
        "type": "expense",
        "category": str(rent_rule.category_id),
        "category_name": "월세",
        "category_emoji": "🏠",
        "status": "scheduled",
        "recurring": str(rent_rule.id),
        "projected": True,
        "amount_pending": False,
        "created_by": None,
        "created_at": None,
        "updated_at": None,
    }


def test_projection_skips_occurrences_that_already_have_a_transaction(auth_client, user, rent_rule):
    TransactionFactory(user=user, recurring=rent_rule, date=datetime.date(2025, 7, 31))
    data = auth_client(user).get("/transactions/by-month/2025/7?include_projected=true").json()
    assert [row["projected"] for row in data] == [False]


def test_by_date_projection_and_a_variable_amount_rule(auth_client, user):
    RecurringTransactionFactory(
        user=user,
        template_name="전기요금",
        description="",
        amount=None,
        is_variable_amount=True,
        day_of_month=25,
    )
    real = TransactionFactory(user=user, date=datetime.date(2025, 7, 25))
    client = auth_client(user)
    data = client.get("/transactions/by-date/2025-07-25?include_projected=1").json()
    assert [row["id"] for row in data] == [str(real.id), None]
    assert data[1]["description"] == "전기요금"  # the template name when no description
    assert data[1]["amount"] is None and data[1]["amount_pending"] is True
    assert client.get("/transactions/by-date/2025-07-24?include_projected=true").json() == []
    assert len(client.get("/transactions/by-date/2025-07-25?include_projected=false").json()) == 1


def test_projection_leaves_out_inactive_rules_and_months_outside_the_rule(auth_client, user):
    RecurringTransactionFactory(user=user, is_active=False, day_of_month=10)
    RecurringTransactionFactory(
        user=user,
        day_of_month=10,
        start_date=datetime.date(2025, 8, 1),
    )
    RecurringTransactionFactory(
        user=user,
        day_of_month=10,
        start_date=datetime.date(2025, 1, 1),
        end_date=datetime.date(2025, 6, 30),
    )
    data = auth_client(user).get("/transactions/by-month/2025/7?include_projected=true").json()
    assert data == []


@time_machine.travel(datetime.datetime(2025, 7, 20, 12, tzinfo=datetime.UTC), tick=False)
def test_projected_entries_sit_between_real_ones_by_date(auth_client, user):
    RecurringTransactionFactory(user=user, day_of_month=10)
    before = TransactionFactory(user=user, date=datetime.date(2025, 7, 9))
    after = TransactionFactory(user=user, date=datetime.date(2025, 7, 11))
    data = auth_client(user).get("/transactions/by-month/2025/7?include_projected=true").json()
    assert [(row["id"], row["date"]) for row in data] == [
        (str(before.id), "2025-07-09"),
        (None, "2025-07-10"),
        (str(after.id), "2025-07-11"),
    ]


# --- tenant isolation -----------------------------------------------------------------------


@pytest.fixture
def theirs(other_user):
    rule = RecurringTransactionFactory(user=other_user, day_of_month=25)
    return TransactionFactory(
        user=other_user,
        date=datetime.date(2025, 7, 25),
        description="남의 거래",
        category=CategoryFactory(user=other_user),
        recurring=rule,
    )


@pytest.mark.parametrize(
    "method, payload",
    [
        ("get", None),
        ("put", body()),
        ("patch", {"description": "해킹"}),
        ("delete", None),
    ],
)
def test_another_users_transaction_is_404_like_a_random_id(
    auth_client, user, theirs, method, payload
):
    client = auth_client(user)
    call = getattr(client, method)
    kwargs = {"format": "json"} if payload is not None else {}
    theirs_response = call(f"/transactions/{theirs.id}", payload, **kwargs)
    random_response = call(f"/transactions/{uuid.uuid4()}", payload, **kwargs)
    assert theirs_response.status_code == random_response.status_code == 404
    assert theirs_response.json() == random_response.json()
    after = Transaction.objects.get(pk=theirs.pk)
    assert (after.description, after.amount, after.ledger_id) == (
        "남의 거래",
        theirs.amount,
        theirs.ledger_id,
    )


def test_another_users_transactions_are_never_listed_or_counted(
    auth_client, user, other_user, theirs
):
    client = auth_client(user)
    mine = TransactionFactory(user=user, date=datetime.date(2025, 7, 25))
    listed = client.get("/transactions").json()
    assert listed["count"] == 1 and ids(listed) == [str(mine.id)]
    assert client.get("/transactions?q=남의").json()["count"] == 0
    day = client.get("/transactions/by-date/2025-07-25?include_projected=true").json()
    month = client.get("/transactions/by-month/2025/7?include_projected=true").json()
    assert ids(day) == ids(month) == [str(mine.id)]  # their rule is not projected either
    # and the owner still sees theirs
    assert ids(auth_client(other_user).get("/transactions").json()) == [str(theirs.id)]


def test_filtering_by_another_users_ids_is_a_400_not_a_leak(auth_client, user, theirs):
    client = auth_client(user)
    assert_field_error(client.get(f"/transactions?category={theirs.category_id}"), "category")
    assert_field_error(client.get(f"/transactions?recurring={theirs.recurring_id}"), "recurring")


# --- query counts ---------------------------------------------------------------------------


def _count_queries(django_assert_max_num_queries, client, url, budget):
    client.get(url)  # warm up: per-session work (e.g. a last-seen mark) happens once
    with django_assert_max_num_queries(budget + AUTH_QUERIES) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


def _fill(user, count, rule):
    categories = [default_category(), CategoryFactory(user=user)]
    for i in range(count):
        TransactionFactory(
            user=user,
            date=datetime.date(2025, 7, 1 + i % 28),
            category=categories[i % 2],
            recurring=rule if i == 0 else None,
        )


@pytest.mark.parametrize(
    "url, budget",
    [
        ("/transactions?page_size=100", 2),  # count + page
        (f"/transactions?page_size=100&category=none&recurring={uuid.UUID(int=1)}", 2),
        ("/transactions/by-month/2025/7", 1),
        ("/transactions/by-month/2025/7?include_projected=true", 4),  # + rules, taken, marks
        ("/transactions/by-date/2025-07-01?include_projected=true", 4),
    ],
)
def test_list_endpoints_run_a_constant_number_of_queries(
    auth_client, user, django_assert_max_num_queries, url, budget
):
    client = auth_client(user)
    rule = RecurringTransactionFactory(user=user, category=default_category("월세"))
    if "recurring=" in url:
        url = url.replace(str(uuid.UUID(int=1)), str(rule.id))
        budget += 1  # validating the rule id
    _fill(user, 1, rule)
    with_one = _count_queries(django_assert_max_num_queries, client, url, budget)
    _fill(user, 99, None)
    RecurringTransactionFactory.create_batch(
        5, user=user, day_of_month=2, category=default_category("통신비")
    )
    with_hundred = _count_queries(django_assert_max_num_queries, client, url, budget)
    assert with_hundred == with_one


def test_the_list_filter_by_category_costs_one_validation_query(
    auth_client, user, django_assert_max_num_queries
):
    client = auth_client(user)
    _fill(user, 100, None)
    url = f"/transactions?page_size=100&category={default_category().id}"
    _count_queries(django_assert_max_num_queries, client, url, 3)


# --- SPA backups' rows, posted as they are --------------------------------------------------


def _post_spa_rows(client, rows):
    """POST every row with its instant as `date`, its category named resolved to an id as the
    SPA would (an unknown name becomes the user's own category first)."""
    categories = {row["name"]: row["id"] for row in client.get("/categories").json()}
    names = {PLAIN_NAMES.get(row["category"], row["category"]) for row in rows}
    for name in names - set(categories):
        categories[name] = client.post("/categories", {"name": name}, format="json").json()["id"]
    for row in rows:
        payload = {k: row[k] for k in ("description", "amount", "type", "date")}
        category = categories[PLAIN_NAMES.get(row["category"], row["category"])]
        response = client.post("/transactions", {**payload, "category": category}, format="json")
        assert response.status_code == 201, (row, response.content)


def test_the_spas_backup_rows_post_as_they_are_and_land_on_seoul_dates(auth_client, user):
    # given: our own SPA fixture's rows (instants at 15:00Z and at other times of day)
    client = auth_client(user)
    rows = spa_fixture()["transactions"]
    # when
    _post_spa_rows(client, rows)
    # then: each instant is its Seoul date (worked out from the file apart from the code)
    expected_by_month = {
        (2025, 3): 49,
        (2025, 4): 50,
        (2025, 5): 51,
        (2025, 6): 49,
        (2025, 7): 53,
        (2025, 8): 50,
        (2025, 9): 4,
    }
    for (year, month), count in expected_by_month.items():
        month_rows = client.get(f"/transactions/by-month/{year}/{month}").json()
        assert len(month_rows) == count, (year, month)
    listed = client.get("/transactions?page_size=500").json()
    assert listed["count"] == len(rows) == 306
    assert sum(r["amount"] for r in listed["results"]) == sum(r["amount"] for r in rows)
    assert sum(r["amount"] for r in rows) == 29066764
    by_description = {r["description"]: r for r in listed["results"]}
    coffee = by_description["카페 CHIPS 아아 2잔"]  # 2025-07-24T15:00:00.000Z
    assert (coffee["date"], coffee["amount"]) == ("2025-07-25", 9000)
    assert coffee["category_name"] == "카페"
    sale = by_description["당근마켓 판매 - 의자"]  # 2025-06-30T23:30:00.000Z
    assert (sale["date"], sale["type"]) == ("2025-07-01", "income")
    taxi = by_description["새벽 택시"]  # 2025-05-31T14:59:59.999Z
    assert taxi["date"] == "2025-05-31"


def test_the_real_spa_backups_rows_post_as_they_are_and_land_on_seoul_dates(auth_client, user):
    # given: the real user's rows (../shared), every one at 15:00Z
    client = auth_client(user)
    rows = real_spa_fixture()["transactions"]
    # when
    _post_spa_rows(client, rows)
    # then: every 15:00Z instant is the next day in Seoul, amounts are exact numbers
    expected_by_month: dict[tuple[int, int], int] = {}
    for row in rows:
        utc_day = datetime.date.fromisoformat(row["date"][:10])
        local_day = utc_day + datetime.timedelta(days=1)
        key = (local_day.year, local_day.month)
        expected_by_month[key] = expected_by_month.get(key, 0) + 1
    for (year, month), count in expected_by_month.items():
        month_rows = client.get(f"/transactions/by-month/{year}/{month}").json()
        assert len(month_rows) == count
    listed = client.get("/transactions?page_size=500").json()
    assert listed["count"] == len(rows)
    assert sum(r["amount"] for r in listed["results"]) == sum(r["amount"] for r in rows)
    first = next(r for r in listed["results"] if r["description"] == "브루인 커피 3명")
    assert (first["date"], first["amount"], first["category_name"]) == ("2025-07-25", 5400, "쇼핑")


# --- output ---------------------------------------------------------------------------------


# --- OpenAPI --------------------------------------------------------------------------------


def test_openapi_describes_the_transaction_and_category_endpoints(client):
    import json

    from drf_spectacular.validation import validate_schema

    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    validate_schema(schema)
    paths = schema["paths"]
    assert set(paths["/transactions"]) >= {"get", "post"}
    assert set(paths["/transactions/{id}"]) >= {"get", "put", "patch", "delete"}
    assert set(paths["/categories/{id}"]) >= {"get", "put", "patch", "delete"}
    listed = {p["name"] for p in paths["/transactions"]["get"]["parameters"]}
    assert listed >= {
        "date_from",
        "date_to",
        "type",
        "status",
        "category",
        "recurring",
        "q",
        "amount_min",
        "amount_max",
        "ordering",
        "page",
        "page_size",
    }
    for path in ("/transactions/by-date/{date}", "/transactions/by-month/{year}/{month}"):
        operation = paths[path]["get"]
        assert "include_projected" in {p["name"] for p in operation["parameters"]}
        assert "page" not in {p["name"] for p in operation["parameters"]}
        # 200 and 400, plus the error answers every operation documents (schema_hooks)
        assert {"200", "400"} <= set(operation["responses"])
        assert "201" not in operation["responses"]
    entry = schema["components"]["schemas"]["CalendarEntry"]["properties"]
    assert entry["id"]["nullable"] is True and entry["projected"]["type"] == "boolean"
    assert schema["components"]["schemas"]["Transaction"]["properties"]["amount"]["type"] == (
        "number"
    )
    assert "403" in paths["/categories/{id}"]["delete"]["responses"]
