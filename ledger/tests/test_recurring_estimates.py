"""A rule's estimate (`recurring_estimate_sql`): its last confirmed occurrence's amount, for a
variable rule without an amount of its own only."""

import datetime
from decimal import Decimal

import pytest

from ledger.selectors.recurring import recurring_amount_estimates
from ledger.tests.factories import RecurringTransactionFactory, TransactionFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def occurrence(rule, day, amount, status="confirmed"):
    return TransactionFactory(
        user=rule.created_by,
        recurring=rule,
        date=day,
        amount=None if amount is None else Decimal(amount),
        status=status,
    )


def test_a_variable_rule_without_an_amount_takes_its_last_confirmed_occurrence(user):
    rule = RecurringTransactionFactory(user=user, amount=None, is_variable_amount=True)
    occurrence(rule, D(2025, 5, 25), 38000)
    occurrence(rule, D(2025, 6, 25), 42000)  # the last confirmed
    occurrence(rule, D(2025, 7, 25), 51000, status="scheduled")  # not confirmed
    occurrence(rule, D(2025, 8, 25), None, status="scheduled")  # pending

    assert recurring_amount_estimates(rules=[rule]) == {rule.pk: Decimal("42000.00")}


def test_a_rule_with_an_amount_or_not_variable_or_never_confirmed_has_none(user):
    fixed = RecurringTransactionFactory(user=user, is_variable_amount=False)
    variable_with_amount = RecurringTransactionFactory(
        user=user, amount=Decimal(30000), is_variable_amount=True
    )
    never_confirmed = RecurringTransactionFactory(user=user, amount=None, is_variable_amount=True)
    for rule in (fixed, variable_with_amount):
        occurrence(rule, D(2025, 6, 25), 42000)
    occurrence(never_confirmed, D(2025, 6, 25), None, status="scheduled")

    assert recurring_amount_estimates(rules=[fixed, variable_with_amount, never_confirmed]) == {}


def test_no_rules_or_only_rules_with_an_amount_ask_no_query(user, django_assert_num_queries):
    with_amount = RecurringTransactionFactory(user=user, amount=Decimal(30000))
    with django_assert_num_queries(0):
        assert recurring_amount_estimates(rules=[]) == {}
        assert recurring_amount_estimates(rules=[with_amount]) == {}
