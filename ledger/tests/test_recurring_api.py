"""`/recurring` through HTTP: rules, generate, delete, validation, isolation, query counts."""

import datetime
import json
import uuid
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.models import Category, RecurringTransaction, Transaction
from ledger.tests.factories import CategoryFactory, RecurringTransactionFactory

pytestmark = pytest.mark.django_db

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture(autouse=True)
def today_is_10_march_2025(time_machine):
    time_machine.move_to(datetime.datetime(2025, 3, 10, 12, tzinfo=SEOUL), tick=False)


@pytest.fixture
def client(auth_client, user):
    return auth_client(user)


def rent(**fields):
    body = {
        "template_name": "월세",
        "description": "월세",
        "amount": 550000,
        "type": "expense",
        "frequency": "monthly",
        "start_date": "2025-01",
        "end_date": None,
        "day_of_month": 25,
        "is_active": True,
        "is_variable_amount": False,
    }
    body.update(fields)
    return body


def post(client, path, body=None):
    return client.post(path, body, format="json")


def ledger_of(rule_id):
    return list(
        Transaction.objects.filter(recurring_id=rule_id)
        .order_by("date")
        .values_list("date", "status", "amount")
    )


# --- Create ---------------------------------------------------------------------------------


def test_create_returns_the_rule_with_category_inline_and_fills_past_months(client, user):
    category = Category.objects.get(name="월세", ledger=None)

    response = post(client, "/recurring", rent(category=str(category.id)))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == 550000 and isinstance(body["amount"], int | float)
    assert body["start_date"] == "2025-01-01" and body["end_date"] is None
    assert (body["category"], body["category_name"], body["category_emoji"]) == (
        str(category.id),
        "월세",
        "🏠",
    )
    assert ledger_of(body["id"]) == [
        (date(2025, 1, 25), "confirmed", Decimal("550000")),
        (date(2025, 2, 25), "confirmed", Decimal("550000")),
        (date(2025, 3, 25), "scheduled", Decimal("550000")),
        (date(2025, 4, 25), "scheduled", Decimal("550000")),
    ]
    assert RecurringTransaction.objects.get(pk=body["id"]).ledger.personal_for == user


def test_create_accepts_the_spa_shapes_month_end_and_string_day(client):
    response = post(
        client, "/recurring", rent(start_date="2025-02", end_date="2025-03", day_of_month="31")
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["start_date"], body["end_date"], body["day_of_month"]) == (
        "2025-02-01",
        "2025-03-31",
        31,
    )
    assert [d for d, _, _ in ledger_of(body["id"])] == [date(2025, 2, 28), date(2025, 3, 31)]


def test_create_accepts_full_dates(client):
    response = post(client, "/recurring", rent(start_date="2025-03-15", end_date="2025-05-01"))
    assert response.status_code == 201
    assert (response.json()["start_date"], response.json()["end_date"]) == (
        "2025-03-15",
        "2025-05-01",
    )


def test_create_variable_amount_rule_with_null_amount(client):
    response = post(client, "/recurring", rent(amount=None, is_variable_amount=True))
    assert response.status_code == 201, response.content
    assert response.json()["amount"] is None
    assert {s for _, s, _ in ledger_of(response.json()["id"])} == {"scheduled"}


def test_create_ignores_a_user_in_the_body(client, user, other_user):
    response = post(client, "/recurring", rent(user=str(other_user.id)))
    assert RecurringTransaction.objects.get(pk=response.json()["id"]).ledger.personal_for == user


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": None}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": True}, "amount"),
        ({"start_date": "2025-13"}, "start_date"),
        ({"start_date": "25-01"}, "start_date"),
        ({"start_date": None}, "start_date"),
        ({"start_date": "0001-01"}, "start_date"),
        ({"start_date": "9999-12"}, "start_date"),
        ({"start_date": "1899-12-31"}, "start_date"),
        ({"end_date": "2101-01"}, "end_date"),
        ({"end_date": "9999-12"}, "end_date"),
        ({"end_date": "2024-12"}, "end_date"),
        ({"start_date": "2025-03-15", "end_date": "2025-03-14"}, "end_date"),
        ({"day_of_month": 32}, "day_of_month"),
        ({"day_of_month": "0"}, "day_of_month"),
        ({"day_of_month": "1.5"}, "day_of_month"),
        ({"type": "transfer"}, "type"),
        ({"frequency": "weekly"}, "frequency"),
        ({"template_name": ""}, "template_name"),
        ({"category": "not-a-uuid"}, "category"),
        ({"category": str(uuid.uuid4())}, "category"),
    ],
)
def test_create_refuses_bad_input_naming_the_field(client, fields, field):
    response = post(client, "/recurring", rent(**fields))
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"]
    assert RecurringTransaction.objects.count() == 0 and Transaction.objects.count() == 0


