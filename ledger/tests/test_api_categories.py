"""`/categories` through HTTP: defaults + own, read-only defaults, deletion, isolation."""

import datetime
import uuid

import pytest

from ledger.default_categories import DEFAULT_CATEGORIES
from ledger.models import Category, RecurringTransaction, Transaction
from ledger.services import categories as category_services
from ledger.tests.factories import (
    CategoryFactory,
    RecurringTransactionFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

AUTH_QUERIES = 3  # at most: authentication, which reads the user with its personal ledger


def default_category(name="식비"):
    return Category.objects.get(ledger=None, name=name)


def assert_field_error(response, field):
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"][field]
    return error


# --- list / retrieve ------------------------------------------------------------------------


def test_list_has_the_defaults_in_the_spa_order_then_own_by_name(auth_client, user, other_user):
    # given
    CategoryFactory(user=user, name="쇼핑", emoji="🛍️")
    CategoryFactory(user=user, name="가족", emoji="👪")
    CategoryFactory(user=other_user, name="남의 것")
    # when
    response = auth_client(user).get("/categories")
    # then
    assert response.status_code == 200
    data = response.json()
    assert isinstance(data, list)  # unpaginated
    defaults = [(row["name"], row["emoji"]) for row in data if row["is_default"]]
    assert defaults == DEFAULT_CATEGORIES
    assert [row["is_default"] for row in data] == [True] * 18 + [False] * 2
    assert [row["name"] for row in data[18:]] == ["가족", "쇼핑"]
    assert set(data[0]) == {"id", "name", "emoji", "is_default", "created_at"}


def test_retrieve_a_default_and_an_own_category(auth_client, user):
    client = auth_client(user)
    mine = CategoryFactory(user=user, name="쇼핑")
    assert client.get(f"/categories/{default_category().id}").json()["is_default"] is True
    assert client.get(f"/categories/{mine.id}").json()["name"] == "쇼핑"


def test_a_malformed_id_is_404(auth_client, user):
    assert auth_client(user).get("/categories/42").status_code == 404


def test_anonymous_requests_are_refused(api_client):
    for method in ("get", "post"):
        response = getattr(api_client, method)("/categories")
        assert response.status_code in (401, 403)


# --- create ---------------------------------------------------------------------------------


def test_create_an_own_category(auth_client, user):
    response = auth_client(user).post(
        "/categories", {"name": "  쇼핑 ", "emoji": "🛍️"}, format="json"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["name"], data["emoji"], data["is_default"]) == ("쇼핑", "🛍️", False)
    created = Category.objects.get(pk=data["id"])
    assert created.ledger.personal_for == user and not created.is_default


def test_create_without_emoji(auth_client, user):
    response = auth_client(user).post("/categories", {"name": "쇼핑"}, format="json")
    assert response.status_code == 201
    assert response.json()["emoji"] == ""


def test_create_ignores_user_and_is_default_from_the_body(auth_client, user, other_user):
    response = auth_client(user).post(
        "/categories",
        {"name": "쇼핑", "user": str(other_user.id), "is_default": True},
        format="json",
    )
    assert response.status_code == 201
    created = Category.objects.get(pk=response.json()["id"])
    assert created.ledger.personal_for == user and created.is_default is False


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
        ({"name": "가" * 101}, "name"),
        ({"name": "쇼핑", "emoji": "🛍️" * 6}, "emoji"),
        ({"name": "쇼핑", "emoji": None}, "emoji"),
    ],
)
def test_create_rejects_bad_input_naming_the_field(auth_client, user, payload, field):
    assert_field_error(auth_client(user).post("/categories", payload, format="json"), field)
    assert not Category.objects.filter(ledger__personal_for=user).exists()


def test_a_duplicate_own_name_is_400_naming_name(auth_client, user):
    CategoryFactory(user=user, name="쇼핑")
    response = auth_client(user).post("/categories", {"name": "쇼핑"}, format="json")
    assert_field_error(response, "name")
    assert Category.objects.filter(ledger__personal_for=user).count() == 1


def test_a_default_categorys_name_is_taken_too(auth_client, user):
    response = auth_client(user).post("/categories", {"name": "식비"}, format="json")
    assert_field_error(response, "name")


def test_another_users_name_is_free(auth_client, user, other_user):
    CategoryFactory(user=other_user, name="쇼핑")
    response = auth_client(user).post("/categories", {"name": "쇼핑"}, format="json")
    assert response.status_code == 201


def test_the_number_of_own_categories_is_capped(auth_client, user, monkeypatch):
    monkeypatch.setattr(category_services, "MAX_CATEGORIES_PER_USER", 2)
    client = auth_client(user)
    assert client.post("/categories", {"name": "a"}, format="json").status_code == 201
    assert client.post("/categories", {"name": "b"}, format="json").status_code == 201
    assert_field_error(client.post("/categories", {"name": "c"}, format="json"), "name")


# --- update ---------------------------------------------------------------------------------


def test_patch_renames_and_put_replaces(auth_client, user):
    client = auth_client(user)
    mine = CategoryFactory(user=user, name="쇼핑", emoji="🛍️")
    patched = client.patch(f"/categories/{mine.id}", {"name": "온라인 쇼핑"}, format="json")
    assert patched.status_code == 200, patched.content
    assert (patched.json()["name"], patched.json()["emoji"]) == ("온라인 쇼핑", "🛍️")
    put = client.put(f"/categories/{mine.id}", {"name": "쇼핑몰"}, format="json")
    assert put.status_code == 200
    mine.refresh_from_db()
    assert (mine.name, mine.emoji) == ("쇼핑몰", "")


