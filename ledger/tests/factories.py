"""Rows of a ledger for tests. `user=` is a shorthand for the user's personal ledger (and,
on transactions and rules, `created_by` that user); `ledger=` names any ledger."""

import datetime
from decimal import Decimal

import factory

from accounts.tests.factories import UserFactory
from ledger.models import (
    Category,
    Ledger,
    LedgerRole,
    Membership,
    RecurringTransaction,
    Transaction,
)
from ledger.services.ledgers import personal_ledger
from ledger.services.transactions import transaction_bulk_create


def _ledger_of(row):
    return personal_ledger(user=row.user)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    class Params:
        user = factory.SubFactory(UserFactory)

    ledger = factory.LazyAttribute(_ledger_of)
    name = factory.Sequence(lambda n: f"카테고리{n}")
    emoji = "🧾"
    is_default = False


class RecurringTransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecurringTransaction

    class Params:
        user = factory.SubFactory(UserFactory)

    ledger = factory.LazyAttribute(_ledger_of)
    created_by = factory.SelfAttribute("user")
    template_name = factory.Sequence(lambda n: f"정기 {n}")
    description = factory.SelfAttribute("template_name")
    amount = Decimal("550000")
    type = "expense"
    frequency = "monthly"
    start_date = datetime.date(2025, 1, 1)
    day_of_month = 25


class TransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Transaction

    class Params:
        user = factory.SubFactory(UserFactory)

    ledger = factory.LazyAttribute(_ledger_of)
    created_by = factory.SelfAttribute("user")
    date = datetime.date(2025, 7, 25)
    description = factory.Sequence(lambda n: f"거래 {n}")
    amount = Decimal("5400")
    type = "expense"
    status = "confirmed"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the transactions' one writer, as every row of the product is written: the
        # ledger's revision and its `transaction_count` follow.
        row = model_class(*args, **kwargs)
        [created] = transaction_bulk_create(ledger=row.ledger, transactions=[row])
        return created


def shared_ledger_with(*, owner, members: dict | None = None, name: str = "우리집"):
    """A shared ledger owned by `owner`, with `members` {user: role} — for tests only (the
    members' endpoints are the product's way to build one)."""

    ledger = Ledger.objects.create(name=name)
    Membership.objects.create(ledger=ledger, user=owner, role=LedgerRole.OWNER)
    for user, role in (members or {}).items():
        Membership.objects.create(ledger=ledger, user=user, role=role)
    return ledger