def test_the_product_date_range_bounds_are_accepted(client):
    response = post(client, "/recurring", rent(start_date="1900-01", end_date="2100-12"))
    assert response.status_code == 201, response.content
    assert (response.json()["start_date"], response.json()["end_date"]) == (
        "1900-01-01",
        "2100-12-31",
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"start_date": "9999-12"}, "start_date"),
        ({"end_date": "2101-01"}, "end_date"),
        ({"start_date": "0001-01"}, "start_date"),
    ],
)
def test_patch_outside_the_date_range_is_a_400_naming_the_field(client, fields, field):
    rule_id = post(client, "/recurring", rent()).json()["id"]
    response = client.patch(f"/recurring/{rule_id}", fields, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == [field]
    assert RecurringTransaction.objects.get(pk=rule_id).start_date == date(2025, 1, 1)


def test_calendar_of_the_last_month_of_the_range_projects_an_open_ended_rule(client, user):
    # given an active rule without an end
    RecurringTransactionFactory(user=user, start_date=date(2025, 1, 1), day_of_month=31)
    # when the calendar of December 2100 and its last day are read with the projection
    month = client.get("/transactions/by-month/2100/12?include_projected=true")
    day = client.get("/transactions/by-date/2100-12-31?include_projected=true")
    # then both answer the projected occurrence on 31 December 2100
    assert month.status_code == 200 and day.status_code == 200, month.content
    assert [(r["date"], r["projected"]) for r in month.json()] == [("2100-12-31", True)]
    assert day.json() == month.json()


def test_a_rule_ending_in_december_2100_materializes_through_it(client, user):
    rule = RecurringTransactionFactory(
        user=user, start_date=date(2100, 11, 1), end_date=date(2100, 12, 31)
    )
    body = post(client, f"/recurring/{rule.id}/generate").json()
    assert body == []  # nothing due yet: the horizon is 2025
    response = client.get("/transactions/by-month/2100/12?include_projected=true")
    assert [r["date"] for r in response.json()] == ["2100-12-25"]


def test_create_refuses_another_users_category(client, other_user):
    theirs = CategoryFactory(user=other_user)
    response = post(client, "/recurring", rent(category=str(theirs.id)))
    assert response.status_code == 400
    assert "category" in response.json()["error"]["fields"]


def test_create_accepts_ones_own_category(client, user):
    mine = CategoryFactory(user=user, name="집", emoji="🏡")
    response = post(client, "/recurring", rent(category=str(mine.id)))
    assert response.status_code == 201
    assert response.json()["category_name"] == "집"


# --- Read -----------------------------------------------------------------------------------


def test_list_shows_only_ones_own_rules(client, user, other_user):
    mine = RecurringTransactionFactory(user=user)
    RecurringTransactionFactory(user=other_user)
    response = client.get("/recurring")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(mine.id)]
    assert response.json()["count"] == 1


# Authentication may add a query or two of its own (user lookup); the list adds two
# (count + page, categories joined) whatever the number of rules.
LIST_QUERIES = 5


@pytest.mark.parametrize("rules", [1, 100])
def test_list_runs_a_bounded_number_of_queries(client, user, rules, django_assert_max_num_queries):
    category = CategoryFactory(user=user)
    for _ in range(rules):
        RecurringTransactionFactory(user=user, category=category)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get("/recurring?page_size=100")
    assert len(response.json()["results"]) == rules
    assert response.json()["results"][0]["category_emoji"] == "🧾"


