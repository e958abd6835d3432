"""The write step of an import: normalised rows → the ledger's categories, rules, transactions
and occurrence records, each through the service that owns its table.

The caller runs it inside one database transaction (all or nothing), holding the ledger's row
lock. Once any row is invalid nothing more is written, but every row still passes through, so
the report lists every problem. Re-imports add nothing twice: the unique (ledger, legacy_id) key
decides (`ON CONFLICT DO NOTHING`), as does the (rule, date) key of a rule's occurrence.

In merge mode a row the ledger imported before is compared with the file (`merge`): the file's
version replaces one the server has not changed since, one changed on both sides is a conflict
(the server's stays), and imported rows the file lacks are listed, never deleted.

History stays as the browser had it: the SPA materialized its rules' occurrences itself, so a
past date of an imported browser rule with no transaction in the file was deleted by the ledger
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
from ledger.services.categories import (
    category_bulk_delete,
    category_bulk_set_import_hash,
    category_update,
)
from ledger.services.recurring.engine import recurring_occurrence_bulk_record
from ledger.services.recurring.rules import (
    RULE_FIELDS,
    recurring_bulk_create,
    recurring_bulk_set_import_hash,
    recurring_delete,
    recurring_update,
    recurring_validate,
)
from ledger.services.revisions import owner_lock
from ledger.services.transactions import (
    transaction_bulk_create,
    transaction_bulk_delete,
    transaction_bulk_update,
)

from . import merge
from .categories import CategoryResolver
from .merge import CATEGORY_FIELDS, TRANSACTION_FIELDS
from .normalize import CategoryRow, NamedCategory, RuleRow, TransactionRow
from .report import CONFLICT, MISSING_FROM_FILE, UPDATED, ImportReport

_TABLES_WITH_IDS = ("recurring_transactions", "transactions")  # categories go by name
# What a re-import reads of a transaction imported before (as `category`, its id).
_IMPORTED_COLUMNS = (
    "pk",
    "legacy_id",
    *("category_id" if name == "category" else name for name in TRANSACTION_FIELDS),
    "recurring_id",
    "import_hash",
    "untouched",
)
_IMPORTED_KEYS = tuple("category" if name == "category_id" else name for name in _IMPORTED_COLUMNS)


class ImportWriter:
    def __init__(
        self,
        *,
        ledger,
        report: ImportReport,
        time_zone: str,
        own_format: bool,
        link_field: str,
        created_by=None,
    ):
        self.ledger = ledger
        self.created_by_id = created_by.pk if created_by is not None else None
        self.report = report
        self.time_zone = time_zone
        self.own_format = own_format
        self.link_field = link_field  # where the file's transactions name their rule
        self.now = timezone.now()
        self.rules_by_ref: dict[str, RecurringTransaction] = {}  # the file's rule ids
        self.browser_rules: list[RecurringTransaction] = []  # their past is closed at the end
        self.file_rule_dates: set = set()
        self.recorded: set = set()  # (rule id, date) with an occurrence record
        self.merging = True
        # The file's keys (and this API's export's server ids): what is not missing from it.
        self.file_keys: dict[str, set[str]] = {table: set() for table in _TABLES_WITH_IDS}
        self.file_server_ids: set[str] = set()
        # A chunk's imported rows to update, to store a fresher base for, and moved dates.
        self.merged: list[Transaction] = []
        self.refreshed: list[Transaction] = []
        self.moved: list[tuple] = []

    @property
    def writing(self) -> bool:
        return not self.report.failed

    def begin(self, *, replace: bool, rules_in_file: bool, categories_in_file: bool) -> None:
        """Lock the ledger (two imports of one ledger queue instead of racing), empty the tables
        the file replaces, and read what the ledger has."""
        owner_lock(ledger_ids=[self.ledger.pk])
        self.merging = not replace
        self.rules_in_file = rules_in_file
        if replace:
            self._delete_existing(rules=rules_in_file, categories=categories_in_file)
        self.categories = CategoryResolver(ledger=self.ledger)
        self.existing_rules: dict[str, RecurringTransaction] = {}
        rules = RecurringTransaction.objects.filter(ledger=self.ledger).annotate(
            untouched=merge.UNTOUCHED
        )
        for rule in rules:
            self.existing_rules[str(rule.pk)] = rule
            if rule.legacy_id:
                self.existing_rules[rule.legacy_id] = rule
        self.had_transactions = Transaction.objects.filter(ledger=self.ledger).exists()
        self.taken_rule_dates = set(
            Transaction.objects.filter(ledger=self.ledger, recurring__isnull=False).values_list(
                "recurring_id", "date"
            )
        )
        self.recorded = set(
            RecurringOccurrence.objects.filter(ledger=self.ledger).values_list(
                "recurring_id", "date"
            )
        )

    def _delete_existing(self, *, rules: bool, categories: bool) -> None:
        deleted, ledger = self.report.deleted, self.ledger
        deleted["transactions"] = transaction_bulk_delete(
            ledger=ledger, queryset=Transaction.objects.filter(ledger=ledger)
        )
        if rules:
            doomed = list(RecurringTransaction.objects.filter(ledger=ledger).order_by("pk"))
            for rule in doomed:
                recurring_delete(rule=rule)
            deleted["recurring_transactions"] = len(doomed)
        if categories:
            deleted["categories"] = category_bulk_delete(
                ledger=ledger, queryset=Category.objects.filter(ledger=ledger)
            )

    # -- categories --------------------------------------------------------------------------
    def write_categories(self, rows: list[CategoryRow]) -> None:
        updates, hashes, seen = [], {}, set()
        for row in rows:
            category = self.categories.resolve(row.name, emoji=row.emoji)
            if category is None or self.categories.is_new(category):
                continue
            mergeable = self.merging and category.ledger_id is not None  # defaults are fixed
            if not mergeable or category.pk in seen:
                self.report.skipped["categories"] += 1
                continue
            seen.add(category.pk)
            file = self.categories.wanted(row.name, emoji=row.emoji)
            server = merge.row_values(category, CATEGORY_FIELDS)
            result = merge.merge(
                server=server, file=file, fields=CATEGORY_FIELDS, import_hash=category.import_hash
            )
            if self._merged("categories", row.index, row.name, category.pk, server, file, result):
                updates.append((category, {name: file[name] for name in result.changed}))
                hashes[category.pk] = result.file_hash
            elif result.refresh:
                hashes[category.pk] = result.file_hash
        self._flush_categories()
        if not self.writing:
            return
        for category, changes in updates:
            try:
                category_update(category=category, **changes)
            except ValidationError as error:
                for name, reasons in error.message_dict.items():
                    self.report.error("categories", None, name, "; ".join(reasons))
                self.report.failed += 1
                return
        category_bulk_set_import_hash(ledger=self.ledger, hashes=hashes)

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
        table, new, occurrences, merges = "recurring_transactions", [], [], []
        for row in rows:
            self.file_keys[table].add(row.key)
            if self.own_format and row.ref:
                self.file_server_ids.add(row.ref)
            rule = self.existing_rules.get(row.key) or (
                self.existing_rules.get(row.ref) if self.own_format and row.ref else None
            )
            if rule is not None:
                if self.merging and rule.legacy_id and rule.legacy_id == row.key:
                    merges.append((row, rule, self._category(row.category)))
                else:  # this API's export of the ledger's own rule: the same rule
                    self.report.skipped[table] += 1
            else:
                rule = RecurringTransaction(
                    ledger=self.ledger,
                    created_by_id=self.created_by_id,
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
                rule.import_hash = merge.content_hash(
                    merge.row_values(rule, RULE_FIELDS), RULE_FIELDS
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
        updates, hashes = [], {}
        for row, rule, category in merges:
            data, stored = self._merge_rule(row, rule, category)
            if data is not None:
                updates.append((rule, data))
            if stored:
                hashes[rule.pk] = stored
        if not self.writing:
            return
        recurring_bulk_create(ledger=self.ledger, rules=[rule for _, rule in new])
        self.report.created[table] = len(new)
        if not self.own_format:  # this API's export carries its occurrence records instead
            self.browser_rules = [rule for _, rule in new]
        self._record(occurrences)
        for rule, data in updates:  # the rule and its future scheduled occurrences
            recurring_update(rule=rule, data=data)
        recurring_bulk_set_import_hash(ledger=self.ledger, hashes=hashes)
        self._reload_rule_dates({rule.pk for rule, _ in updates})

    def _merge_rule(
        self, row: RuleRow, rule: RecurringTransaction, category: Category | None
    ) -> tuple[dict | None, str]:
        """(the changes to make when the file's version wins, else None; the base to store
        for the rule, or "" to keep its own)."""
        table = "recurring_transactions"
        file = {name: getattr(row, name) for name in RULE_FIELDS if name != "category"}
        file["category"] = category and category.pk
        server = merge.row_values(rule, RULE_FIELDS)
        result = merge.merge(
            server=server,
            file=file,
            fields=RULE_FIELDS,
            import_hash=rule.import_hash,
            untouched=rule.untouched,
        )
        if self.writing and result.verdict == merge.FILE:  # the service's rules, as for new ones
            values = {**file, "category": category}
            try:
                recurring_validate(rule=RecurringTransaction(ledger=self.ledger, **values))
            except ValidationError as error:
                for name, reasons in error.message_dict.items():
                    self.report.error(table, row.index, name, "; ".join(reasons), row.ref)
                self.report.failed += 1
                return None, ""
        if not self._merged(table, row.index, row.key, rule.pk, server, file, result):
            return None, result.file_hash if result.refresh else ""
        data = {name: category if name == "category" else file[name] for name in result.changed}
        return data, result.file_hash

    def _merged(self, table, index, key, server_id, server, file, result: merge.Merge) -> bool:
        """Count and list what a merge decided; True when the file's version is to be written."""
        if result.verdict in (merge.FILE, merge.CONFLICT):
            self.report.change(
                UPDATED if result.verdict == merge.FILE else CONFLICT,
                table,
                index,
                key,
                server_id,
                fields=result.changed,
                server=self._version(server),
                file=self._version(file),
            )
        else:
            self.report.skipped[table] += 1
        return result.verdict == merge.FILE

    def _version(self, values: dict) -> dict:
        return merge.version(values, category_name=self.categories.name_of)

    def _reload_rule_dates(self, rule_ids: set) -> None:
        """The updated rules' transactions and occurrence records, as their update left them."""
        if not rule_ids:
            return
        self.taken_rule_dates = {p for p in self.taken_rule_dates if p[0] not in rule_ids}
        self.taken_rule_dates.update(
            Transaction.objects.filter(recurring_id__in=rule_ids).values_list(
                "recurring_id", "date"
            )
        )
        self.recorded = {p for p in self.recorded if p[0] not in rule_ids}
        self.recorded.update(
            RecurringOccurrence.objects.filter(recurring_id__in=rule_ids).values_list(
                "recurring_id", "date"
            )
        )

    # -- transactions ------------------------------------------------------------------------
    def write_transactions(self, rows: list[TransactionRow]) -> None:
        table, skipped = "transactions", self.report.skipped
        imported, server_ids = self._already_imported(rows)
        new, self.merged, self.refreshed, self.moved = [], [], [], []
        for row in rows:
            self.file_keys[table].add(row.key)
            if row.server_id:
                self.file_server_ids.add(row.server_id)
            if row.key in imported:
                self._merge_transaction(row, imported[row.key])
                continue
            if row.server_id in server_ids:  # this API's export of the ledger's own row
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
            transaction = Transaction(
                ledger_id=self.ledger.pk,
                created_by_id=self.created_by_id,
                date=row.date,
                description=row.description,
                amount=row.amount,
                type=row.type,
                category_id=category and category.pk,
                status=row.status,
                recurring_id=rule and rule.pk,
                legacy_id=row.key,
            )
            transaction.import_hash = merge.content_hash(
                merge.row_values(transaction, TRANSACTION_FIELDS), TRANSACTION_FIELDS
            )
            new.append(transaction)
        self._flush_categories()
        if not self.writing:
            return
        inserted = transaction_bulk_create(
            ledger=self.ledger, transactions=new, ignore_conflicts=True
        )
        self.report.created[table] += len(inserted)
        skipped[table] += len(new) - len(inserted)  # a concurrent writer took their key
        self._record((row.recurring_id, row.date) for row in inserted if row.recurring_id)
        self._save_merged()

    def _merge_transaction(self, row: TransactionRow, server: dict) -> None:
        """Decide what a re-import does with a row imported before (`merge`), and queue it.
        `server` is the row's `_IMPORTED_COLUMNS`."""
        table = "transactions"
        category = self._category(row.category)
        file = {
            "date": row.date,
            "description": row.description,
            "amount": row.amount,
            "type": row.type,
            "category": category and category.pk,
            "status": row.status,
        }
        current = {name: server[name] for name in TRANSACTION_FIELDS}
        result = merge.merge(
            server=current,
            file=file,
            fields=TRANSACTION_FIELDS,
            import_hash=server["import_hash"],
            untouched=server["untouched"],
        )
        if result.verdict == merge.FILE:
            refusal = self._cannot_take(row, server)
            if refusal:
                self.report.skipped[table] += 1
                self.report.warn(table, row.index, *refusal, row.key)
                return
        if self._merged(table, row.index, row.key, server["pk"], current, file, result):
            values = {"category_id" if k == "category" else k: v for k, v in file.items()}
            self.merged.append(self._prepared(server, import_hash=result.file_hash, **values))
        elif result.refresh:
            self.refreshed.append(self._prepared(server, import_hash=result.file_hash))

    def _prepared(self, server: dict, **values) -> Transaction:
        """A transaction to save `values` of through `transaction_bulk_update`."""
        return Transaction(pk=server["pk"], ledger_id=self.ledger.pk, **values)

    def _cannot_take(self, row: TransactionRow, server: dict) -> tuple[str, str] | None:
        """(field, reason) when the file's version of an imported row cannot be written."""
        rule_id = server["recurring_id"]
        if row.amount is None and rule_id is None:
            return "amount", (
                "a pending occurrence without an amount cannot stand without its rule: "
                "the server's version stays"
            )
        if rule_id is None or row.date == server["date"]:
            return None
        pair = (rule_id, row.date)
        if pair in self.taken_rule_dates:  # the rule's other row, or one just moved there
            return self.link_field, (
                f"the rule's occurrence on {row.date} already exists: the server's version stays"
            )
        # The date it leaves stays taken until the update is written: one UPDATE statement
        # must not swap two occurrences' dates (the unique key is checked row by row).
        self.taken_rule_dates.add(pair)
        self.moved.append(((rule_id, server["date"]), pair))
        return None

    def _save_merged(self) -> None:
        if self.merged:
            transaction_bulk_update(
                ledger=self.ledger,
                transactions=self.merged,
                fields=[*TRANSACTION_FIELDS, "import_hash"],
            )
        if self.refreshed:
            transaction_bulk_update(
                ledger=self.ledger, transactions=self.refreshed, fields=["import_hash"]
            )
        self.taken_rule_dates.difference_update(old for old, _ in self.moved)
        self._record(new for _, new in self.moved)  # the engine must not re-create it there

    def _already_imported(self, rows: list[TransactionRow]) -> tuple[dict[str, dict], set[str]]:
        """The ledger's rows imported before under the keys (legacy ids) of `rows` (their
        `_IMPORTED_COLUMNS`, by key), and the ids of this API's export that are the ledger's own
        rows (the export back into the ledger it came from).

        They are what a re-import compares with the file; for inserts the unique
        (ledger, legacy_id) key still has the final say (`ON CONFLICT DO NOTHING`).
        """
        if not self.had_transactions:  # a first import, or replace mode: nothing to find
            return {}, set()
        mine = Transaction.objects.filter(ledger=self.ledger)
        earlier = (
            mine.filter(legacy_id__in=[row.key for row in rows])
            .exclude(legacy_id="")  # the partial unique index's own condition: it serves this
            .annotate(untouched=merge.UNTOUCHED)
            .values_list(*_IMPORTED_COLUMNS)
        )
        imported = {values[1]: dict(zip(_IMPORTED_KEYS, values, strict=True)) for values in earlier}
        ids = [row.server_id for row in rows if row.server_id and _is_uuid(row.server_id)]
        found = mine.filter(pk__in=ids).values_list("pk", flat=True) if ids else ()
        return imported, {str(pk) for pk in found}

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
            recurring_occurrence_bulk_record(
                rule_dates=((self.ledger.pk, rule_id, day) for rule_id, day in fresh)
            )
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
        if self.merging:
            if self.rules_in_file:
                self._report_missing(RecurringTransaction, "recurring_transactions", RULE_FIELDS)
            self._report_missing(Transaction, "transactions", TRANSACTION_FIELDS)

    def _report_missing(self, model, table: str, fields) -> None:
        """List the ledger's imported rows (a legacy id) the file lacks: the browser may have
        deleted them, or they came from another file. They are left as they are."""
        keys, server_ids = self.file_keys[table], self.file_server_ids
        columns = ["category_id" if name == "category" else name for name in fields]
        rows = (
            model.objects.filter(ledger=self.ledger)
            .exclude(legacy_id="")
            .order_by("pk")
            .values_list("pk", "legacy_id", *columns)
        )
        for pk, legacy_id, *values in rows.iterator(chunk_size=2000):
            if legacy_id in keys or str(pk) in server_ids:
                continue
            server = dict(zip(fields, values, strict=True))
            self.report.change(
                MISSING_FROM_FILE,
                table,
                None,
                legacy_id,
                pk,
                fields=[],
                server=self._version(server),
            )


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
