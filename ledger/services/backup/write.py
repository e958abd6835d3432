"""The write step of an import: normalised rows → the user's categories, rules, transactions
and occurrence records, each through the service that owns its table.

The caller runs it inside one database transaction (all or nothing), holding the user's row
lock. Once any row is invalid nothing more is written, but every row still passes through, so
the report lists every problem. Re-imports add nothing twice: the unique (user, legacy_id) key
decides (`ON CONFLICT DO NOTHING`), as does the (rule, date) key of a rule's occurrence.

History stays as the browser had it: the SPA materialized its rules' occurrences itself, so a
past date of an imported browser rule with no transaction in the file was deleted by the user
(or never generated). Such dates are recorded as occurrences (`created["past_dates_closed"]`),
so the recurring engine fills only from the import day on and never back-fills the past.
"""

import datetime
import uuid

from django.core.exceptions import ValidationError
from django.utils import timezone

from ledger.dates import local_date, month_start
from ledger.models import Category, RecurringOccurrence, RecurringTransaction, Transaction
from ledger.selectors.recurring import recurring_occurrence_dates
from ledger.services.categories import category_bulk_delete
from ledger.services.recurring.engine import recurring_occurrence_bulk_record
from ledger.services.recurring.rules import (
    recurring_bulk_create,
    recurring_delete,
    recurring_validate,
)
from ledger.services.revisions import owner_lock
from ledger.services.transactions import transaction_bulk_create, transaction_bulk_delete

from .categories import CategoryResolver
from .normalize import CategoryRow, NamedCategory, RuleRow, TransactionRow
from .report import ImportReport


