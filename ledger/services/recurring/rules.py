"""Recurring rules: create, update, delete, validate — and what a change does to the rule's
future scheduled occurrences (SPEC §4). The occurrences themselves are written by the engine
(`ledger.services.recurring.engine`)."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction
from django.db.models import Q
from django.utils import timezone

from ledger.dates import local_today, month_start
from ledger.models import (
    Category,
    Frequency,
    RecurringOccurrence,
    RecurringTransaction,
    Transaction,
    TransactionStatus,
    TransactionType,
)
from ledger.selectors.recurring import recurring_occurrence_dates
from ledger.services.recurring.engine import (
    _occurrence_description,
    _variable_estimates,
    recurring_horizon,
    recurring_materialize,
)
from ledger.services.revisions import revision_bump

# Rules per INSERT of `recurring_bulk_create`.
BULK_BATCH_SIZE = 1000
EARLIEST_START = datetime.date(1970, 1, 1)

# The fields of a rule a caller may set; everything else (user, legacy_id, timestamps) is not.
RULE_FIELDS = (
    "template_name",
    "description",
    "amount",
    "type",
    "category",
    "frequency",
    "start_date",
    "end_date",
    "day_of_month",
    "is_active",
    "is_variable_amount",
)
# Every field a caller may set shapes the occurrences, so changing any of them rewrites the
# rule's future scheduled occurrences.
_OCCURRENCE_FIELDS = RULE_FIELDS


def recurring_bulk_create(
    *, user, rules: Sequence[RecurringTransaction]
) -> list[RecurringTransaction]:
    """Insert many prepared rules of `user` in batches (the import). The caller has validated
    each rule; no occurrence is materialized here. Returns the rules, ids set."""
    if any(rule.user_id != user.pk for rule in rules):
        raise ValueError("recurring_bulk_create: every rule must belong to `user`")
    if not rules:
        return []
    with db_transaction.atomic():
        revision_bump(user=user)
        return RecurringTransaction.objects.bulk_create(rules, batch_size=BULK_BATCH_SIZE)


def recurring_validate(*, rule: RecurringTransaction) -> None:
    """The rules a rule must satisfy, as a `ValidationError` naming the field at fault.
    (`recurring_create`/`recurring_update` call it; so does the admin's form, to show the
    error on the form.)"""
    errors: dict[str, list[str]] = {}
    if not (rule.template_name or "").strip():
        errors["template_name"] = ["This field may not be blank."]
    if rule.amount is None and not rule.is_variable_amount:
        errors["amount"] = ["An amount is required unless is_variable_amount is true."]
    if rule.amount is not None and rule.amount <= 0:
        errors["amount"] = ["Must be greater than 0."]
    if rule.type not in TransactionType.values:
        errors["type"] = [f"Must be one of: {', '.join(TransactionType.values)}."]
    if rule.frequency not in Frequency.values:
        errors["frequency"] = [f"Must be one of: {', '.join(Frequency.values)}."]
    if not 1 <= (rule.day_of_month or 0) <= 31:
        errors["day_of_month"] = ["Enter a whole number from 1 to 31."]
    if rule.start_date and rule.start_date < EARLIEST_START:
        # Every month since the start is materialized; bound what one request can write.
        errors["start_date"] = [f"Must be {EARLIEST_START:%Y-%m} or later."]
    if rule.start_date and rule.end_date and rule.end_date < rule.start_date:
        errors["end_date"] = ["The end must not be before the start."]
    if rule.category_id is not None and not Category.objects.filter(
        Q(user__isnull=True) | Q(user_id=rule.user_id), pk=rule.category_id
    ).exists():
        errors["category"] = ["Unknown category."]
    if errors:
        raise ValidationError(errors)


@db_transaction.atomic
def recurring_create(
    *,
    user,
    template_name: str,
    type: str,
    start_date: datetime.date,
    day_of_month: int,
    amount: Decimal | None = None,
    description: str = "",
    category: Category | None = None,
    frequency: str = Frequency.MONTHLY,
    end_date: datetime.date | None = None,
    is_active: bool = True,
    is_variable_amount: bool = False,
    today: datetime.date | None = None,
) -> RecurringTransaction:
    """Create a rule and materialize its occurrences from its start through the horizon.

    A start in the past fills those months (confirmed, or scheduled for variable amounts).
    """
    rule = RecurringTransaction(
        user=user,
        template_name=template_name,
        description=description or "",
        amount=amount,
        type=type,
        category=category,
        frequency=frequency,
        start_date=start_date,
        end_date=end_date,
        day_of_month=day_of_month,
        is_active=is_active,
        is_variable_amount=is_variable_amount,
    )
    recurring_validate(rule=rule)
    rule.save()
    recurring_materialize(rule=rule, today=today)
    return rule


@dataclass
class RuleUpdateResult:
    rule: RecurringTransaction
    updated: int = 0  # future scheduled occurrences rewritten with the rule's new values
    removed: int = 0  # future scheduled occurrences no longer in effect, deleted
    created: int = 0  # occurrences newly in effect, materialized


@db_transaction.atomic
def recurring_update(
    *, rule: RecurringTransaction, data: dict, today: datetime.date | None = None
) -> RuleUpdateResult:
    """Change a rule and bring its future `scheduled` occurrences in line with it.

    "Future" means dated after today. Occurrences that are no longer in effect (a new day, an
    earlier end, deactivation) are deleted; the ones still in effect get the new description,
    amount, type and category; newly in-effect dates are materialized. Confirmed transactions —
    history — are never touched, and an edit never back-fills the past: dates before today the
    new terms would have yielded (a new day, an earlier start, months while the rule was
    inactive) are recorded as skipped.
    """
    today = today or local_today()
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise ValueError(f"not rule fields: {sorted(unknown)}")
    locked = RecurringTransaction.objects.select_for_update().get(pk=rule.pk)
    # History is the rule as it was: catch up on anything it missed through today first.
    created_before = len(recurring_materialize(rule=locked, through=today, today=today))
    for name, value in data.items():
        setattr(locked, name, value)
    recurring_validate(rule=locked)
    locked.save()

    result = RuleUpdateResult(rule=locked)
    # An edit never rewrites the past: dates before today that the new terms would have
    # yielded (a new day, an earlier start, months while inactive) stay empty.
    _skip_past_dates(rule=locked, today=today)
    if any(name in data for name in _OCCURRENCE_FIELDS):
        result.updated, result.removed = _reconcile_future(rule=locked, today=today)
    result.created = created_before + len(recurring_materialize(rule=locked, today=today))
    return result


def _skip_past_dates(*, rule: RecurringTransaction, today: datetime.date) -> None:
    """Record the rule's dates before today that never materialized, so they stay empty."""
    yesterday = today - datetime.timedelta(days=1)
    if rule.start_date > yesterday:
        return
    dates = recurring_occurrence_dates(
        rule=rule, date_from=month_start(rule.start_date), date_to=yesterday
    )
    RecurringOccurrence.objects.bulk_create(
        [RecurringOccurrence(recurring=rule, date=day) for day in dates],
        ignore_conflicts=True,
    )


