"""Reads carry an ETag built from the user's revision; `If-None-Match` answers 304.

Every write bumps the owner's revision in its own transaction, so the ETag of a list or a
calendar changes with every write the answer could show, and with nothing else.
"""

import threading

import pytest
from django.db import connection

from ledger.models import Category
from ledger.services.categories import MAX_CATEGORIES_PER_USER
from ledger.tests.factories import CategoryFactory, RecurringTransactionFactory, TransactionFactory

pytestmark = pytest.mark.django_db

READ_URLS = [
    "/transactions",
    "/transactions?type=expense&page_size=10",
    "/transactions/by-date/2025-07-25",
    "/transactions/by-month/2025/7",
    "/transactions/by-month/2025/7?include_projected=true",
    "/categories",
    "/stats/summary?date_from=2025-07-01&date_to=2025-07-31",
    "/stats/monthly/2025/7?include_projected=true",
    "/stats/category?date_from=2025-07-01&date_to=2025-07-31",
    "/stats/assets",
]


def _lunch(**extra):
    return {"date": "2025-07-25", "description": "점심", "amount": 5400, "type": "expense", **extra}


@pytest.mark.parametrize("url", READ_URLS)
def test_an_unchanged_read_answers_304_with_no_body(auth_client, user, url):
    # given
    client = auth_client(user)
    TransactionFactory(user=user)
    first = client.get(url)
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag.startswith('W/"')
    # when
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    # then
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag


@pytest.mark.parametrize("url", READ_URLS)
def test_if_none_match_any_is_a_304_where_the_url_has_an_answer(auth_client, user, url):
    response = auth_client(user).get(url, HTTP_IF_NONE_MATCH="*")

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"].startswith('W/"')


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/transactions/by-date/2025-02-30", "date"),
        ("/transactions/by-month/2025/13", "month"),
        ("/stats/monthly/25/7", "year"),
        ("/stats/budget/2025/0", "month"),
        ("/budgets/2025-7", "month"),
        ("/stats/summary?date_from=2025-07-31&date_to=2025-07-01", "date_from"),
    ],
)
def test_if_none_match_any_on_a_bad_url_is_still_the_400_naming_it(auth_client, user, url, field):
    response = auth_client(user).get(url, HTTP_IF_NONE_MATCH="*")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_304_costs_only_the_authentication_and_ledger_queries(
    auth_client, user, django_assert_max_num_queries
):
    client = auth_client(user)
    etag = client.get("/transactions/by-month/2025/7")["ETag"]
    with django_assert_max_num_queries(2):  # the user, the request's ledger (ledger.api.scope)
        response = client.get("/transactions/by-month/2025/7", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304


def test_every_kind_of_write_changes_the_etag(auth_client, user):
    client = auth_client(user)
    url = "/transactions/by-month/2025/7?include_projected=true"
    seen = {client.get(url)["ETag"]}

    def changed() -> bool:
        etag = client.get(url)["ETag"]
        new = etag not in seen
        seen.add(etag)
        return new

    created = client.post("/transactions", _lunch(), format="json").json()
    assert changed()
    client.patch(f"/transactions/{created['id']}", {"amount": 6000}, format="json")
    assert changed()
    category = client.post("/categories", {"name": "쇼핑"}, format="json").json()
    assert changed()
    client.patch(f"/categories/{category['id']}", {"name": "장보기"}, format="json")
    assert changed()
    client.delete(f"/categories/{category['id']}")
    assert changed()
    client.delete(f"/transactions/{created['id']}")
    assert changed()


def test_a_refused_write_and_another_users_write_leave_the_etag(auth_client, user, other_user):
    client = auth_client(user)
    etag = client.get("/transactions")["ETag"]
    refused = client.post("/transactions", _lunch(amount=-1), format="json")
    assert refused.status_code == 400
    auth_client(other_user).post("/transactions", _lunch(), format="json")
    assert client.get("/transactions", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_the_etag_differs_by_query_and_by_user(auth_client, user, other_user):
    mine = auth_client(user)
    theirs = auth_client(other_user)
    assert mine.get("/transactions")["ETag"] != mine.get("/transactions?type=income")["ETag"]
    etag = mine.get("/transactions")["ETag"]
    assert theirs.get("/transactions", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_stale_etag_gets_the_new_answer(auth_client, user):
    client = auth_client(user)
    etag = client.get("/transactions/by-date/2025-07-25")["ETag"]
    client.post("/transactions", _lunch(), format="json")
    response = client.get("/transactions/by-date/2025-07-25", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert [row["description"] for row in response.json()] == ["점심"]


def test_projected_entries_render_in_the_transaction_shape(auth_client, user):
    # given: a variable-amount rule with no occurrence yet in July 2025
    rule = RecurringTransactionFactory(
        user=user,
        template_name=" 가스비 ",
        description="",
        amount=None,
        is_variable_amount=True,
        day_of_month=31,
        start_date="2025-07-01",
        category=Category.objects.get(ledger=None, name="공과금"),
    )
    # when
    rows = auth_client(user).get("/transactions/by-month/2025/7?include_projected=true").json()
    # then
    assert rows == [
        {
            "id": None,
            "date": "2025-07-31",
            "description": "가스비",
            "amount": None,
            "type": rule.type,
            "category": str(rule.category_id),
            "category_name": "공과금",
            "category_emoji": "⚡",
            "status": "scheduled",
            "recurring": str(rule.id),
            "projected": True,
            "amount_pending": True,
            "created_by": None,
            "created_at": None,
            "updated_at": None,
        }
    ]


@pytest.mark.django_db(transaction=True)
def test_parallel_creates_cannot_pass_the_category_cap(auth_client, user):
    # given: five short of the cap
    for number in range(MAX_CATEGORIES_PER_USER - 5):
        CategoryFactory(user=user, name=f"분류 {number}")
    start = threading.Barrier(16)
    statuses = []

    def create(number):
        client = auth_client(user)
        start.wait()
        try:
            response = client.post("/categories", {"name": f"새 분류 {number}"}, format="json")
            statuses.append(response.status_code)
        finally:
            connection.close()

    # when: sixteen at once
    threads = [threading.Thread(target=create, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: exactly the cap, the rest refused with a 400
    assert Category.objects.filter(ledger__personal_for=user).count() == MAX_CATEGORIES_PER_USER
    assert sorted(statuses) == [201] * 5 + [400] * 11
