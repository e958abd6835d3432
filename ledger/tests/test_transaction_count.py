"""`Ledger.transaction_count` is kept by every writer of transactions, so the unfiltered list
can give its `count` without counting; a filtered list still counts."""

import importlib
import json

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.models import Ledger, Transaction
from ledger.services.ledgers import personal_ledger
from ledger.services.recurring.engine import recurring_materialize_all
from ledger.services.transactions import (
    transaction_bulk_create,
    transaction_bulk_create_for_owners,
)
from ledger.tests.backup_support import spa_fixture_bytes
from ledger.tests.factories import TransactionFactory, shared_ledger_with

pytestmark = pytest.mark.django_db


def _assert_kept(client, user) -> int:
    ledger = personal_ledger(user=user)
    ledger.refresh_from_db()
    held = Transaction.objects.filter(ledger=ledger).count()
    assert ledger.transaction_count == held
    assert client.get("/transactions?page_size=1").json()["count"] == held
    return held


@time_machine.travel("2025-08-02 12:00 +09:00", tick=False)
def test_every_writer_keeps_the_count(auth_client, user, other_user):
    client = auth_client(user)
    TransactionFactory.create_batch(3, user=other_user)  # another ledger's: never counted
    assert _assert_kept(client, user) == 0

    created = client.post(
        "/transactions",
        {"date": "2025-07-30", "description": "점심", "amount": 8500, "type": "expense"},
        format="json",
    ).json()
    assert _assert_kept(client, user) == 1

    # The engine: a rule started in the past fills its months up to the horizon.
    rule = client.post(
        "/recurring",
        {
            "template_name": "월세",
            "amount": 550000,
            "type": "expense",
            "start_date": "2025-05",
            "day_of_month": 25,
        },
        format="json",
    ).json()
    with_rule = _assert_kept(client, user)
    assert with_rule > 1
    recurring_materialize_all()  # nothing new: every occurrence is there already
    assert _assert_kept(client, user) == with_rule

    # A bulk insert whose rows a unique key already holds counts only the rows inserted.
    ledger = personal_ledger(user=user)
    duplicate = Transaction.objects.filter(ledger=ledger, recurring_id=rule["id"]).first()
    copy = Transaction(
        ledger=ledger,
        date=duplicate.date,
        description="월세",
        amount=duplicate.amount,
        type="expense",
        status=duplicate.status,
        recurring_id=rule["id"],
    )
    assert transaction_bulk_create(ledger=ledger, transactions=[copy], ignore_conflicts=True) == []
    assert _assert_kept(client, user) == with_rule

    # The import (batches through the bulk writer), then a re-import that skips every row.
    imported = client.post(
        "/backup/import", data=spa_fixture_bytes(), content_type="application/json"
    )
    assert imported.status_code == 200, imported.json()
    after_import = _assert_kept(client, user)
    assert after_import > with_rule
    client.post("/backup/import", data=spa_fixture_bytes(), content_type="application/json")
    assert _assert_kept(client, user) == after_import

    assert client.delete(f"/transactions/{created['id']}").status_code == 204
    assert _assert_kept(client, user) == after_import - 1

    # A rule's deletion removes its scheduled occurrences (a bulk delete).
    assert client.delete(f"/recurring/{rule['id']}").status_code == 200
    after_rule = _assert_kept(client, user)
    assert after_rule < after_import - 1

    # The import's replace mode deletes the ledger's transactions before it writes the file's.
    replaced = client.post(
        "/backup/import?mode=replace", data=spa_fixture_bytes(), content_type="application/json"
    )
    assert replaced.status_code == 200, replaced.json()
    assert _assert_kept(client, user) == len(json.loads(spa_fixture_bytes())["transactions"])


def test_the_unfiltered_list_does_not_count_and_a_filtered_one_does(auth_client, user):
    TransactionFactory.create_batch(3, user=user, type="expense")
    TransactionFactory(user=user, type="income")
    client = auth_client(user)
    for query, expected, counts in [
        ("page_size=2", 4, False),
        ("page_size=2&page=2", 4, False),
        ("type=income", 1, True),
        ("ordering=amount", 4, True),
    ]:
        with CaptureQueriesContext(connection) as queries:
            data = client.get(f"/transactions?{query}").json()
        assert data["count"] == expected, query
        counted = any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
        assert counted is counts, query


def test_the_count_is_the_ledgers_own(auth_client, user, other_user):
    # A shared ledger's list gives the shared ledger's count, not the member's personal one.
    shared = shared_ledger_with(owner=other_user, members={user: "viewer"})
    transaction_bulk_create(
        ledger=shared,
        transactions=[
            Transaction(
                ledger=shared, date="2025-07-01", description="장보기", amount=1, type="expense"
            )
            for _ in range(2)
        ],
    )
    TransactionFactory(user=user)
    client = auth_client(user)
    assert Ledger.objects.get(pk=shared.pk).transaction_count == 2
    assert client.get(f"/ledgers/{shared.pk}/transactions").json()["count"] == 2
    assert client.get("/transactions").json()["count"] == 1


def test_the_migration_counts_the_ledgers_that_exist(user, other_user):
    migration = importlib.import_module("ledger.migrations.0019_ledger_transaction_count")
    TransactionFactory.create_batch(3, user=user)
    Ledger.objects.update(transaction_count=0)  # as before the column existed
    with connection.cursor() as cursor:
        cursor.execute(migration.COUNT_EXISTING)
    assert personal_ledger(user=user).transaction_count == 3
    assert personal_ledger(user=other_user).transaction_count == 0


def test_a_batch_across_ledgers_counts_each_its_own(user, other_user):
    # The engine's batches span users: one statement adds each ledger's own rows.
    mine, theirs = personal_ledger(user=user), personal_ledger(user=other_user)
    rows = [
        Transaction(ledger=ledger, date="2025-07-01", description="x", amount=1, type="expense")
        for ledger in (mine, mine, mine, theirs)
    ]
    transaction_bulk_create_for_owners(transactions=rows)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.transaction_count, theirs.transaction_count) == (3, 1)
