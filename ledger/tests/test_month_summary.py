"""`MonthSummary` is kept by every writer of transactions: after each write it equals the
transactions summed anew, and the month-grained figures it answers (assets, the trend, the
budget) are those of the rows."""

import datetime
import importlib
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts.services.users import user_purge_deleted
from accounts.tests.factories import UserFactory
from ledger.models import Category, MonthSummary, Transaction
from ledger.services.ledgers import personal_ledger
from ledger.services.month_summaries import month_summary_update
from ledger.services.recurring.engine import recurring_materialize_all
from ledger.services.transactions import (
    transaction_bulk_create,
    transaction_bulk_create_for_owners,
    transaction_confirm_due,
)
from ledger.tests.backup_support import spa_fixture_bytes
from ledger.tests.factories import (
    RecurringTransactionFactory,
    TransactionFactory,
    shared_ledger_with,
)

pytestmark = pytest.mark.django_db

# The transactions summed anew, written here apart from the product's code on purpose.
_RECOMPUTED = """
SELECT ledger_id, date_trunc('month', date)::date, category_id, type, status, created_by_id,
       COALESCE(SUM(amount), 0), COUNT(*), COUNT(*) FILTER (WHERE amount IS NULL)
FROM ledger_transaction
GROUP BY 1, 2, 3, 4, 5, 6
"""


def _recomputed() -> set:
    with connection.cursor() as cursor:
        cursor.execute(_RECOMPUTED)
        return set(cursor.fetchall())


def _kept() -> set:
    return set(
        MonthSummary.objects.values_list(
            "ledger_id",
            "month",
            "category_id",
            "type",
            "status",
            "created_by_id",
            "total",
            "count",
            "pending",
        )
    )


def assert_kept():
    assert _kept() == _recomputed()


@time_machine.travel("2025-08-02 12:00 +09:00", tick=False)
def test_every_writer_keeps_the_summary(auth_client, user, other_user):
    client = auth_client(user)
    TransactionFactory.create_batch(3, user=other_user)
    assert_kept()

    created = client.post(
        "/transactions",
        {"date": "2025-07-30", "description": "점심", "amount": 8500, "type": "expense"},
        format="json",
    ).json()
    assert_kept()
    category = client.post("/categories", {"name": "외식"}, format="json").json()

    # Each field a group depends on, one edit at a time (the month too), and one it does not.
    for change in [
        {"amount": 9000},
        {"date": "2025-06-30"},
        {"category": category["id"]},
        {"status": "scheduled"},
        {"type": "income"},
        {"description": "저녁"},
    ]:
        response = client.patch(f"/transactions/{created['id']}", change, format="json")
        assert response.status_code == 200, response.json()
        assert_kept()

    # The engine: a rule started in the past fills its months up to the horizon; a
    # variable-amount rule's occurrences are pending (no amount).
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
    RecurringTransactionFactory(user=user, amount=None, is_variable_amount=True)
    recurring_materialize_all()
    assert Transaction.objects.filter(amount__isnull=True).exists()
    assert_kept()

    # A rule's edit rewrites its future occurrences (a bulk update).
    response = client.patch(f"/recurring/{rule['id']}", {"amount": 600000}, format="json")
    assert response.status_code == 200, response.json()
    assert_kept()

    # The nightly confirmation, a month later.
    with time_machine.travel("2025-09-30 12:00 +09:00", tick=False):
        assert transaction_confirm_due() > 0
    assert_kept()

    # The import, a re-import, then the category's deletion (its rows become uncategorized).
    imported = client.post(
        "/backup/import", data=spa_fixture_bytes(), content_type="application/json"
    )
    assert imported.status_code == 200, imported.json()
    assert_kept()
    client.post("/backup/import", data=spa_fixture_bytes(), content_type="application/json")
    assert_kept()
    client.patch(f"/transactions/{created['id']}", {"category": category["id"]}, format="json")
    assert client.delete(f"/categories/{category['id']}").status_code in (200, 204)
    assert_kept()

    assert client.delete(f"/transactions/{created['id']}").status_code == 204
    assert_kept()
    assert client.delete(f"/recurring/{rule['id']}").status_code == 200
    assert_kept()

    replaced = client.post(
        "/backup/import?mode=replace", data=spa_fixture_bytes(), content_type="application/json"
    )
    assert replaced.status_code == 200, replaced.json()
    assert_kept()
    assert not MonthSummary.objects.filter(count=0).exists()  # emptied groups are deleted


