"""`GET /sync?since=`: every write is visible as a change after the revision it happened at.

Rows are written through the API (the services stamp revisions and leave tombstones), so
these tests also hold every writer to the rule.
"""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from ledger.default_categories import DEFAULT_CATEGORIES
from ledger.models import Budget, Ledger, Tombstone, Transaction
from ledger.services.budgets import budget_bulk_delete
from ledger.services.ledgers import personal_ledger
from ledger.services.sync import sync_tombstones_purge
from ledger.services.transactions import transaction_bulk_create, transaction_confirm_due

pytestmark = pytest.mark.django_db


def _lunch(client, **extra):
    body = {"date": "2025-07-25", "description": "점심", "amount": 5400, "type": "expense"}
    response = client.post("/transactions", {**body, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _sync(client, since, **params):
    response = client.get("/sync", {"since": since, **params})
    assert response.status_code == 200, response.content
    return response.json()


def _all_pages(client, since=0, limit=1000):
    pages = []
    while True:
        page = _sync(client, since, limit=limit)
        pages.append(page)
        since = page["revision"]
        if not page["has_more"]:
            return pages


def test_a_full_snapshot_has_every_row_in_its_usual_rendering(auth_client, user):
    # given
    client = auth_client(user)
    created = _lunch(client)
    category = client.post("/categories", {"name": "쇼핑"}, format="json").json()
    # when
    page = _sync(client, 0)
    # then
    assert page["has_more"] is False
    user.refresh_from_db()
    assert page["revision"] == Ledger.objects.get(personal_for=user).revision > 0
    assert page["transactions"] == [client.get(f"/transactions/{created['id']}").json()]
    names = [row["name"] for row in page["categories"]]
    assert set(names) == {name for name, _ in DEFAULT_CATEGORIES} | {"쇼핑"}
    assert category in page["categories"]
    assert page["deleted"] == {
        "transactions": [],
        "recurring": [],
        "categories": [],
        "budgets": [],
    }


def test_a_delta_holds_exactly_what_changed_and_what_was_deleted(auth_client, user):
    client = auth_client(user)
    kept = _lunch(client, description="유지")
    edited = _lunch(client, description="수정 전")
    doomed = _lunch(client, description="삭제")
    since = _sync(client, 0)["revision"]
    # when: one edit, one deletion, one creation
    client.patch(f"/transactions/{edited['id']}", {"description": "수정 후"}, format="json")
    client.delete(f"/transactions/{doomed['id']}")
    new = _lunch(client, description="새것")
    page = _sync(client, since)
    # then
    assert [row["description"] for row in page["transactions"]] == ["수정 후", "새것"]
    assert kept["id"] not in {row["id"] for row in page["transactions"]}
    assert page["deleted"]["transactions"] == [doomed["id"]]
    assert page["transactions"][1]["id"] == new["id"]
    assert page["revision"] > since
    # and nothing more after it
    assert _sync(client, page["revision"])["transactions"] == []


def test_nothing_new_costs_no_query_beyond_authentication_and_the_ledger(
    auth_client, user, django_assert_max_num_queries
):
    client = auth_client(user)
    _lunch(client)
    revision = _sync(client, 0)["revision"]
    # the user's row, and the request's ledger (ledger.api.scope): nothing for the sync itself
    with django_assert_max_num_queries(2):
        page = _sync(client, revision)
    assert page == {
        "revision": revision,
        "has_more": False,
        "transactions": [],
        "recurring": [],
        "categories": [],
        "budgets": [],
        "deleted": {"transactions": [], "recurring": [], "categories": [], "budgets": []},
    }


def test_pages_hold_whole_revisions_and_together_are_the_snapshot(auth_client, user):
    # given: 4,500 rows from one bulk write (three batches, three revisions) and a few more
    rows = [
        Transaction(
            ledger=personal_ledger(user=user),
            date=datetime.date(2025, 7, 1) + datetime.timedelta(days=n % 28),
            description=f"행 {n}",
            amount=Decimal(1000 + n),
            type="expense",
        )
        for n in range(4500)
    ]
    transaction_bulk_create(ledger=personal_ledger(user=user), transactions=rows)
    client = auth_client(user)
    for _ in range(3):
        _lunch(client)
    # when
    pages = _all_pages(client, limit=2500)
    # then: every row once, pages in revision order, none splitting a revision
    ids = [row["id"] for page in pages for row in page["transactions"]]
    assert len(ids) == len(set(ids)) == 4503
    assert len(pages) >= 2
    assert all(page["has_more"] for page in pages[:-1]) and not pages[-1]["has_more"]
    revisions = [page["revision"] for page in pages]
    assert revisions == sorted(revisions)


def test_rule_and_category_deletions_show_their_consequences(auth_client, user):
    client = auth_client(user)
    category = client.post("/categories", {"name": "주거"}, format="json").json()
    rule = client.post(
        "/recurring",
        {
            "template_name": "월세",
            "amount": 550000,
            "type": "expense",
            "start_date": "2025-01",
            "day_of_month": 25,
            "category": category["id"],
        },
        format="json",
    ).json()
    history = client.get(f"/transactions?recurring={rule['id']}&status=confirmed").json()
    assert history["count"] > 0
    scheduled = client.get(f"/transactions?recurring={rule['id']}&status=scheduled").json()
    since = _sync(client, 0)["revision"]
    # when
    client.delete(f"/recurring/{rule['id']}")
    client.delete(f"/categories/{category['id']}")
    page = _sync(client, since)
    # then: the rule and its scheduled rows are tombstones; its history is unlinked
    assert page["deleted"]["recurring"] == [rule["id"]]
    assert set(page["deleted"]["transactions"]) == {row["id"] for row in scheduled["results"]}
    assert page["deleted"]["categories"] == [category["id"]]
    changed = {row["id"]: row for row in page["transactions"]}
    assert set(changed) == {row["id"] for row in history["results"]}
    assert all(row["recurring"] is None and row["category"] is None for row in changed.values())


def test_the_nightly_confirmation_is_a_change(auth_client, user):
    client = auth_client(user)
    scheduled = _lunch(client, status="scheduled", date="2025-07-25")
    since = _sync(client, 0)["revision"]
    transaction_confirm_due(today=datetime.date(2025, 7, 25))
    page = _sync(client, since)
    assert [(row["id"], row["status"]) for row in page["transactions"]] == [
        (scheduled["id"], "confirmed")
    ]


def test_another_users_writes_never_show(auth_client, user, other_user):
    mine = auth_client(user)
    since = _sync(mine, 0)["revision"]
    theirs = auth_client(other_user)
    created = _lunch(theirs)
    theirs.delete(f"/transactions/{created['id']}")
    page = _sync(mine, since)
    assert page["transactions"] == [] and page["deleted"]["transactions"] == []


def test_a_since_older_than_the_kept_tombstones_must_start_again(auth_client, user):
    client = auth_client(user)
    doomed = _lunch(client)
    since = _sync(client, 0)["revision"]
    client.delete(f"/transactions/{doomed['id']}")
    _lunch(client)
    later = timezone.now() + datetime.timedelta(days=91)
    with time_machine.travel(later, tick=False):
        assert sync_tombstones_purge() == 1
    assert not Tombstone.objects.exists()
    # when: a client that last synced before the purged deletion
    response = client.get("/sync", {"since": since})
    # then
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "sync_reset_required"
    # a full snapshot still works, and so does a since after the floor
    snapshot = _sync(client, 0)
    assert _sync(client, snapshot["revision"])["transactions"] == []


def test_a_since_beyond_the_data_must_start_again(auth_client, user):
    response = auth_client(user).get("/sync", {"since": 10**9})
    assert response.status_code == 410


@pytest.mark.parametrize("query", [{}, {"since": "-1"}, {"since": "x"}, {"since": 0, "limit": 0}])
def test_bad_parameters_are_a_400_naming_them(auth_client, user, query):
    response = auth_client(user).get("/sync", query)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) <= {"since", "limit"}


def _food(client):
    return next(row for row in client.get("/categories").json() if row["name"] == "식비")


def _budget(client, month, total, category, amount):
    body = {"total": total, "categories": [{"category": category["id"], "amount": amount}]}
    response = client.put(f"/budgets/{month}", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_budget_changes_come_in_the_budgets_rendering_with_their_id(auth_client, user):
    # given: two changes, read back through GET /budgets for their own months
    client = auth_client(user)
    food = _food(client)
    _budget(client, "2025-03", 2000000, food, 500000)
    _budget(client, "2025-07", None, food, 600000)
    # when
    page = _sync(client, 0)
    # then: each change as GET /budgets renders its month, plus the change's id
    rendered = [{k: v for k, v in row.items() if k != "id"} for row in page["budgets"]]
    assert rendered == [
        client.get("/budgets/2025-03").json(),
        client.get("/budgets/2025-07").json(),
    ]
    assert [row["since"] for row in page["budgets"]] == ["2025-03", "2025-07"]
    assert page["budgets"][0]["categories"][0]["amount"] == 500000
    assert len({row["id"] for row in page["budgets"]}) == 2


def test_a_replaced_budget_comes_again_and_a_removed_one_is_a_tombstone(auth_client, user):
    client = auth_client(user)
    food = _food(client)
    _budget(client, "2025-03", 2000000, food, 500000)
    _budget(client, "2025-05", 2100000, food, 550000)
    snapshot = _sync(client, 0)
    march, may = snapshot["budgets"]
    # when: March's change is replaced, May's removed
    _budget(client, "2025-03", 1800000, food, 450000)
    assert client.delete("/budgets/2025-05").status_code == 200
    page = _sync(client, snapshot["revision"])
    # then
    assert [(row["id"], row["total"]) for row in page["budgets"]] == [(march["id"], 1800000)]
    assert page["deleted"]["budgets"] == [may["id"]]
    assert _sync(client, page["revision"])["budgets"] == []
    # a deletion of nothing changes nothing
    revision = page["revision"]
    assert client.delete("/budgets/2025-05").status_code == 404
    assert _sync(client, revision)["deleted"]["budgets"] == []


def test_an_import_that_replaces_budgets_leaves_their_tombstones(auth_client, user):
    client = auth_client(user)
    food = _food(client)
    change = _budget(client, "2025-03", 2000000, food, 500000)
    snapshot = _sync(client, 0)
    ids = [row["id"] for row in snapshot["budgets"]]
    assert change["since"] == "2025-03"
    # when: the import's replace removes every change
    assert budget_bulk_delete(ledger=personal_ledger(user=user), queryset=Budget.objects.all()) == 1
    page = _sync(client, snapshot["revision"])
    assert page["deleted"]["budgets"] == ids
    assert page["budgets"] == []


def test_a_snapshot_in_pages_smaller_than_the_defaults_ends(auth_client, user):
    # given: more default categories than a page holds, and rows of the user's own
    client = auth_client(user)
    own = [_lunch(client, description=f"점심 {n}")["id"] for n in range(3)]
    # when: since=0 in pages of one row
    pages = _all_pages(client, since=0, limit=1)
    # then: paging moves on (no page ends where it started) and the pages are the snapshot
    assert len(pages) <= 4
    revisions = [page["revision"] for page in pages]
    assert revisions == sorted(set(revisions)) and revisions[0] > 0
    names = [row["name"] for page in pages for row in page["categories"]]
    assert sorted(names) == sorted(name for name, _ in DEFAULT_CATEGORIES)
    assert [row["id"] for page in pages for row in page["transactions"]] == own
