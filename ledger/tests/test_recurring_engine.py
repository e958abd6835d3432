"""The recurring rules and engine (`ledger.services.recurring`) and the nightly confirmation,
with the clock frozen in Asia/Seoul."""

import datetime
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from ledger.models import RecurringOccurrence, RecurringTransaction, Transaction
from ledger.services.ledgers import personal_ledger
from ledger.services.recurring.engine import (
    recurring_horizon,
    recurring_materialize,
    recurring_materialize_all,
    recurring_occurrence_bulk_record,
)
from ledger.services.recurring.rules import (
    recurring_bulk_create,
    recurring_create,
    recurring_delete,
    recurring_update,
)
from ledger.services.transactions import transaction_confirm_due
from ledger.tests.factories import (
    CategoryFactory,
    RecurringTransactionFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def clock(time_machine):
    """`clock(2025, 3, 10)` → it is noon that day in Seoul, and time stands still."""

    def move(year, month, day, hour=12, minute=0):
        time_machine.move_to(
            datetime.datetime(year, month, day, hour, minute, tzinfo=SEOUL), tick=False
        )

    return move


def create(user, **fields):
    defaults = dict(
        template_name="월세",
        amount=Decimal("550000"),
        type="expense",
        start_date=date(2025, 1, 1),
        day_of_month=25,
    )
    return recurring_create(ledger=personal_ledger(user=user), **{**defaults, **fields})


def ledger_of(rule):
    """[(date, status, amount)] of the rule's transactions, oldest first."""
    return list(
        Transaction.objects.filter(recurring=rule)
        .order_by("date")
        .values_list("date", "status", "amount")
    )


C, S = "confirmed", "scheduled"
RENT = Decimal("550000")


# --- Dates ----------------------------------------------------------------------------------


def test_horizon_is_the_end_of_next_month(clock):
    clock(2025, 1, 31)
    assert recurring_horizon() == date(2025, 2, 28)


def test_today_is_the_date_in_seoul_not_utc(clock):
    # 00:30 on 25 March in Seoul is still 24 March in UTC
    clock(2025, 3, 25, hour=0, minute=30)
    rule = create(RecurringTransactionFactory().ledger.personal_for, start_date=date(2025, 3, 1))
    assert ledger_of(rule) == [(date(2025, 3, 25), C, RENT), (date(2025, 4, 25), S, RENT)]


def test_rule_with_a_past_start_fills_past_months_confirmed_and_schedules_the_horizon(clock, user):
    # given it is 10 March
    clock(2025, 3, 10)

    # when a rule starting in January is created
    rule = create(user, start_date=date(2025, 1, 1))

    # then January and February are history, March and April are scheduled
    assert ledger_of(rule) == [
        (date(2025, 1, 25), C, RENT),
        (date(2025, 2, 25), C, RENT),
        (date(2025, 3, 25), S, RENT),
        (date(2025, 4, 25), S, RENT),
    ]
    assert RecurringOccurrence.objects.filter(recurring=rule).count() == 4
    t = Transaction.objects.filter(recurring=rule).first()
    assert (t.ledger.personal_for, t.description, t.type) == (user, "월세", "expense")


def test_occurrence_on_today_is_confirmed(clock, user):
    clock(2025, 3, 25)
    rule = create(user, start_date=date(2025, 3, 1))
    assert ledger_of(rule)[0] == (date(2025, 3, 25), C, RENT)


def test_day_31_clamps_to_february_29_in_a_leap_year(clock, user):
    clock(2024, 4, 15)
    rule = create(user, start_date=date(2024, 1, 1), day_of_month=31)
    assert ledger_of(rule) == [
        (date(2024, 1, 31), C, RENT),
        (date(2024, 2, 29), C, RENT),
        (date(2024, 3, 31), C, RENT),
        (date(2024, 4, 30), S, RENT),
        (date(2024, 5, 31), S, RENT),
    ]


def test_day_31_clamps_to_february_28_in_a_non_leap_year_and_april_30(clock, user):
    clock(2025, 2, 1)
    rule = create(user, start_date=date(2025, 2, 1), day_of_month=31)
    assert [d for d, _, _ in ledger_of(rule)] == [date(2025, 2, 28), date(2025, 3, 31)]
    clock(2025, 4, 2)
    recurring_materialize_all()
    assert [d for d, _, _ in ledger_of(rule)][-2:] == [date(2025, 4, 30), date(2025, 5, 31)]


def test_day_30_in_february_clamps_too(clock, user):
    clock(2025, 2, 1)
    rule = create(user, start_date=date(2025, 2, 1), day_of_month=30)
    assert [d for d, _, _ in ledger_of(rule)] == [date(2025, 2, 28), date(2025, 3, 30)]


def test_end_month_is_inclusive_even_when_end_date_is_its_first_day(clock, user):
    clock(2025, 6, 10)
    rule = create(user, start_date=date(2025, 1, 1), end_date=date(2025, 3, 1))
    assert [d for d, _, _ in ledger_of(rule)] == [
        date(2025, 1, 25),
        date(2025, 2, 25),
        date(2025, 3, 25),
    ]


def test_rule_starting_in_the_future_creates_nothing_until_it_is_in_the_horizon(clock, user):
    clock(2025, 3, 10)
    rule = create(user, start_date=date(2025, 6, 1))
    assert ledger_of(rule) == []

    clock(2025, 5, 1)
    recurring_materialize_all()
    assert ledger_of(rule) == [(date(2025, 6, 25), S, RENT)]


def test_yearly_rule_yields_once_a_year_in_its_start_month(clock, user):
    clock(2025, 3, 10)
    rule = create(
        user,
        frequency="yearly",
        start_date=date(2023, 8, 1),
        day_of_month=10,
        template_name="자동차보험",
        amount=Decimal("900000"),
    )
    assert ledger_of(rule) == [
        (date(2023, 8, 10), C, Decimal("900000")),
        (date(2024, 8, 10), C, Decimal("900000")),
    ]
    clock(2025, 7, 1)  # August is now within the horizon
    recurring_materialize_all()
    assert ledger_of(rule)[-1] == (date(2025, 8, 10), S, Decimal("900000"))


def test_inactive_rule_yields_nothing(clock, user):
    clock(2025, 3, 10)
    rule = create(user, is_active=False)
    assert recurring_materialize(rule=rule) == []
    assert recurring_materialize_all().created == 0
    assert ledger_of(rule) == []


def test_description_falls_back_to_the_template_name_and_category_is_copied(clock, user):
    clock(2025, 3, 10)
    category = CategoryFactory(user=user)
    rule = create(
        user,
        description="",
        template_name="넷플릭스",
        category=category,
        start_date=date(2025, 3, 1),
    )
    t = Transaction.objects.get(recurring=rule, date=date(2025, 3, 25))
    assert (t.description, t.category) == ("넷플릭스", category)


# --- Variable amounts -----------------------------------------------------------------------


def test_variable_rule_without_estimate_creates_pending_scheduled_occurrences(clock, user):
    clock(2025, 3, 10)
    rule = create(user, is_variable_amount=True, amount=None, start_date=date(2025, 2, 1))
    # past dates too stay scheduled: they are never confirmed without a real amount
    assert ledger_of(rule) == [
        (date(2025, 2, 25), S, None),
        (date(2025, 3, 25), S, None),
        (date(2025, 4, 25), S, None),
    ]
    assert transaction_confirm_due() == 0


def test_variable_rule_with_an_estimate_carries_it_and_never_auto_confirms(clock, user):
    clock(2025, 3, 10)
    rule = create(
        user, is_variable_amount=True, amount=Decimal("70000"), start_date=date(2025, 2, 1)
    )
    assert ledger_of(rule)[0] == (date(2025, 2, 25), S, Decimal("70000"))
    clock(2025, 5, 1)
    assert transaction_confirm_due() == 0


def test_variable_rule_estimates_from_its_last_confirmed_occurrence(clock, user):
    # given a pending occurrence the user confirmed with the real amount
    clock(2025, 3, 10)
    rule = create(user, is_variable_amount=True, amount=None, start_date=date(2025, 2, 1))
    Transaction.objects.filter(recurring=rule, date=date(2025, 2, 25)).update(
        amount=Decimal("81230"), status=C
    )

    # when the engine reaches May
    clock(2025, 4, 2)
    recurring_materialize_all()

    # then May carries February's real amount as its estimate
    assert ledger_of(rule)[-1] == (date(2025, 5, 25), S, Decimal("81230"))


def test_confirm_due_confirms_scheduled_transactions_dated_today_or_earlier(clock, user):
    clock(2025, 3, 10)
    rent = create(user, start_date=date(2025, 3, 1), day_of_month=12)
    manual = TransactionFactory(user=user, date=date(2025, 3, 11), status=S)
    clock(2025, 3, 12)

    assert transaction_confirm_due() == 2

    assert ledger_of(rent) == [(date(2025, 3, 12), C, RENT), (date(2025, 4, 12), S, RENT)]
    manual.refresh_from_db()
    assert manual.status == C


# --- Idempotency and deleted occurrences -----------------------------------------------------


def test_materialize_twice_creates_nothing_the_second_time(clock, user):
    clock(2025, 3, 10)
    rule = RecurringTransactionFactory(user=user, start_date=date(2025, 1, 1))
    assert len(recurring_materialize(rule=rule)) == 4
    assert recurring_materialize(rule=rule) == []
    assert recurring_materialize_all().created == 0
    assert Transaction.objects.filter(recurring=rule).count() == 4


def test_an_occurrence_the_user_deleted_is_not_re_created(clock, user):
    clock(2025, 3, 10)
    rule = create(user, start_date=date(2025, 1, 1))
    Transaction.objects.filter(
        recurring=rule, date__in=[date(2025, 2, 25), date(2025, 4, 25)]
    ).delete()

    recurring_materialize_all()
    recurring_materialize(rule=rule, through=date(2025, 12, 31))

    dates = [d for d, _, _ in ledger_of(rule)]
    assert date(2025, 2, 25) not in dates and date(2025, 4, 25) not in dates
    assert date(2025, 12, 25) in dates


def test_materialize_through_a_later_month_goes_beyond_the_horizon(clock, user):
    clock(2025, 3, 10)
    rule = RecurringTransactionFactory(user=user, start_date=date(2025, 3, 1))
    created = recurring_materialize(rule=rule, through=date(2025, 6, 30))
    assert [(t.date, t.status) for t in created] == [
        (date(2025, 3, 25), S),
        (date(2025, 4, 25), S),
        (date(2025, 5, 25), S),
        (date(2025, 6, 25), S),
    ]


def test_materialize_all_for_one_user_and_dry_run(clock, user, other_user):
    clock(2025, 3, 10)
    mine = RecurringTransactionFactory(user=user, start_date=date(2025, 3, 1))
    theirs = RecurringTransactionFactory(user=other_user, start_date=date(2025, 3, 1))
    seen = []

    dry = recurring_materialize_all(
        ledger=personal_ledger(user=user), dry_run=True, report=seen.extend
    )

    assert dry.created == 2 and len(seen) == 2
    assert Transaction.objects.count() == 0
    assert recurring_materialize_all(ledger=personal_ledger(user=user)).created == 2
    assert ledger_of(theirs) == [] and len(ledger_of(mine)) == 2


def test_materialize_all_in_small_batches_covers_every_rule(clock):
    clock(2025, 3, 10)
    rules = [RecurringTransactionFactory(start_date=date(2025, 3, 1)) for _ in range(7)]
    result = recurring_materialize_all(batch_size=2)
    assert (result.rules, result.created, result.batches) == (7, 14, 4)
    assert all(len(ledger_of(r)) == 2 for r in rules)


# --- Rule edits -----------------------------------------------------------------------------


def test_changing_the_amount_rewrites_future_scheduled_occurrences_only(clock, user):
    clock(2025, 3, 10)
    rule = create(user, start_date=date(2025, 1, 1))
    category = CategoryFactory(user=user)

    result = recurring_update(
        rule=rule,
        data={
            "amount": Decimal("600000"),
            "description": "새 월세",
            "category": category,
        },
    )

    assert (result.updated, result.removed, result.created) == (2, 0, 0)
    assert ledger_of(rule) == [
        (date(2025, 1, 25), C, RENT),
        (date(2025, 2, 25), C, RENT),
        (date(2025, 3, 25), S, Decimal("600000")),
        (date(2025, 4, 25), S, Decimal("600000")),
    ]
    future = Transaction.objects.get(recurring=rule, date=date(2025, 4, 25))
    assert (future.description, future.category) == ("새 월세", category)
    past = Transaction.objects.get(recurring=rule, date=date(2025, 1, 25))
    assert (past.description, past.category) == ("월세", None)


def test_changing_the_day_moves_future_scheduled_occurrences(clock, user):
    clock(2025, 3, 10)
    rule = create(user, start_date=date(2025, 1, 1))

    result = recurring_update(rule=rule, data={"day_of_month": 31})

    assert (result.removed, result.created) == (2, 2)
    assert [d for d, _, _ in ledger_of(rule)] == [
        date(2025, 1, 25),
        date(2025, 2, 25),
        date(2025, 3, 31),
        date(2025, 4, 30),
    ]
    # and changing it back restores the original future dates (nothing left behind)
    recurring_update(rule=rule, data={"day_of_month": 25})
    assert [d for d, _, _ in ledger_of(rule)][2:] == [date(2025, 3, 25), date(2025, 4, 25)]


def test_an_earlier_end_removes_scheduled_occurrences_after_it(clock, user):
    clock(2025, 3, 10)
    rule = create(user, start_date=date(2025, 1, 1))
    result = recurring_update(rule=rule, data={"end_date": date(2025, 3, 31)})
    assert result.removed == 1
    assert [d for d, _, _ in ledger_of(rule)] == [
        date(2025, 1, 25),
        date(2025, 2, 25),
        date(2025, 3, 25),
    ]


def test_deactivating_removes_future_scheduled_and_keeps_history(clock, user):
    clock(2025, 3, 10)
    rule = create(user, start_date=date(2025, 1, 1))

    result = recurring_update(rule=rule, data={"is_active": False})

    assert result.removed == 2
    assert ledger_of(rule) == [(date(2025, 1, 25), C, RENT), (date(2025, 2, 25), C, RENT)]
    clock(2025, 6, 1)
    assert recurring_materialize_all().created == 0


def test_reactivating_does_not_back_fill_the_inactive_months(clock, user):
    clock(2025, 3, 10)
    rule = create(user, start_date=date(2025, 1, 1))
    recurring_update(rule=rule, data={"is_active": False})

    clock(2025, 6, 10)
    recurring_update(rule=rule, data={"is_active": True})
    recurring_materialize_all()

    assert [(d, s) for d, s, _ in ledger_of(rule)] == [
        (date(2025, 1, 25), C),
        (date(2025, 2, 25), C),
        (date(2025, 6, 25), S),
        (date(2025, 7, 25), S),
    ]


def test_an_earlier_start_does_not_back_fill_the_past(clock, user):
    clock(2025, 3, 10)
    rule = create(user, start_date=date(2025, 3, 1))
    recurring_update(rule=rule, data={"start_date": date(2024, 6, 1)})
    assert [d for d, _, _ in ledger_of(rule)] == [date(2025, 3, 25), date(2025, 4, 25)]


def test_an_edit_first_catches_up_on_history_under_the_old_terms(clock, user):
    # given a rule whose February the engine missed
    clock(2025, 3, 10)
    rule = RecurringTransactionFactory(user=user, start_date=date(2025, 2, 1))

    # when its amount changes
    recurring_update(rule=rule, data={"amount": Decimal("600000")})

    # then February is history at the old amount, the future at the new one
    assert ledger_of(rule) == [
        (date(2025, 2, 25), C, RENT),
        (date(2025, 3, 25), S, Decimal("600000")),
        (date(2025, 4, 25), S, Decimal("600000")),
    ]


def test_invalid_rule_changes_are_refused_naming_the_field(clock, user, other_user):
    clock(2025, 3, 10)
    rule = create(user, start_date=date(2025, 3, 1))
    with pytest.raises(ValidationError) as end:
        recurring_update(rule=rule, data={"end_date": date(2025, 2, 28)})
    with pytest.raises(ValidationError) as amount:
        recurring_update(rule=rule, data={"amount": None})
    with pytest.raises(ValidationError) as category:
        recurring_update(rule=rule, data={"category": CategoryFactory(user=other_user)})
    assert "end_date" in end.value.message_dict
    assert "amount" in amount.value.message_dict
    assert "category" in category.value.message_dict
    assert ledger_of(rule) == [(date(2025, 3, 25), S, RENT), (date(2025, 4, 25), S, RENT)]


# --- Delete ---------------------------------------------------------------------------------


def test_delete_keeps_confirmed_history_and_removes_scheduled(clock, user):
    clock(2025, 3, 10)
    rule = create(user, start_date=date(2025, 1, 1))
    pending = create(user, is_variable_amount=True, amount=None, start_date=date(2025, 3, 1))

    assert recurring_delete(rule=rule) == 2
    assert recurring_delete(rule=pending) == 2

    kept = list(Transaction.objects.order_by("date").values_list("date", "status", "recurring"))
    assert kept == [(date(2025, 1, 25), C, None), (date(2025, 2, 25), C, None)]
    assert RecurringOccurrence.objects.count() == 0


# --- Bulk writers (the import) --------------------------------------------------------------


def revision_of(user):
    return personal_ledger(user=user).revision


def test_bulk_create_inserts_rules_without_materializing_and_bumps_the_revision(
    clock, user, other_user
):
    clock(2025, 3, 10)
    before = revision_of(user)
    rules = [
        RecurringTransaction(
            ledger=personal_ledger(user=user),
            template_name=f"규칙 {n}",
            amount=RENT,
            type="expense",
            start_date=date(2025, 1, 1),
            day_of_month=n + 1,
        )
        for n in range(3)
    ]

    created = recurring_bulk_create(ledger=personal_ledger(user=user), rules=rules)

    assert [r.pk for r in created] == [r.pk for r in rules]
    assert RecurringTransaction.objects.filter(ledger__personal_for=user).count() == 3
    assert Transaction.objects.count() == 0  # the importer decides what is history
    assert revision_of(user) > before
    with pytest.raises(ValueError):
        recurring_bulk_create(
            ledger=personal_ledger(user=other_user),
            rules=[
                RecurringTransaction(
                    ledger=personal_ledger(user=user),
                    template_name="x",
                    amount=RENT,
                    type="expense",
                    start_date=date(2025, 1, 1),
                    day_of_month=1,
                )
            ],
        )


def test_recorded_dates_are_not_materialized_and_recording_twice_is_harmless(clock, user):
    clock(2025, 3, 10)
    rule = RecurringTransactionFactory(user=user, start_date=date(2025, 1, 1))
    pairs = [
        (rule.ledger_id, rule.pk, date(2025, 1, 25)),
        (rule.ledger_id, rule.pk, date(2025, 2, 25)),
    ]

    recurring_occurrence_bulk_record(rule_dates=pairs)
    recurring_occurrence_bulk_record(rule_dates=pairs)  # ON CONFLICT DO NOTHING

    assert RecurringOccurrence.objects.filter(recurring=rule).count() == 2
    assert [d for d, _, _ in ledger_of(rule)] == []
    recurring_materialize(rule=rule)
    assert [d for d, _, _ in ledger_of(rule)] == [date(2025, 3, 25), date(2025, 4, 25)]