def test_renaming_to_its_own_name_is_fine(auth_client, user):
    mine = CategoryFactory(user=user, name="쇼핑")
    response = auth_client(user).patch(
        f"/categories/{mine.id}", {"name": "쇼핑", "emoji": "🛒"}, format="json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("taken", ["여행", "카페"])
def test_renaming_to_a_taken_name_is_400(auth_client, user, taken):
    CategoryFactory(user=user, name="여행")
    mine = CategoryFactory(user=user, name="쇼핑")
    response = auth_client(user).patch(f"/categories/{mine.id}", {"name": taken}, format="json")
    assert_field_error(response, "name")
    mine.refresh_from_db()
    assert mine.name == "쇼핑"


def test_patch_rejects_a_blank_name(auth_client, user):
    mine = CategoryFactory(user=user, name="쇼핑")
    response = auth_client(user).patch(f"/categories/{mine.id}", {"name": " "}, format="json")
    assert_field_error(response, "name")


@pytest.mark.parametrize(
    "method, payload",
    [("put", {"name": "내 식비"}), ("patch", {"emoji": "🍜"}), ("delete", None)],
)
def test_defaults_are_read_only(auth_client, user, method, payload):
    food = default_category()
    kwargs = {"format": "json"} if payload is not None else {}
    response = getattr(auth_client(user), method)(f"/categories/{food.id}", payload, **kwargs)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert "read-only" in error["message"]
    food.refresh_from_db()
    assert (food.name, food.emoji) == ("식비", "🍽️")


# --- delete ---------------------------------------------------------------------------------


def test_deleting_a_category_in_use_uncategorizes_its_rows(auth_client, user, other_user):
    # given
    mine = CategoryFactory(user=user, name="쇼핑")
    used = TransactionFactory.create_batch(3, user=user, category=mine)
    other = TransactionFactory(user=user, category=default_category())
    rule = RecurringTransactionFactory(user=user, category=mine)
    their_row = TransactionFactory(user=other_user, category=CategoryFactory(user=other_user))
    # when
    response = auth_client(user).delete(f"/categories/{mine.id}")
    # then
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": str(mine.id),
        "uncategorized_transactions": 3,
        "uncategorized_recurring_rules": 1,
    }
    assert not Category.objects.filter(pk=mine.pk).exists()
    assert Transaction.objects.filter(pk__in=[t.pk for t in used], category=None).count() == 3
    assert Transaction.objects.get(pk=other.pk).category == default_category()
    assert RecurringTransaction.objects.get(pk=rule.pk).category is None
    assert Transaction.objects.get(pk=their_row.pk).category is not None


def test_deleting_an_unused_category(auth_client, user):
    mine = CategoryFactory(user=user)
    response = auth_client(user).delete(f"/categories/{mine.id}")
    assert response.status_code == 200
    assert response.json()["uncategorized_transactions"] == 0


def test_transactions_show_the_category_renamed(auth_client, user):
    client = auth_client(user)
    mine = CategoryFactory(user=user, name="쇼핑", emoji="🛍️")
    row = TransactionFactory(user=user, category=mine, date=datetime.date(2025, 7, 1))
    client.patch(f"/categories/{mine.id}", {"name": "장보기"}, format="json")
    assert client.get(f"/transactions/{row.id}").json()["category_name"] == "장보기"


# --- tenant isolation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, payload",
    [("get", None), ("put", {"name": "x"}), ("patch", {"name": "x"}), ("delete", None)],
)
def test_another_users_category_is_404_like_a_random_id(
    auth_client, user, other_user, method, payload
):
    theirs = CategoryFactory(user=other_user, name="남의 것", emoji="🔒")
    used = TransactionFactory(user=other_user, category=theirs)
    call = getattr(auth_client(user), method)
    kwargs = {"format": "json"} if payload is not None else {}
    theirs_response = call(f"/categories/{theirs.id}", payload, **kwargs)
    random_response = call(f"/categories/{uuid.uuid4()}", payload, **kwargs)
    assert theirs_response.status_code == random_response.status_code == 404
    assert theirs_response.json() == random_response.json()
    theirs.refresh_from_db()
    assert (theirs.name, theirs.emoji, theirs.ledger.personal_for) == ("남의 것", "🔒", other_user)
    assert Transaction.objects.get(pk=used.pk).category == theirs


def test_another_users_categories_are_never_listed(auth_client, user, other_user):
    CategoryFactory(user=other_user, name="남의 것")
    names = [row["name"] for row in auth_client(user).get("/categories").json()]
    assert "남의 것" not in names and len(names) == 18


# --- query counts ---------------------------------------------------------------------------


def test_list_runs_a_constant_number_of_queries(auth_client, user, django_assert_max_num_queries):
    client = auth_client(user)

    def count():
        client.get("/categories")  # warm up
        with django_assert_max_num_queries(1 + AUTH_QUERIES) as captured:
            response = client.get("/categories")
        assert response.status_code == 200
        return len(response.json()), len(captured.captured_queries)

    CategoryFactory(user=user)
    rows_one, queries_one = count()
    CategoryFactory.create_batch(99, user=user)
    rows_hundred, queries_hundred = count()
    assert (rows_one, rows_hundred) == (19, 118)
    assert queries_hundred == queries_one
