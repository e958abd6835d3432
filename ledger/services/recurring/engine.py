"""The recurring engine: rules in, transactions out (SPEC §4 and §7).

- Which dates a rule yields, an occurrence's description and a variable rule's estimated
  amount are `ledger.selectors.recurring`'s; this module only writes what they compute.
- A rule's occurrences are every in-effect date from its start through a horizon (by default
  the rest of this month plus `RECURRING_HORIZON_MONTHS` more). Past dates are filled too, so
  a rule created with a past start, or a run after the beat was down, fills every gap.
- Each materialized (rule, date) leaves a `RecurringOccurrence` record; this module is that
  table's one writer (`recurring_occurrence_bulk_record`, `recurring_occurrence_release`). The
  engine writes a transaction only for dates with no record, so an occurrence the ledger deleted
  is never re-created. Transactions go through `ledger.services.transactions`, their one writer.
- Concurrency: a writer locks the rule's row (`SELECT … FOR UPDATE`; the all-users run uses
  `SKIP LOCKED` so two workers split the rules instead of waiting), then reads the records and
  writes what is missing. The unique (rule, date) keys of both tables, with `ON CONFLICT DO
  NOTHING`, are the last line of defence, not the plan. Locks are taken rule first, then the
  owners' rows (the revision bump) in primary-key order.
- Status: `confirmed` when the date is today or earlier in `TIME_ZONE`, else `scheduled`.
  Variable-amount rules always create `scheduled` occurrences carrying an estimate (the rule's
  amount, else the last confirmed occurrence's amount, else NULL = "amount pending"); they are
  never confirmed automatically (`ledger.services.transactions.transaction_confirm_due`).
"""

import datetime
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import attrgetter

from django.conf import settings
from django.db import transaction as db_transaction

from ledger.dates import add_months, local_today, month_end, month_start
from ledger.models import RecurringOccurrence, RecurringTransaction, Transaction, TransactionStatus
from ledger.selectors.recurring import (
    recurring_amount_estimates,
    recurring_occurrence_dates,
    recurring_occurrence_description,
)
from ledger.services.revisions import owner_lock
from ledger.services.transactions import transaction_bulk_create_for_owners

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
# Occurrence records per INSERT: (rule, date, created_at) stays well under 65,535 parameters.
OCCURRENCE_BATCH_SIZE = 5000
# What the all-users run reads of a rule: everything an occurrence is made from.
_RULE_COLUMNS = (
    "id",
    "ledger_id",
    "created_by_id",
    "template_name",
    "description",
    "amount",
    "type",
    "category_id",
    "frequency",
    "start_date",
    "end_date",
    "day_of_month",
    "is_active",
    "is_variable_amount",
)


def recurring_horizon(*, today: datetime.date | None = None) -> datetime.date:
    """The last date the engine materializes ahead: the end of the month
    `RECURRING_HORIZON_MONTHS` after today's (default 1: the rest of this month and next)."""
    today = today or local_today()
    return month_end(add_months(today, settings.RECURRING_HORIZON_MONTHS))


def recurring_occurrence_bulk_record(
    *, rule_dates: Iterable[tuple[uuid.UUID, uuid.UUID, datetime.date]]
) -> None:
    """Record that each (ledger id, rule id, date) was materialized — the one writer of
    `RecurringOccurrence`. A pair already recorded is skipped (`ON CONFLICT DO NOTHING`), so
    concurrent writers and re-runs cannot fail on it. The caller writes the rules'
    transactions (or the rules) in the same database transaction, which bumps the revision."""
    records = [
        RecurringOccurrence(ledger_id=ledger_id, recurring_id=rule_id, date=day)
        for ledger_id, rule_id, day in rule_dates
    ]
    RecurringOccurrence.objects.bulk_create(
        records, batch_size=OCCURRENCE_BATCH_SIZE, ignore_conflicts=True
    )


def recurring_occurrence_release(
    *, rule: RecurringTransaction, after: datetime.date, keep: Iterable[datetime.date]
) -> None:
    """Forget the rule's records dated after `after` that are not in `keep` (dates a rule edit
    took out of effect), so those dates materialize again if the rule is changed back. Records
    of dates still in effect stay: a ledger's deletion of such an occurrence holds."""
    RecurringOccurrence.objects.filter(recurring=rule, date__gt=after).exclude(
        date__in=set(keep)
    ).delete()


