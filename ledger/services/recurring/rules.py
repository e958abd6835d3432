"""Recurring rules: validate, create, update, delete — and what a change does to the rule's
future scheduled occurrences (SPEC §4). The occurrences themselves are written by the engine
(`ledger.services.recurring.engine`).

Every write bumps the owner's revision in its database transaction. A rule's row is locked
before its owner's (the engine's order), so a rule's writers cannot deadlock on each other.
"""

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction

from ledger.dates import DATE_RANGE_MESSAGE, date_in_range, local_today, month_start
from ledger.models import (
    Category,
    Frequency,
    RecurringTransaction,
    SyncKind,
    Transaction,
    TransactionStatus,
    TransactionType,
)
from ledger.selectors.categories import category_list
from ledger.selectors.recurring import (
    recurring_amount_estimates,
    recurring_occurrence_dates,
    recurring_occurrence_description,
)
from ledger.services.recurring.engine import (
    recurring_horizon,
    recurring_materialize,
    recurring_occurrence_bulk_record,
    recurring_occurrence_release,
)
from ledger.services.revisions import revision_bump, tombstone_record
from ledger.services.transactions import (
    transaction_bulk_change,
    transaction_bulk_delete,
    transaction_bulk_update,
)

# Rules per INSERT of `recurring_bulk_create`.
BULK_BATCH_SIZE = 1000

# The fields of a rule a caller may set; everything else (ledger, legacy_id, timestamps) is not.
# Each of them shapes the occurrences, so changing any rewrites the future scheduled ones.
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


def recurring_validate(*, rule: RecurringTransaction) -> None:
    """The rules a rule must satisfy, as a `ValidationError` naming the field at fault — the
    one place they live (`recurring_create`/`recurring_update` call it; so does the admin's
    form, to show the error on the form)."""
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
    # The product's one date range: nothing computed from a rule can then overflow.
    for name in ("start_date", "end_date"):
        value = getattr(rule, name)
        if value is not None and not date_in_range(value):
            errors[name] = [DATE_RANGE_MESSAGE]
    if rule.start_date is None:
        errors["start_date"] = ["This field is required."]
    elif rule.end_date and rule.end_date < rule.start_date and "end_date" not in errors:
        errors["end_date"] = ["The end must not be before the start."]
    if (
        rule.category_id is not None
        and not category_list(ledger=rule.ledger).filter(pk=rule.category_id).exists()
    ):
        errors["category"] = ["Unknown category."]
    if errors:
        raise ValidationError(errors)


def recurring_bulk_create(
    *, ledger, rules: Sequence[RecurringTransaction]
) -> list[RecurringTransaction]:
    """Insert many prepared rules of `ledger` in batches (the import). The caller has validated
    each rule; no occurrence is materialized here. Returns the rules, ids set."""
    if any(rule.ledger_id != ledger.pk for rule in rules):
        raise ValueError("recurring_bulk_create: every rule must belong to `ledger`")
    if not rules:
        return []
    with db_transaction.atomic():
        revision = revision_bump(ledger=ledger)
        for rule in rules:
            rule.revision = revision
        return RecurringTransaction.objects.bulk_create(rules, batch_size=BULK_BATCH_SIZE)


def recurring_bulk_set_import_hash(*, ledger, hashes: Mapping) -> None:
    """Record the importer's `import_hash` of some of `ledger`'s rules (id → hash; see
    ledger.services.backup.merge). Bookkeeping that nothing renders: no other field changes,
    and the rules' occurrences are not touched."""
    if not hashes:
        return
    with db_transaction.atomic():
        revision_bump(ledger=ledger)
        for pk, value in hashes.items():
            RecurringTransaction.objects.filter(ledger=ledger, pk=pk).update(import_hash=value)


