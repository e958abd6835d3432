"""The data migration to ledgers on a database with users' data: each user gets a personal
ledger with an owner membership and their revision, every row moves into it with its id, and
row counts and amount totals per user are the same before and after."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Sum

BEFORE = [("ledger", "0015_ledgers"), ("accounts", "0004_user_sync_floor")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_every_users_rows_move_into_their_personal_ledger():
    old = _migrate(BEFORE)
    User = old.get_model("accounts", "User")
    Category = old.get_model("ledger", "Category")
    Rule = old.get_model("ledger", "RecurringTransaction")
    Transaction = old.get_model("ledger", "Transaction")
    Occurrence = old.get_model("ledger", "RecurringOccurrence")
    Budget = old.get_model("ledger", "Budget")
    BudgetLine = old.get_model("ledger", "BudgetLine")
    Tombstone = old.get_model("ledger", "Tombstone")
    before = {}
    for n in range(3):
        user = User.objects.create(username=f"m{n}", clerk_user_id=f"user_m{n}", revision=10 + n)
        own = Category.objects.create(user=user, name=f"내 것 {n}")
        rule = Rule.objects.create(
            user=user,
            template_name="월세",
            amount=Decimal("550000"),
            type="expense",
            start_date=datetime.date(2025, 1, 1),
            day_of_month=25,
        )
        for day in range(1, 4 + n):
            Transaction.objects.create(
                user=user,
                date=datetime.date(2025, 7, day),
                description="점심",
                amount=Decimal(1000 * day + n),
                type="expense",
                category=own,
            )
        Transaction.objects.create(
            user=user,
            date=datetime.date(2025, 7, 25),
            description="월세",
            amount=Decimal("550000"),
            type="expense",
            recurring=rule,
        )
        Occurrence.objects.create(recurring=rule, date=datetime.date(2025, 7, 25))
        budget = Budget.objects.create(user=user, month=datetime.date(2025, 7, 1), total=1000)
        BudgetLine.objects.create(budget=budget, category=own, amount=Decimal("500"))
        Tombstone.objects.create(user=user, kind="transactions", object_id=rule.pk, revision=3)
        totals = Transaction.objects.filter(user=user).aggregate(n=Count("id"), s=Sum("amount"))
        before[user.pk] = {
            "transactions": (totals["n"], totals["s"]),
            "ids": set(Transaction.objects.filter(user=user).values_list("pk", flat=True)),
            "revision": user.revision,
        }

    new = _migrate(_leaves())
    Ledger = new.get_model("ledger", "Ledger")
    Membership = new.get_model("ledger", "Membership")
    Transaction = new.get_model("ledger", "Transaction")
    for user_id, was in before.items():
        ledger = Ledger.objects.get(personal_for_id=user_id)
        assert ledger.revision == was["revision"]
        assert list(Membership.objects.filter(ledger=ledger).values_list("user_id", "role")) == [
            (user_id, "owner")
        ]
        rows = Transaction.objects.filter(ledger=ledger)
        totals = rows.aggregate(n=Count("id"), s=Sum("amount"))
        assert (totals["n"], totals["s"]) == was["transactions"]
        assert set(rows.values_list("pk", flat=True)) == was["ids"]
        assert set(rows.values_list("created_by_id", flat=True)) == {user_id}
        for model in ("Category", "RecurringTransaction", "Budget", "Tombstone"):
            assert new.get_model("ledger", model).objects.filter(ledger=ledger).count() == 1
        for model in ("RecurringOccurrence", "BudgetLine"):
            assert new.get_model("ledger", model).objects.filter(ledger=ledger).count() == 1


def _leaves():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
