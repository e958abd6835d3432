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
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db import transaction as db_transaction
from django.db.models import Q
from django.utils import timezone

from ledger.dates import add_months, local_today, month_end, month_start
from ledger.models import (
    RecurringOccurrence,
    RecurringTransaction,
    Transaction,
    TransactionStatus,
)
from ledger.selectors.recurring import recurring_occurrence_dates

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
# Occurrence records per INSERT: (rule, date, created_at) stays well under 65,535 parameters.
OCCURRENCE_BATCH_SIZE = 5000

# --- Horizon --------------------------------------------------------------------------------


def recurring_horizon(*, today: datetime.date | None = None) -> datetime.date:
    """The last date the engine materializes ahead: the end of the month
    `RECURRING_HORIZON_MONTHS` after today's (default 1: the rest of this month and next)."""
    today = today or local_today()
    return month_end(add_months(today, settings.RECURRING_HORIZON_MONTHS))


# --- Materialization ------------------------------------------------------------------------


def recurring_occurrence_bulk_record(
    *, rule_dates: Iterable[tuple[uuid.UUID, datetime.date]]
) -> None:
    """Record that each (rule id, date) was materialized — the one writer of
    `RecurringOccurrence`. A pair already recorded is skipped (`ON CONFLICT DO NOTHING`), so
    concurrent writers and re-runs cannot fail on it. The caller writes the rules'
    transactions (or the rules) in the same database transaction, which bumps the revision."""
    records = [RecurringOccurrence(recurring_id=rule_id, date=day) for rule_id, day in rule_dates]
    RecurringOccurrence.objects.bulk_create(
        records, batch_size=OCCURRENCE_BATCH_SIZE, ignore_conflicts=True
    )


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


# One planned occurrence: (rule, date, status, amount).
_Planned = tuple[RecurringTransaction, datetime.date, str, Decimal | None]


def _plan(
    *,
    rules: list[RecurringTransaction],
    through: datetime.date,
    today: datetime.date,
    estimates: dict | None = None,
) -> list[_Planned]:
    """Every occurrence `rules` yield from their start through `through`, with the status and
    amount each would be created with. With `estimates=None`, a variable rule without an amount
    plans NULL and the INSERT fills in its last confirmed amount (only for what it creates)."""
    planned = []
    for rule in rules:
        dates = recurring_occurrence_dates(
            rule=rule, date_from=month_start(rule.start_date), date_to=through
        )
        if not dates:
            continue
        if rule.is_variable_amount:
            amount = rule.amount
            if amount is None and estimates is not None:
                amount = estimates.get(rule.pk)
            planned.extend((rule, day, TransactionStatus.SCHEDULED, amount) for day in dates)
        else:
            planned.extend(
                (
                    rule,
                    day,
                    TransactionStatus.CONFIRMED if day <= today else TransactionStatus.SCHEDULED,
                    rule.amount,
                )
                for day in dates
            )
    return planned


def _unsaved(planned: Iterable[_Planned]) -> list[Transaction]:
    return [
        Transaction(
            user_id=rule.user_id,
            date=day,
            description=_occurrence_description(rule),
            amount=amount,
            type=rule.type,
            category_id=rule.category_id,
            status=status,
            recurring_id=rule.pk,
        )
        for rule, day, status, amount in planned
    ]


def _not_yet_materialized(planned: list[_Planned]) -> list[_Planned]:
    """`planned` minus the (rule, date) pairs that have an occurrence record (read only)."""
    if not planned:
        return []
    done = set(
        RecurringOccurrence.objects.filter(
            recurring_id__in={rule.pk for rule, *_ in planned},
            date__gte=min(day for _, day, *_ in planned),
        ).values_list("recurring_id", "date")
    )
    return [p for p in planned if (p[0].pk, p[1]) not in done]