def test_list_query_count_does_not_grow_with_the_rules(client, user):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/recurring?page_size=100").status_code == 200
        return len(captured)

    category = CategoryFactory(user=user)
    RecurringTransactionFactory(user=user, category=category)
    client.get("/recurring")  # warm-up: anything done once per user or session
    one = queries()
    RecurringTransactionFactory.create_batch(99, user=user, category=category)
    assert queries() == one


def test_retrieve_one_rule(client, user):
    rule = RecurringTransactionFactory(user=user, amount=Decimal("12345.50"))
    body = client.get(f"/recurring/{rule.id}").json()
    assert body["id"] == str(rule.id) and body["amount"] == 12345.5
    assert body["category"] is None and body["category_name"] is None


def test_list_carries_a_revision_etag_that_every_rule_write_changes(client):
    # given a list read and its ETag
    first = client.get("/recurring")
    etag = first["ETag"]
    # when nothing changed, then 304
    assert client.get("/recurring", HTTP_IF_NONE_MATCH=etag).status_code == 304
    seen = {etag}

    def changed() -> bool:
        new = client.get("/recurring")["ETag"]
        fresh = new not in seen
        seen.add(new)
        return fresh

    # when a rule is created, changed, generated and deleted, each changes the ETag
    rule_id = post(client, "/recurring", rent(start_date="2025-03")).json()["id"]
    assert changed()
    assert client.patch(f"/recurring/{rule_id}", {"amount": 1}, format="json").status_code == 200
    assert changed()
    assert len(post(client, f"/recurring/{rule_id}/generate?through=2025-06").json()) == 2
    assert changed()
    assert client.delete(f"/recurring/{rule_id}").status_code == 200
    assert changed()


def test_a_refused_rule_write_leaves_the_list_etag(client):
    etag = client.get("/recurring")["ETag"]
    assert post(client, "/recurring", rent(start_date="9999-12")).status_code == 400
    assert client.get("/recurring", HTTP_IF_NONE_MATCH=etag).status_code == 304


# --- One description ------------------------------------------------------------------------


def test_a_blank_description_is_the_trimmed_name_in_the_calendar_and_when_materialized(
    client, user
):
    # given a rule whose description is only whitespace and whose name has spaces around it
    rule = RecurringTransactionFactory(
        user=user,
        template_name="  넷플릭스 ",
        description=" \t ",
        start_date=date(2025, 3, 1),
        day_of_month=28,
    )
    # when its March occurrence is first projected, then materialized
    projected = client.get("/transactions/by-month/2025/3?include_projected=true").json()
    generated = post(client, f"/recurring/{rule.id}/generate").json()
    stored = client.get("/transactions/by-month/2025/3?include_projected=true").json()
    # then it is the trimmed name everywhere
    assert [r["description"] for r in projected] == ["넷플릭스"]
    assert [r["description"] for r in generated] == ["넷플릭스"]
    assert [(r["description"], r["projected"]) for r in stored] == [("넷플릭스", False)]
    assert Transaction.objects.get(recurring=rule).description == "넷플릭스"


def test_a_description_with_spaces_around_it_is_trimmed_the_same_way(client, user):
    rule = RecurringTransactionFactory(
        user=user, template_name="월세", description="  3월 월세  ", start_date=date(2025, 3, 1)
    )
    projected = client.get("/transactions/by-date/2025-03-25?include_projected=true").json()
    post(client, f"/recurring/{rule.id}/generate")
    assert projected[0]["description"] == "3월 월세"
    assert Transaction.objects.get(recurring=rule).description == "3월 월세"


# --- Update ---------------------------------------------------------------------------------