def test_an_emptied_group_is_deleted_and_a_nil_change_writes_nothing(user):
    ledger = personal_ledger(user=user)
    [row] = transaction_bulk_create(
        ledger=ledger,
        transactions=[
            Transaction(ledger=ledger, date="2025-07-01", description="x", amount=5, type="expense")
        ],
    )
    [group] = MonthSummary.objects.filter(ledger=ledger)
    assert (group.total, group.count, group.pending) == (Decimal("5.00"), 1, 0)
    row.refresh_from_db()
    key = (ledger.pk, group.month, None, "expense", "confirmed", None)
    month_summary_update(added={key: [Decimal(5), 1, 0]}, removed={key: [Decimal(5), 1, 0]})
    assert MonthSummary.objects.get(pk=group.pk).count == 1
    month_summary_update(removed={key: [Decimal(5), 1, 0]})
    assert not MonthSummary.objects.filter(ledger=ledger).exists()


def test_a_batch_across_ledgers_sums_each_its_own(user, other_user):
    mine, theirs = personal_ledger(user=user), personal_ledger(user=other_user)
    rows = [
        Transaction(ledger=ledger, date="2025-07-01", description="x", amount=1, type="expense")
        for ledger in (mine, mine, mine, theirs)
    ]
    transaction_bulk_create_for_owners(transactions=rows)
    assert MonthSummary.objects.get(ledger=mine).count == 3
    assert MonthSummary.objects.get(ledger=theirs).count == 1
    assert_kept()


def test_a_purged_account_leaves_its_shared_rows_without_author(user):
    # The author goes through the one writer: the shared ledger's revision moves and its
    # summary follows, where the foreign key's SET NULL would have done neither.
    departed = UserFactory(is_active=False, deleted_at=timezone.now() - datetime.timedelta(days=60))
    shared = shared_ledger_with(owner=user, members={departed: "editor"})
    transaction_bulk_create(
        ledger=shared,
        transactions=[
            Transaction(
                ledger=shared,
                created_by=author,
                date="2025-07-01",
                description="장보기",
                amount=1000,
                type="expense",
            )
            for author in (user, departed, departed)
        ],
    )
    shared.refresh_from_db()
    revision = shared.revision
    user_purge_deleted(older_than_days=30)
    shared.refresh_from_db()
    assert shared.revision > revision
    assert Transaction.objects.filter(ledger=shared, created_by__isnull=True).count() == 2
    assert_kept()


@time_machine.travel("2025-08-02 12:00 +09:00", tick=False)
def test_the_figures_it_answers_are_those_of_the_rows(auth_client, user):
    food = Category.objects.get(is_default=True, name="식비")
    ledger = personal_ledger(user=user)
    for date, amount, kind, status in [
        ("2025-05-03", 100000, "income", "confirmed"),
        ("2025-06-10", 2500, "expense", "confirmed"),
        ("2025-07-31", 4000, "expense", "confirmed"),
        ("2025-08-01", 7000, "expense", "confirmed"),
        ("2025-08-20", 3000, "expense", "scheduled"),
    ]:
        TransactionFactory(
            user=user,
            date=datetime.date.fromisoformat(date),
            amount=amount,
            type=kind,
            status=status,
            category=food,
        )
    client = auth_client(user)
    assets = client.get("/stats/assets").json()
    assert Decimal(str(assets["assets"])) == Decimal(100000 - 2500 - 4000 - 7000)
    # Up to a date inside a month: the months before from the summary, its days from the rows.
    as_of = client.get("/stats/assets?as_of=2025-07-30").json()
    assert Decimal(str(as_of["assets"])) == Decimal(100000 - 2500)
    trend = client.get("/stats/trend?months=4").json()
    assert [item["month"] for item in trend] == ["2025-05", "2025-06", "2025-07", "2025-08"]
    expense = [Decimal(str(item["expense"])) for item in trend]
    assert expense == [Decimal(0), Decimal(2500), Decimal(4000), Decimal(10000)]
    assert [item["count"] for item in trend] == [1, 1, 1, 2]
    assert Decimal(str(assets["scheduled_expense"])) == Decimal(3000)
    assert ledger.pk == MonthSummary.objects.values_list("ledger_id", flat=True).first()


def test_the_migration_sums_the_transactions_that_exist(user, other_user):
    migration = importlib.import_module("ledger.migrations.0020_month_summary")
    TransactionFactory.create_batch(3, user=user)
    TransactionFactory.create_batch(2, user=other_user, status="scheduled")
    MonthSummary.objects.all().delete()  # as before the table existed
    with connection.cursor() as cursor:
        cursor.execute(migration.SUM_EXISTING)
    assert_kept()
