"""The database, not only Python, enforces the ledger's invariants."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from ledger.models import Category, RecurringTransaction, Transaction
from ledger.services.ledgers import personal_ledger
from ledger.tests.factories import (
    CategoryFactory,
    RecurringTransactionFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

# Written out here, not imported, so a change to the defaults is a deliberate test change.
SPA_DEFAULTS = [
    ("식비", "🍽️"),
    ("간식류", "🍪"),
    ("카페", "☕"),
    ("농구 패배", "🏀"),
    ("교통비", "🚗"),
    ("문화생활", "🎭"),
    ("취미생활", "🎮"),
    ("의류", "👔"),
    ("생필품", "🛒"),
    ("미용", "💈"),
    ("의료비", "🏥"),
    ("교육", "📚"),
    ("월급", "💰"),
    ("월세", "🏠"),
    ("통신비", "📱"),
    ("구독료", "📺"),
    ("공과금", "⚡"),
    ("기타", "📝"),
]


def assert_rejected(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_default_categories_exist_in_the_spa_order():
    defaults = list(Category.objects.filter(ledger=None).values_list("name", "emoji"))
    assert defaults == SPA_DEFAULTS
    assert Category.objects.filter(ledger=None, is_default=False).count() == 0


def test_default_categories_migration_is_idempotent():
    from importlib import import_module

    from django.apps import apps

    module = import_module("ledger.migrations.0002_default_categories")
    module.create_defaults(apps, None)
    module.create_defaults(apps, None)
    assert list(Category.objects.filter(ledger=None).values_list("name", "emoji")) == SPA_DEFAULTS


@pytest.mark.parametrize(
    "field, value",
    [
        ("type", "refund"),
        ("status", "pending"),
        ("amount", Decimal("0")),
        ("amount", Decimal("-1")),
    ],
)
def test_transaction_rejects_invalid_values(user, field, value):
    assert_rejected(lambda: TransactionFactory(user=user, **{field: value}))


def test_transaction_amount_may_be_null_only_for_a_scheduled_occurrence(user):
    rule = RecurringTransactionFactory(user=user, amount=None, is_variable_amount=True)
    assert_rejected(lambda: TransactionFactory(user=user, amount=None))
    assert_rejected(
        lambda: TransactionFactory(user=user, amount=None, recurring=rule, status="confirmed")
    )
    pending = TransactionFactory(user=user, amount=None, recurring=rule, status="scheduled")
    assert pending.amount is None


def test_one_transaction_per_rule_and_date(user):
    rule = RecurringTransactionFactory(user=user)
    TransactionFactory(user=user, recurring=rule, date=datetime.date(2025, 7, 25))
    assert_rejected(
        lambda: TransactionFactory(user=user, recurring=rule, date=datetime.date(2025, 7, 25))
    )


def test_bulk_create_cannot_bypass_the_constraints(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.bulk_create(
            [
                Transaction(
                    ledger=personal_ledger(user=user),
                    date=datetime.date(2025, 1, 1),
                    description="ok",
                    amount=Decimal("1"),
                    type="expense",
                ),
                Transaction(
                    ledger=personal_ledger(user=user),
                    date=datetime.date(2025, 1, 1),
                    description="bad",
                    amount=Decimal("-5"),
                    type="expense",
                ),
            ]
        )
    assert Transaction.objects.count() == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"type": "transfer"},
        {"frequency": "weekly"},
        {"day_of_month": 0},
        {"day_of_month": 32},
        {"amount": Decimal("0")},
        {"amount": None, "is_variable_amount": False},
        {"start_date": datetime.date(2025, 5, 1), "end_date": datetime.date(2025, 4, 1)},
    ],
)
def test_recurring_rule_rejects_invalid_values(user, overrides):
    assert_rejected(lambda: RecurringTransactionFactory(user=user, **overrides))


def test_variable_rule_may_have_no_amount(user):
    rule = RecurringTransactionFactory(user=user, amount=None, is_variable_amount=True)
    assert RecurringTransaction.objects.get(pk=rule.pk).amount is None


def test_category_names_are_unique_per_user_and_among_defaults(user, other_user):
    CategoryFactory(user=user, name="쇼핑")
    CategoryFactory(user=other_user, name="쇼핑")  # another user may reuse the name
    assert_rejected(lambda: CategoryFactory(user=user, name="쇼핑"))
    assert_rejected(lambda: Category.objects.create(ledger=None, name="식비", is_default=True))


def test_a_default_category_has_no_user_and_a_user_category_is_not_default(user):
    assert_rejected(lambda: Category.objects.create(ledger=None, name="새 기본", is_default=False))
    assert_rejected(
        lambda: Category.objects.create(
            ledger=personal_ledger(user=user), name="내 것", is_default=True
        )
    )


def test_money_round_trips_as_decimal(user):
    row = TransactionFactory(user=user, amount=Decimal("1234567890123.45"))
    row.refresh_from_db()
    assert row.amount == Decimal("1234567890123.45")
    assert isinstance(row.amount, Decimal)
