"""The recurring engine: rules in, transactions out (SPEC §4 and §7).

Every writer of recurring occurrences goes through this module: the `/recurring` API
(create, update, delete, generate), the Celery tasks (`ledger.tasks`) and the
`materialize_recurring` management command.

Design
------
- Which dates a rule yields is `ledger.selectors.recurring.recurring_occurrence_dates`.
- A rule's occurrences are every in-effect date from its start through a horizon (by default
  the rest of this month plus `RECURRING_HORIZON_MONTHS` more). Past dates are filled too,
  so a rule created with a past start, or a run after the beat was down, fills every gap.
- Each materialized (rule, date) leaves a `RecurringOccurrence` record. The engine writes a
  transaction only for dates with no record, so an occurrence the user deleted is never
  re-created.
- Concurrency: a writer locks the rule's row (`SELECT … FOR UPDATE`, in primary-key order;
  batch runs use `SKIP LOCKED` so two workers split the rules instead of waiting), then reads
  the records and inserts what is missing. The unique (rule, date) constraints on both tables,
  with `ON CONFLICT DO NOTHING`, are the last line of defence, not the plan.
- Status: `confirmed` when the date is today or earlier in `TIME_ZONE`, else `scheduled`.
  Variable-amount rules always create `scheduled` occurrences carrying an estimate (the rule's
  amount, else the last confirmed occurrence's amount, else NULL = "amount pending"); they are
  never confirmed automatically.
"""

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction
from django.db.models import Q
from django.utils import timezone