def _transaction_insert_sql() -> tuple[str, list]:
    """The INSERT … SELECT that writes claimed occurrences as transactions.

    Columns the engine does not set get their model default, so a column added to
    `Transaction` later needs no change here.
    """
    from_rule = {
        "id": "gen_random_uuid()",
        "user_id": "r.user_id",
        "date": "c.date",
        "description": "COALESCE(NULLIF(btrim(r.description), ''), r.template_name)",
        # A variable rule without an amount: its last confirmed occurrence's, else NULL.
        "amount": f"""COALESCE(c.amount, (
            SELECT t.amount FROM {Transaction._meta.db_table} t
            WHERE t.recurring_id = r.id AND t.status = 'confirmed' AND t.amount IS NOT NULL
            ORDER BY t.date DESC, t.created_at DESC LIMIT 1))""",  # noqa: S608
        "type": "r.type",
        "category_id": "r.category_id",
        "status": "c.status",
        "recurring_id": "r.id",
        "created_at": "c.now",
        "updated_at": "c.now",
    }
    columns, expressions, params = [], [], []
    for model_field in Transaction._meta.concrete_fields:
        columns.append(connection.ops.quote_name(model_field.column))
        if model_field.attname in from_rule:
            expressions.append(from_rule[model_field.attname])
        else:
            expressions.append("%s")
            params.append(
                model_field.get_db_prep_save(model_field.get_default(), connection=connection)
            )
    sql = f"""
        INSERT INTO {Transaction._meta.db_table} ({", ".join(columns)})
        SELECT {", ".join(expressions)}
        FROM claimed k
        JOIN candidate c ON c.recurring_id = k.recurring_id AND c.date = k.date
        JOIN {RecurringTransaction._meta.db_table} r ON r.id = k.recurring_id
        ON CONFLICT DO NOTHING
        RETURNING id
    """  # noqa: S608 - table and column names come from the models
    return sql, params


def _uuid_text(rule: RecurringTransaction) -> str:
    """The rule's id as text, computed once per rule however many occurrences it has."""
    text = rule.__dict__.get("_pk_text")
    if text is None:
        text = rule.__dict__["_pk_text"] = str(rule.pk)
    return text


def _array_literal(items: Iterable[str]) -> str:
    """A PostgreSQL array literal of values that need no quoting (UUIDs, ISO dates, enum
    values, decimals, NULL)."""
    return "{" + ",".join(items) + "}"


def _write(planned: list[_Planned]) -> list:
    """Claim and write `planned` occurrences in one statement; returns the created ids.

    An occurrence is claimed by inserting its `RecurringOccurrence` record; a (rule, date)
    that already has one — materialized earlier, or deleted by the user — conflicts and is
    skipped (`ON CONFLICT DO NOTHING`), and only claimed ones become transactions. Callers hold
    the rules' row locks, so the constraints are the last line of defence, not the plan.
    """
    if not planned:
        return []
    occurrences = RecurringOccurrence._meta.db_table
    insert_transactions, params = _transaction_insert_sql()
    sql = f"""
        WITH candidate AS (
            SELECT c.*, %s::timestamptz AS now
            FROM unnest(%s::uuid[], %s::date[], %s::varchar[], %s::numeric[])
                AS c(recurring_id, date, status, amount)
        ), claimed AS (
            INSERT INTO {occurrences} (recurring_id, date, created_at)
            SELECT c.recurring_id, c.date, c.now FROM candidate c
            WHERE NOT EXISTS (
                SELECT 1 FROM {occurrences} o
                WHERE o.recurring_id = c.recurring_id AND o.date = c.date
            )
            ON CONFLICT (recurring_id, date) DO NOTHING
            RETURNING recurring_id, date
        )
        {insert_transactions}
    """  # noqa: S608 - table names come from the models
    # Array literals built here: much cheaper than adapting every element one by one.
    arrays = [
        _array_literal(_uuid_text(rule) for rule, *_ in planned),
        _array_literal(day.isoformat() for _, day, *_ in planned),
        _array_literal(str(status) for *_, status, _ in planned),
        _array_literal("NULL" if amount is None else str(amount) for *_, amount in planned),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [timezone.now(), *arrays, *params])
        return [row[0] for row in cursor.fetchall()]


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
        locked = RecurringTransaction.objects.select_for_update().filter(pk=rule.pk).first()
        if locked is None or not locked.is_active:
            return []
        created = _write(_plan(rules=[locked], through=through, today=today))
        if not created:
            return []
        return list(
            Transaction.objects.filter(pk__in=created).select_related("category").order_by("date")
        )


@dataclass
class MaterializeResult:
    rules: int = 0  # active rules examined
    created: int = 0  # transactions created (or, in a dry run, that would be)
    batches: int = 0


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
    `report` receives each batch's created (with `dry_run`: would-be, unsaved) transactions.
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
            if dry_run:
                planned = _plan(
                    rules=batch, through=through, today=today,
                    estimates=_variable_estimates(batch),
                )
                created = _unsaved(_not_yet_materialized(planned))
                count = len(created)
            else:
                ids = _write(_plan(rules=batch, through=through, today=today))
                count = len(ids)
                created = (
                    list(Transaction.objects.filter(pk__in=ids).order_by("date"))
                    if report is not None and ids
                    else []
                )
        result.rules += len(batch)
        result.created += count
        result.batches += 1
        if report is not None and created:
            report(created)
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