def _reconcile_future(*, rule: RecurringTransaction, today: datetime.date) -> tuple[int, int]:
    """Delete or rewrite the rule's scheduled occurrences dated after `today`."""
    future = list(
        Transaction.objects.filter(
            recurring=rule, status=TransactionStatus.SCHEDULED, date__gt=today
        ).order_by("date")
    )
    last_date = max([t.date for t in future], default=today)
    wanted = set(
        recurring_occurrence_dates(
            rule=rule,
            date_from=today + datetime.timedelta(days=1),
            date_to=max(last_date, recurring_horizon(today=today)),
        )
    )
    stale = [t for t in future if t.date not in wanted]
    keep = [t for t in future if t.date in wanted]
    # Future records of dates no longer in effect go too, so the dates can return if the rule
    # is changed back; records of dates still in effect stay (a user's deletion holds).
    RecurringOccurrence.objects.filter(recurring=rule, date__gt=today).exclude(
        date__in=wanted
    ).delete()
    removed = 0
    if stale:
        removed, _ = Transaction.objects.filter(pk__in=[t.pk for t in stale]).delete()
    if keep:
        estimate = _variable_estimates([rule]).get(rule.pk)
        now = timezone.now()
        for occurrence in keep:
            occurrence.description = _occurrence_description(rule)
            if rule.amount is not None:
                occurrence.amount = rule.amount
            elif occurrence.amount is None:
                # A variable rule without an estimate: keep an amount the user already entered.
                occurrence.amount = estimate
            occurrence.type = rule.type
            occurrence.category_id = rule.category_id
            occurrence.updated_at = now
        Transaction.objects.bulk_update(
            keep, ["description", "amount", "type", "category", "updated_at"]
        )
    return len(keep), removed


@db_transaction.atomic
def recurring_delete(*, rule: RecurringTransaction) -> int:
    """Delete a rule. Confirmed transactions stay (their `recurring` becomes NULL); the rule's
    scheduled occurrences are deleted with it, in one database transaction.

    Returns how many scheduled transactions were removed.
    """
    locked = RecurringTransaction.objects.select_for_update().get(pk=rule.pk)
    removed, _ = Transaction.objects.filter(
        recurring=locked, status=TransactionStatus.SCHEDULED
    ).delete()
    locked.delete()  # occurrence records cascade; confirmed transactions are SET NULL
    return removed