class ImportWriter:
    def __init__(
        self, *, user, report: ImportReport, time_zone: str, own_format: bool, link_field: str
    ):
        self.user = user
        self.report = report
        self.time_zone = time_zone
        self.own_format = own_format
        self.link_field = link_field  # where the file's transactions name their rule
        self.now = timezone.now()
        self.rules_by_ref: dict[str, RecurringTransaction] = {}  # the file's rule ids
        self.browser_rules: list[RecurringTransaction] = []  # their past is closed at the end
        self.file_rule_dates: set = set()
        self.recorded: set = set()  # (rule id, date) with an occurrence record

    @property
    def writing(self) -> bool:
        return not self.report.failed

    def begin(self, *, replace: bool, rules_in_file: bool, categories_in_file: bool) -> None:
        """Lock the user (two imports of one user queue instead of racing), empty the tables
        the file replaces, and read what the user has."""
        owner_lock(user_ids=[self.user.pk])
        if replace:
            self._delete_existing(rules=rules_in_file, categories=categories_in_file)
        self.categories = CategoryResolver(user=self.user)
        self.existing_rules: dict[str, RecurringTransaction] = {}
        for rule in RecurringTransaction.objects.filter(user=self.user):
            self.existing_rules[str(rule.pk)] = rule
            if rule.legacy_id:
                self.existing_rules[rule.legacy_id] = rule
        self.had_transactions = Transaction.objects.filter(user=self.user).exists()
        self.taken_rule_dates = set(
            Transaction.objects.filter(user=self.user, recurring__isnull=False).values_list(
                "recurring_id", "date"
            )
        )
        self.recorded = set(
            RecurringOccurrence.objects.filter(recurring__user=self.user).values_list(
                "recurring_id", "date"
            )
        )

    def _delete_existing(self, *, rules: bool, categories: bool) -> None:
        deleted, user = self.report.deleted, self.user
        deleted["transactions"] = transaction_bulk_delete(
            user=user, queryset=Transaction.objects.filter(user=user)
        )
        if rules:
            doomed = list(RecurringTransaction.objects.filter(user=user).order_by("pk"))
            for rule in doomed:
                recurring_delete(rule=rule)
            deleted["recurring_transactions"] = len(doomed)
        if categories:
            deleted["categories"] = category_bulk_delete(
                user=user, queryset=Category.objects.filter(user=user)
            )

    # -- categories --------------------------------------------------------------------------
    def write_categories(self, rows: list[CategoryRow]) -> None:
        for row in rows:
            category = self.categories.resolve(row.name, emoji=row.emoji)
            if category is not None and not self.categories.is_new(category):
                self.report.skipped["categories"] += 1
        self._flush_categories()

    def _category(self, named: NamedCategory | None) -> Category | None:
        return None if named is None else self.categories.resolve(named[0], emoji=named[1])

    def _flush_categories(self) -> None:
        if not self.writing:
            return
        refused = self.categories.flush()
        if refused:
            self.report.error("categories", None, "name", refused)
            self.report.failed += 1

    # -- rules -------------------------------------------------------------------------------
    def write_rules(self, rows: list[RuleRow]) -> None:
        table, new, occurrences = "recurring_transactions", [], []
        for row in rows:
            rule = self.existing_rules.get(row.key) or (
                self.existing_rules.get(row.ref) if self.own_format and row.ref else None
            )
            if rule is not None:
                self.report.skipped[table] += 1
            else:
                rule = RecurringTransaction(
                    user=self.user,
                    template_name=row.template_name,
                    description=row.description,
                    amount=row.amount,
                    type=row.type,
                    category=self._category(row.category),
                    frequency=row.frequency,
                    start_date=row.start_date,
                    end_date=row.end_date,
                    day_of_month=row.day_of_month,
                    is_active=row.is_active,
                    is_variable_amount=row.is_variable_amount,
                    legacy_id=row.key,
                )
                new.append((row, rule))
                occurrences.extend((rule.pk, day) for day in row.occurrence_dates)
            if row.ref is not None:
                self.rules_by_ref.setdefault(row.ref, rule)
        self._flush_categories()
        if self.writing:
            for row, rule in new:  # the service's rules, with the row and field at fault
                try:
                    recurring_validate(rule=rule)
                except ValidationError as error:
                    for name, reasons in error.message_dict.items():
                        self.report.error(table, row.index, name, "; ".join(reasons), row.ref)
                    self.report.failed += 1
        if not self.writing:
            return
        recurring_bulk_create(user=self.user, rules=[rule for _, rule in new])
        self.report.created[table] = len(new)
        if not self.own_format:  # this API's export carries its occurrence records instead
            self.browser_rules = [rule for _, rule in new]
        self._record(occurrences)

    # -- transactions ------------------------------------------------------------------------
    def write_transactions(self, rows: list[TransactionRow]) -> None:
        table, skipped = "transactions", self.report.skipped
        keys, server_ids = self._already_imported(rows)
        new = []
        for row in rows:
            if row.key in keys or row.server_id in server_ids:
                skipped[table] += 1
                continue
            rule = self._rule_for(row)
            if rule is not None:
                pair = (rule.pk, row.date)
                if pair in self.taken_rule_dates:
                    skipped[table] += 1
                    self.report.warn(
                        table,
                        row.index,
                        self.link_field,
                        f"the rule's occurrence on {row.date} already exists: skipped",
                        row.key,
                    )
                    continue
                if pair in self.file_rule_dates:
                    self.report.warn(
                        table,
                        row.index,
                        self.link_field,
                        f"a second occurrence of the same rule on {row.date}: "
                        "imported without the link",
                        row.key,
                    )
                    rule = None
                else:
                    self.file_rule_dates.add(pair)
            if row.amount is None and rule is None:
                skipped[table] += 1
                self.report.warn(
                    table,
                    row.index,
                    "amount",
                    "a pending occurrence without an amount cannot stand without its rule: skipped",
                    row.key,
                )
                continue
            category = self._category(row.category)
            new.append(
                Transaction(
                    user_id=self.user.pk,
                    date=row.date,
                    description=row.description,
                    amount=row.amount,
                    type=row.type,
                    category_id=category and category.pk,
                    status=row.status,
                    recurring_id=rule and rule.pk,
                    legacy_id=row.key,
                )
            )
        self._flush_categories()
        if not self.writing:
            return
        inserted = transaction_bulk_create(user=self.user, transactions=new, ignore_conflicts=True)
        self.report.created[table] += len(inserted)
        skipped[table] += len(new) - len(inserted)  # a concurrent writer took their key
        self._record((row.recurring_id, row.date) for row in inserted if row.recurring_id)

    def _already_imported(self, rows: list[TransactionRow]) -> tuple[set[str], set[str]]:
        """The keys (legacy ids) of `rows` the user has already, and the ids of this API's
        export that are the user's own rows (the export back into the user it came from).

        The unique (user, legacy_id) key decides (`ON CONFLICT DO NOTHING`); asking first only
        spares a re-import from sending every row to be refused.
        """
        if not self.had_transactions:  # a first import, or replace mode: nothing to find
            return set(), set()
        mine = Transaction.objects.filter(user=self.user)
        keys = set(
            mine.filter(legacy_id__in=[row.key for row in rows])
            .exclude(legacy_id="")  # the partial unique index's own condition: it serves this
            .values_list("legacy_id", flat=True)
        )
        ids = [row.server_id for row in rows if row.server_id and _is_uuid(row.server_id)]
        found = mine.filter(pk__in=ids).values_list("pk", flat=True) if ids else ()
        return keys, {str(pk) for pk in found}

    def _rule_for(self, row: TransactionRow) -> RecurringTransaction | None:
        if row.rule_ref is None:
            return None
        rule = self.rules_by_ref.get(row.rule_ref) or self.existing_rules.get(row.rule_ref)
        if rule is None:
            self.report.warn(
                "transactions",
                row.index,
                self.link_field,
                f"no recurring rule with id {row.rule_ref!r}: imported without the link",
                row.key,
            )
        return rule

    # -- occurrences -------------------------------------------------------------------------
    def _record(self, pairs) -> int:
        fresh = [pair for pair in dict.fromkeys(pairs) if pair not in self.recorded]
        if fresh:
            recurring_occurrence_bulk_record(rule_dates=fresh)
            self.recorded.update(fresh)
            self.report.created["occurrences"] += len(fresh)
        return len(fresh)

    def finish(self) -> None:
        """Close the past of the rules imported from the browser (see the module docstring),
        and insert categories still pending."""
        if self.writing:
            yesterday = local_date(self.now, self.time_zone) - datetime.timedelta(days=1)
            past = (
                (rule.pk, day)
                for rule in self.browser_rules
                if rule.start_date <= yesterday
                for day in recurring_occurrence_dates(
                    rule=rule, date_from=month_start(rule.start_date), date_to=yesterday
                )
            )
            created = self.report.created["occurrences"]
            self.report.created["past_dates_closed"] = self._record(past)
            self.report.created["occurrences"] = created  # these are counted apart
        self._flush_categories()
        self.report.created["categories"] = self.categories.created


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