from ledger.dates import add_months, local_today, month_end, month_start
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

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500

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
# Changing any of these rewrites the rule's future scheduled occurrences.
_OCCURRENCE_FIELDS = (
    "description",
    "template_name",
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


# --- Horizon --------------------------------------------------------------------------------


def recurring_horizon(*, today: datetime.date | None = None) -> datetime.date:
    """The last date the engine materializes ahead: the end of the month
    `RECURRING_HORIZON_MONTHS` after today's (default 1: the rest of this month and next)."""
    today = today or local_today()
    return month_end(add_months(today, settings.RECURRING_HORIZON_MONTHS))


# --- Rules: create, update, delete ----------------------------------------------------------


def _validate_rule(rule: RecurringTransaction) -> None:
    """The rules a rule must satisfy, as a `ValidationError` naming the field at fault."""
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
    _validate_rule(rule)
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
    _validate_rule(locked)
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


# --- Materialization ------------------------------------------------------------------------


def _occurrence_description(rule: RecurringTransaction) -> str:
    return (rule.description or "").strip() or rule.template_name


def _variable_estimates(rules: Iterable[RecurringTransaction]) -> dict:
    """For variable-amount rules without an amount: their last confirmed occurrence's amount."""
    ids = [r.pk for r in rules if r.is_variable_amount and r.amount is None]
    if not ids:
        return {}
    return dict(
        Transaction.objects.filter(
            recurring_id__in=ids, status=TransactionStatus.CONFIRMED, amount__isnull=False
        )
        .order_by("recurring_id", "-date", "-created_at")
        .distinct("recurring_id")
        .values_list("recurring_id", "amount")
    )


def _missing_occurrences(
    *, rules: list[RecurringTransaction], through: datetime.date, today: datetime.date
) -> list[Transaction]:
    """The transactions `rules` should have through `through` and have never had (unsaved)."""
    candidates: dict = {}
    for rule in rules:
        dates = recurring_occurrence_dates(
            rule=rule, date_from=month_start(rule.start_date), date_to=through
        )
        if dates:
            candidates[rule.pk] = (rule, dates)
    if not candidates:
        return []
    earliest = min(dates[0] for _, dates in candidates.values())
    done = set(
        RecurringOccurrence.objects.filter(
            recurring_id__in=list(candidates), date__gte=earliest, date__lte=through
        ).values_list("recurring_id", "date")
    )
    estimates = _variable_estimates(rule for rule, _ in candidates.values())
    now = timezone.now()
    missing = []
    for rule, dates in candidates.values():
        for day in dates:
            if (rule.pk, day) in done:
                continue
            if rule.is_variable_amount:
                amount = rule.amount if rule.amount is not None else estimates.get(rule.pk)
                status = TransactionStatus.SCHEDULED
            else:
                amount = rule.amount
                status = (
                    TransactionStatus.CONFIRMED if day <= today else TransactionStatus.SCHEDULED
                )
            missing.append(
                Transaction(
                    user_id=rule.user_id,
                    date=day,
                    description=_occurrence_description(rule),
                    amount=amount,
                    type=rule.type,
                    category_id=rule.category_id,
                    status=status,
                    recurring_id=rule.pk,
                    created_at=now,
                    updated_at=now,
                )
            )
    return missing


def _write(occurrences: list[Transaction], *, batch_size: int) -> None:
    """Insert occurrences and their records. Callers hold the rules' row locks."""
    if not occurrences:
        return
    now = occurrences[0].created_at
    RecurringOccurrence.objects.bulk_create(
        [
            RecurringOccurrence(recurring_id=t.recurring_id, date=t.date, created_at=now)
            for t in occurrences
        ],
        batch_size=batch_size,
        ignore_conflicts=True,
    )
    Transaction.objects.bulk_create(occurrences, batch_size=batch_size, ignore_conflicts=True)


def recurring_materialize(
    *,
    rule: RecurringTransaction,
    through: datetime.date | None = None,
    today: datetime.date | None = None,
) -> list[Transaction]:
    """Write the rule's missing occurrences from its start through `through` (default: the
    horizon). Idempotent: a second call creates nothing. Returns the created transactions,
    oldest first, with their categories loaded.

    Waits for a concurrent writer of the same rule rather than skipping it, so when it returns
    every occurrence through `through` exists (or was deliberately deleted).
    """
    today = today or local_today()
    through = through or recurring_horizon(today=today)
    with db_transaction.atomic():
        locked = (
            RecurringTransaction.objects.select_for_update().filter(pk=rule.pk).first()
        )
        if locked is None or not locked.is_active:
            return []
        missing = _missing_occurrences(rules=[locked], through=through, today=today)
        _write(missing, batch_size=DEFAULT_BATCH_SIZE)
        if not missing:
            return []
        # Only what this call inserted (the constraint may have refused a racing duplicate).
        return list(
            Transaction.objects.filter(pk__in=[t.pk for t in missing])
            .select_related("category")
            .order_by("date")
        )


@dataclass
class MaterializeResult:
    rules: int = 0  # active rules examined
    created: int = 0  # transactions created
    batches: int = 0
    per_rule: dict = field(default_factory=dict)  # rule id → created count (only with a report)


def recurring_materialize_all(
    *,
    through: datetime.date | None = None,
    today: datetime.date | None = None,
    user=None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    report: Callable[[list[Transaction]], None] | None = None,
) -> MaterializeResult:
    """Materialize every active rule of every user (or of one `user`) through `through`.

    Rules are processed in primary-key order, `batch_size` at a time, one database
    transaction per batch: memory stays bounded whatever the number of rules. A batch locks
    its rules with `FOR UPDATE SKIP LOCKED`, so two workers running at once split the work
    instead of duplicating or waiting for it; rules locked by another writer are that writer's.
    `report` receives each batch's created (or, with `dry_run`, would-be) transactions.
    """
    today = today or local_today()
    through = through or recurring_horizon(today=today)
    result = MaterializeResult()
    rules = RecurringTransaction.objects.filter(is_active=True).only(
        "id", "user_id", "template_name", "description", "amount", "type", "category_id",
        "frequency", "start_date", "end_date", "day_of_month", "is_active",
        "is_variable_amount",
    )
    if user is not None:
        rules = rules.filter(user=user)
    last_pk = None
    while True:
        with db_transaction.atomic():
            batch_qs = rules.order_by("pk")
            if last_pk is not None:
                batch_qs = batch_qs.filter(pk__gt=last_pk)
            if not dry_run:
                batch_qs = batch_qs.select_for_update(skip_locked=True)
            batch = list(batch_qs[:batch_size])
            if not batch:
                break
            last_pk = batch[-1].pk
            missing = _missing_occurrences(rules=batch, through=through, today=today)
            if not dry_run:
                _write(missing, batch_size=batch_size * 2)
        result.rules += len(batch)
        result.created += len(missing)
        result.batches += 1
        if report is not None and missing:
            report(missing)
    logger.info(
        "recurring materialized: %d rules, %d transactions created through %s%s",
        result.rules, result.created, through, " (dry run)" if dry_run else "",
    )
    return result


# --- Confirmation ---------------------------------------------------------------------------


def transaction_confirm_due(
    *, today: datetime.date | None = None, batch_size: int = 5000
) -> int:
    """Turn `scheduled` transactions dated today or earlier (in `TIME_ZONE`) into `confirmed`.

    Occurrences of variable-amount rules are left for the user to confirm with the real amount;
    so is anything without an amount. Runs in batches; returns how many were confirmed.
    """
    today = today or local_today()
    due = (
        Transaction.objects.filter(
            status=TransactionStatus.SCHEDULED, date__lte=today, amount__isnull=False
        )
        .filter(Q(recurring__isnull=True) | Q(recurring__is_variable_amount=False))
        .order_by("pk")
    )
    confirmed = 0
    last_pk = None
    while True:
        page = due if last_pk is None else due.filter(pk__gt=last_pk)
        ids = list(page.values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        last_pk = ids[-1]
        confirmed += Transaction.objects.filter(
            pk__in=ids, status=TransactionStatus.SCHEDULED
        ).update(status=TransactionStatus.CONFIRMED, updated_at=timezone.now())
    if confirmed:
        logger.info("confirmed %d due scheduled transactions (through %s)", confirmed, today)
    return confirmed