def test_patch_amount_rewrites_future_scheduled_and_keeps_history(client):
    rule_id = post(client, "/recurring", rent()).json()["id"]

    response = client.patch(f"/recurring/{rule_id}", {"amount": 600000}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["amount"] == 600000
    assert [a for _, _, a in ledger_of(rule_id)] == [
        Decimal("550000"),
        Decimal("550000"),
        Decimal("600000"),
        Decimal("600000"),
    ]


def test_patch_deactivate_removes_future_scheduled(client):
    rule_id = post(client, "/recurring", rent()).json()["id"]
    response = client.patch(f"/recurring/{rule_id}", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert [s for _, s, _ in ledger_of(rule_id)] == ["confirmed", "confirmed"]


def test_patch_end_before_existing_start_is_a_400_naming_end_date(client):
    rule_id = post(client, "/recurring", rent()).json()["id"]
    response = client.patch(f"/recurring/{rule_id}", {"end_date": "2024-11"}, format="json")
    assert response.status_code == 400
    assert "end_date" in response.json()["error"]["fields"]
    assert RecurringTransaction.objects.get(pk=rule_id).end_date is None


def test_patch_null_amount_needs_a_variable_rule(client):
    rule_id = post(client, "/recurring", rent()).json()["id"]
    refused = client.patch(f"/recurring/{rule_id}", {"amount": None}, format="json")
    allowed = client.patch(
        f"/recurring/{rule_id}", {"amount": None, "is_variable_amount": True}, format="json"
    )
    assert refused.status_code == 400 and "amount" in refused.json()["error"]["fields"]
    assert allowed.status_code == 200 and allowed.json()["amount"] is None


def test_put_replaces_the_rule(client):
    rule_id = post(client, "/recurring", rent()).json()["id"]
    response = client.put(
        f"/recurring/{rule_id}", rent(template_name="관리비", day_of_month="10"), format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["template_name"], response.json()["day_of_month"]) == ("관리비", 10)
    # history stays on the 25th; the future moved to the 10th
    assert [d for d, _, _ in ledger_of(rule_id)] == [
        date(2025, 1, 25),
        date(2025, 2, 25),
        date(2025, 3, 10),
        date(2025, 4, 10),
    ]


def test_put_with_missing_required_fields_is_a_400(client):
    rule_id = post(client, "/recurring", rent()).json()["id"]
    response = client.put(f"/recurring/{rule_id}", {"amount": 1}, format="json")
    assert response.status_code == 400
    assert {"template_name", "type", "start_date", "day_of_month"} <= set(
        response.json()["error"]["fields"]
    )


# --- Delete ---------------------------------------------------------------------------------


def test_delete_says_how_many_scheduled_were_removed_and_keeps_confirmed(client):
    rule_id = post(client, "/recurring", rent()).json()["id"]

    response = client.delete(f"/recurring/{rule_id}")

    assert response.status_code == 200
    assert response.json() == {"id": rule_id, "removed_scheduled": 2}
    assert list(Transaction.objects.values_list("status", "recurring")) == [
        ("confirmed", None),
        ("confirmed", None),
    ]
    assert client.get(f"/recurring/{rule_id}").status_code == 404


# --- Generate -------------------------------------------------------------------------------


def test_generate_defaults_to_the_end_of_this_month_and_is_idempotent(client, user):
    rule = RecurringTransactionFactory(user=user, start_date=date(2025, 1, 1))

    first = post(client, f"/recurring/{rule.id}/generate")
    second = post(client, f"/recurring/{rule.id}/generate")

    assert first.status_code == 200, first.content
    body = first.json()
    assert [(t["date"], t["status"]) for t in body] == [
        ("2025-01-25", "confirmed"),
        ("2025-02-25", "confirmed"),
        ("2025-03-25", "scheduled"),
    ]
    assert body[0]["amount"] == 550000
    assert body[0]["recurring"] == str(rule.id)
    assert second.json() == []
    assert Transaction.objects.count() == 3


def test_generated_transactions_have_the_shape_of_transactions_items(client, user):
    # One transaction shape: each generated item is exactly what GET /transactions/{id} gives.
    category = CategoryFactory(user=user, name="주거", emoji="🏠")
    rule = RecurringTransactionFactory(user=user, category=category, start_date=date(2025, 2, 1))
    body = post(client, f"/recurring/{rule.id}/generate").json()
    assert len(body) == 2
    for item in body:
        assert item == client.get(f"/transactions/{item['id']}").json()
    assert (body[0]["category_name"], body[0]["projected"]) == (
        "주거",
        False,
    )


def test_generate_through_a_month(client, user):
    rule = RecurringTransactionFactory(user=user, start_date=date(2025, 3, 1), day_of_month=31)
    body = post(client, f"/recurring/{rule.id}/generate?through=2025-06").json()
    assert [t["date"] for t in body] == [
        "2025-03-31",
        "2025-04-30",
        "2025-05-31",
        "2025-06-30",
    ]


def test_generate_does_not_re_create_a_deleted_occurrence(client):
    rule_id = post(client, "/recurring", rent()).json()["id"]
    Transaction.objects.filter(recurring_id=rule_id, date=date(2025, 2, 25)).delete()
    body = post(client, f"/recurring/{rule_id}/generate?through=2025-05").json()
    assert [t["date"] for t in body] == ["2025-05-25"]


def test_generate_variable_rule_says_the_amount_is_pending(client, user):
    rule = RecurringTransactionFactory(
        user=user, amount=None, is_variable_amount=True, start_date=date(2025, 3, 1)
    )
    body = post(client, f"/recurring/{rule.id}/generate").json()
    assert body[0]["amount"] is None
    assert body[0]["amount_pending"] is True
    assert body[0]["status"] == "scheduled"


@pytest.mark.parametrize("through", ["2025-13", "soon", "2030-01"])
def test_generate_refuses_a_bad_or_too_distant_through(client, user, through):
    rule = RecurringTransactionFactory(user=user)
    response = post(client, f"/recurring/{rule.id}/generate?through={through}")
    assert response.status_code == 400
    assert "through" in response.json()["error"]["fields"]
    assert Transaction.objects.count() == 0


# --- Isolation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/recurring/{id}", None),
        ("put", "/recurring/{id}", rent()),
        ("patch", "/recurring/{id}", {"amount": 1}),
        ("delete", "/recurring/{id}", None),
        ("post", "/recurring/{id}/generate", None),
    ],
)
@pytest.mark.parametrize("whose", ["other user's", "random", "malformed"])
def test_another_users_rule_is_404_like_a_missing_one(
    client, other_user, method, path, body, whose
):
    theirs = RecurringTransactionFactory(user=other_user, start_date=date(2025, 1, 1))
    rule_id = {"other user's": theirs.id, "random": uuid.uuid4(), "malformed": "nope"}[whose]

    response = getattr(client, method)(path.format(id=rule_id), body, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    theirs.refresh_from_db()
    assert (theirs.amount, theirs.template_name) == (Decimal("550000"), theirs.template_name)
    assert Transaction.objects.count() == 0


def test_anonymous_requests_are_refused(api_client):
    assert api_client.get("/recurring").status_code in (401, 403)
    assert api_client.post("/recurring", rent(), format="json").status_code in (401, 403)


# --- OpenAPI --------------------------------------------------------------------------------


def test_openapi_describes_the_recurring_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    paths = schema["paths"]
    assert set(paths["/recurring"]) >= {"get", "post"}
    assert set(paths["/recurring/{id}"]) >= {"get", "put", "patch", "delete"}
    generate = paths["/recurring/{id}/generate"]["post"]
    assert [p["name"] for p in generate["parameters"] if p["in"] == "query"] == ["through"]
    ok = generate["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"type": "array", "items": {"$ref": "#/components/schemas/Transaction"}}
    rule = schema["components"]["schemas"]["Recurring"]
    assert {"category_name", "category_emoji", "amount", "end_date"} <= set(rule["required"])
    assert rule["properties"]["category_name"]["nullable"] is True
    listed = paths["/recurring"]["get"]["responses"]
    assert "304" in listed
    delete = paths["/recurring/{id}"]["delete"]["responses"]
    assert "200" in delete and "RecurringDeleteResponse" in json.dumps(delete["200"])
    assert paths["/recurring"]["post"]["requestBody"]["content"]["application/json"]["examples"]