@db_transaction.atomic
def recurring_create(
    *,
    ledger,
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
    created_by=None,
) -> RecurringTransaction:
    """Create a rule (entered by `created_by`, a user or None) and materialize its
    occurrences from its start through the horizon.

    A start in the past fills those months (confirmed, or scheduled for variable amounts).
    """
    rule = RecurringTransaction(
        ledger=ledger,
        created_by=created_by,
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
    rule.revision = revision_bump(ledger=ledger)
    rule.save()
    recurring_materialize(rule=rule, today=today)
    return rule


def _lock(rule: RecurringTransaction) -> RecurringTransaction:
    """The rule's row, locked until the caller's transaction ends, with its owner loaded. The
    owner is locked first (its revision bumped, and the rule stamped with it for its save),
    as every writer does."""
    revision = revision_bump(ledger=rule.ledger)
    locked = (
        RecurringTransaction.objects.select_for_update(of=("self",))
        .select_related("ledger")
        .get(pk=rule.pk)
    )
    locked.revision = revision
    return locked


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
    locked = _lock(rule)
    # History is the rule as it was: catch up on anything it missed through today first.
    created_before = len(recurring_materialize(rule=locked, through=today, today=today))
    for name, value in data.items():
        setattr(locked, name, value)
    recurring_validate(rule=locked)
    locked.save()

    result = RuleUpdateResult(rule=locked)
    _skip_past_dates(rule=locked, today=today)
    if data:
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
    recurring_occurrence_bulk_record(rule_dates=((rule.ledger_id, rule.pk, day) for day in dates))


def _reconcile_future(*, rule: RecurringTransaction, today: datetime.date) -> tuple[int, int]:
    """Delete or rewrite the rule's scheduled occurrences dated after `today`; returns
    (rewritten, deleted)."""
    future_qs = Transaction.objects.filter(
        recurring=rule, status=TransactionStatus.SCHEDULED, date__gt=today
    )
    future = list(future_qs.order_by("date"))
    last_date = max([t.date for t in future], default=today)
    wanted = set(
        recurring_occurrence_dates(
            rule=rule,
            date_from=today + datetime.timedelta(days=1),
            date_to=max(last_date, recurring_horizon(today=today)),
        )
    )
    recurring_occurrence_release(rule=rule, after=today, keep=wanted)
    stale = [t.pk for t in future if t.date not in wanted]
    removed = (
        transaction_bulk_delete(ledger=rule.ledger, queryset=future_qs.filter(pk__in=stale))
        if stale
        else 0
    )
    keep = [t for t in future if t.date in wanted]
    estimate = recurring_amount_estimates(rules=[rule]).get(rule.pk)
    for occurrence in keep:
        occurrence.description = recurring_occurrence_description(rule)
        if rule.amount is not None:
            occurrence.amount = rule.amount
        elif occurrence.amount is None:
            # A variable rule without an estimate: keep an amount the ledger already entered.
            occurrence.amount = estimate
        occurrence.type = rule.type
        occurrence.category_id = rule.category_id
    transaction_bulk_update(
        ledger=rule.ledger, transactions=keep, fields=["description", "amount", "type", "category"]
    )
    return len(keep), removed


@db_transaction.atomic
def recurring_delete(*, rule: RecurringTransaction) -> int:
    """Delete a rule. Confirmed transactions stay (their `recurring` becomes NULL); the rule's
    scheduled occurrences are deleted with it, in one database transaction.

    Returns how many scheduled transactions were removed.
    """
    locked = _lock(rule)
    removed = transaction_bulk_delete(
        ledger=locked.ledger,
        queryset=Transaction.objects.filter(recurring=locked, status=TransactionStatus.SCHEDULED),
    )
    # Confirmed history stays, unlinked — a change of those rows, so at this revision too.
    transaction_bulk_change(
        ledger=locked.ledger,
        queryset=Transaction.objects.filter(recurring=locked),
        changes={"recurring": None},
        revision=locked.revision,
    )
    tombstone_record(
        ledger_id=locked.ledger_id,
        kind=SyncKind.RECURRING,
        object_ids=[locked.pk],
        revision=locked.revision,
    )
    locked.delete()  # occurrence records cascade
    return removed
