"""The date rules of SPEC §4: which days a recurring rule yields a transaction on."""

import datetime
from datetime import date
from decimal import Decimal

import pytest

from ledger.models import RecurringOccurrence, RecurringTransaction
from ledger.selectors.recurring import recurring_occurrence_dates, recurring_projection
from ledger.services.ledgers import personal_ledger
from ledger.tests.factories import RecurringTransactionFactory, TransactionFactory


def rule(**fields):
    defaults = dict(
        template_name="월세",
        amount=Decimal("550000"),
        type="expense",
        frequency="monthly",
        start_date=date(2024, 1, 1),
        end_date=None,
        day_of_month=25,
        is_active=True,
    )
    return RecurringTransaction(**{**defaults, **fields})


def dates(r, start, end):
    return recurring_occurrence_dates(rule=r, date_from=start, date_to=end)


def test_day_31_clamps_to_february_end_in_a_non_leap_year():
    assert dates(rule(day_of_month=31), date(2025, 2, 1), date(2025, 2, 28)) == [date(2025, 2, 28)]


def test_day_31_clamps_to_february_29_in_a_leap_year():
    assert dates(rule(day_of_month=31), date(2024, 2, 1), date(2024, 2, 29)) == [date(2024, 2, 29)]


def test_day_31_clamps_to_april_30():
    assert dates(rule(day_of_month=31), date(2025, 4, 1), date(2025, 4, 30)) == [date(2025, 4, 30)]


def test_monthly_rule_yields_every_month_through_the_end_month_inclusive():
    r = rule(start_date=date(2025, 1, 1), end_date=date(2025, 3, 1), day_of_month=25)
    assert dates(r, date(2024, 12, 1), date(2025, 6, 30)) == [
        date(2025, 1, 25),
        date(2025, 2, 25),
        date(2025, 3, 25),
    ]


def test_start_month_counts_whole_even_when_start_is_mid_month():
    r = rule(start_date=date(2025, 3, 15), day_of_month=5)
    assert dates(r, date(2025, 3, 1), date(2025, 4, 30)) == [date(2025, 3, 5), date(2025, 4, 5)]


def test_yearly_rule_yields_once_a_year_in_the_start_month():
    r = rule(frequency="yearly", start_date=date(2023, 8, 1), day_of_month=10)
    assert dates(r, date(2023, 1, 1), date(2025, 12, 31)) == [
        date(2023, 8, 10),
        date(2024, 8, 10),
        date(2025, 8, 10),
    ]


def test_inactive_rule_yields_nothing():
    assert dates(rule(is_active=False), date(2025, 1, 1), date(2025, 12, 31)) == []


def test_range_cuts_occurrences_outside_it():
    assert dates(rule(day_of_month=25), date(2025, 5, 26), date(2025, 6, 24)) == []


@pytest.mark.django_db
def test_projection_skips_generated_and_deleted_occurrences(user, other_user):
    # given a rule with one generated occurrence and one the user deleted
    r = RecurringTransactionFactory(user=user, start_date=date(2025, 5, 1), day_of_month=31)
    TransactionFactory(user=user, recurring=r, date=date(2025, 5, 31))
    RecurringOccurrence.objects.create(recurring=r, date=date(2025, 6, 30))
    RecurringTransactionFactory(user=other_user, start_date=date(2025, 1, 1))

    # when
    projected = recurring_projection(
        ledger=personal_ledger(user=user), date_from=date(2025, 5, 1), date_to=date(2025, 8, 31)
    )

    # then only the untouched months are projected, clamped, and only the user's own rule
    assert [(p.rule.id, p.date) for p in projected] == [
        (r.id, date(2025, 7, 31)),
        (r.id, date(2025, 8, 31)),
    ]
    assert projected[0].amount == Decimal("550000")


@pytest.mark.django_db
def test_projection_runs_a_fixed_number_of_queries(user, django_assert_num_queries):
    for day in range(1, 21):
        RecurringTransactionFactory(user=user, day_of_month=day)
    ledger = personal_ledger(user=user)
    with django_assert_num_queries(1):
        projected = recurring_projection(
            ledger=ledger,
            date_from=date(2025, 1, 1),
            date_to=date(2025, 12, 31),
        )
    assert len(projected) == 20 * 12
    assert isinstance(projected[0].date, datetime.date)