def _planned(
    *, rules: list[RecurringTransaction], through: datetime.date, today: datetime.date
) -> list[Transaction]:
    """Unsaved transactions for every occurrence `rules` yield from their start through
    `through` that has no occurrence record yet, oldest first per rule."""
    dates = {
        rule.pk: recurring_occurrence_dates(
            rule=rule, date_from=month_start(rule.start_date), date_to=through
        )
        for rule in rules
    }
    earliest = min((days[0] for days in dates.values() if days), default=None)
    if earliest is None:
        return []
    done = set(
        RecurringOccurrence.objects.filter(
            recurring_id__in=[pk for pk, days in dates.items() if days], date__gte=earliest
        ).values_list("recurring_id", "date")
    )
    # Objects only for what is missing: a run with nothing to do builds none.
    missing = {pk: [d for d in days if (pk, d) not in done] for pk, days in dates.items()}
    pending = [rule for rule in rules if missing[rule.pk]]
    estimates = recurring_amount_estimates(rules=pending)
    planned = []
    for rule in pending:
        amount = rule.amount if rule.amount is not None else estimates.get(rule.pk)
        description = recurring_occurrence_description(rule)
        planned.extend(
            Transaction(
                ledger_id=rule.ledger_id,
                created_by_id=rule.created_by_id,
                date=day,
                description=description,
                amount=amount,
                type=rule.type,
                category_id=rule.category_id,
                status=(
                    TransactionStatus.CONFIRMED
                    if day <= today and not rule.is_variable_amount
                    else TransactionStatus.SCHEDULED
                ),
                recurring_id=rule.pk,
            )
            for day in missing[rule.pk]
        )
    return planned


def _write(planned: list[Transaction]) -> list[Transaction]:
    """Write `planned` (their rules locked by the caller): the transactions, then the
    occurrence records. Returns the transactions inserted."""
    inserted = transaction_bulk_create_for_owners(transactions=planned, ignore_conflicts=True)
    recurring_occurrence_bulk_record(
        rule_dates=((row.ledger_id, row.recurring_id, row.date) for row in planned)
    )
    return inserted


def recurring_materialize(
    *,
    rule: RecurringTransaction,
    through: datetime.date | None = None,
    today: datetime.date | None = None,
) -> list[Transaction]:
    """Write the rule's missing occurrences from its start through `through` (default: the
    horizon). Idempotent: a second call creates nothing. Returns the created transactions,
    oldest first.

    Waits for a concurrent writer of the same rule rather than skipping it, so when it returns
    every occurrence through `through` exists (or was deliberately deleted).
    """
    today = today or local_today()
    through = through or recurring_horizon(today=today)
    with db_transaction.atomic():
        owner_lock(ledger_ids=[rule.ledger_id])  # the owner before the rule, as every writer
        locked = RecurringTransaction.objects.select_for_update().filter(pk=rule.pk).first()
        if locked is None or not locked.is_active:
            return []
        planned = _planned(rules=[locked], through=through, today=today)
        if not planned:
            return []
        return sorted(_write(planned), key=attrgetter("date"))


@dataclass
class MaterializeResult:
    rules: int = 0  # active rules examined
    created: int = 0  # transactions created (or, in a dry run, that would be)
    batches: int = 0


def recurring_materialize_all(
    *,
    through: datetime.date | None = None,
    today: datetime.date | None = None,
    ledger=None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    report: Callable[[list[Transaction]], None] | None = None,
) -> MaterializeResult:
    """Materialize every active rule of every ledger (or of one `ledger`) through `through`.

    Rules are processed in primary-key order, `batch_size` at a time, one database
    transaction per batch: memory stays bounded whatever the number of rules. A batch locks
    its rules with `FOR UPDATE SKIP LOCKED`, so two workers running at once split the work
    instead of duplicating or waiting for it; rules locked by another writer are that writer's.
    `report` receives each batch's created (with `dry_run`: would-be, unsaved) transactions.
    """
    today = today or local_today()
    through = through or recurring_horizon(today=today)
    result = MaterializeResult()
    rules = RecurringTransaction.objects.filter(is_active=True).only(*_RULE_COLUMNS)
    if ledger is not None:
        rules = rules.filter(ledger=ledger)
    last_pk = None
    while True:
        with db_transaction.atomic():
            batch_qs = rules.order_by("pk")
            if last_pk is not None:
                batch_qs = batch_qs.filter(pk__gt=last_pk)
            candidates = list(batch_qs.values_list("pk", "ledger_id")[:batch_size])
            if not candidates:
                break
            last_pk = candidates[-1][0]
            if dry_run:
                batch = list(rules.filter(pk__in=[pk for pk, _ in candidates]).order_by("pk"))
            else:
                # The owners first (key order), as every writer; then the rules, skipping those
                # another writer holds: two runs at once split the work.
                owner_lock(ledger_ids=[ledger_id for _, ledger_id in candidates])
                batch = list(
                    rules.filter(pk__in=[pk for pk, _ in candidates])
                    .order_by("pk")
                    .select_for_update(skip_locked=True)
                )
            created = _planned(rules=batch, through=through, today=today)
            if created and not dry_run:
                created = _write(created)
        result.rules += len(batch)
        result.created += len(created)
        result.batches += 1
        if report is not None and created:
            report(created)
    logger.info(
        "recurring materialized: %d rules, %d transactions created through %s%s",
        result.rules,
        result.created,
        through,
        " (dry run)" if dry_run else "",
    )
    return result
