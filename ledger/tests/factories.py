import datetime
from decimal import Decimal

import factory

from accounts.tests.factories import UserFactory
from ledger.models import Category, RecurringTransaction, Transaction


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"카테고리{n}")
    emoji = "🧾"
    is_default = False


class RecurringTransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecurringTransaction

    user = factory.SubFactory(UserFactory)
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

    user = factory.SubFactory(UserFactory)
    date = datetime.date(2025, 7, 25)
    description = factory.Sequence(lambda n: f"거래 {n}")
    amount = Decimal("5400")
    type = "expense"
    status = "confirmed"
