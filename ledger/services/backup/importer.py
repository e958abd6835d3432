"""The import: a backup document → the user's categories, rules and transactions.

All or nothing: the whole import runs in one database transaction, holding the user's row
lock (so two imports for one user queue instead of racing). Rows are validated and written
in chunks of CHUNK_SIZE; once any row is invalid nothing more is written, every remaining
row is still validated (so the report lists every bad row), and the transaction is rolled
back. A dry run does the same work and always rolls back, so its counts are exact.

Re-imports add nothing twice: each row's browser id is kept in `legacy_id` (rows without an
id get a content fingerprint), and a row whose id the user already has is skipped.

History stays as the browser had it: the SPA materialized its rules' occurrences itself, so a
past date of an imported rule with no transaction in the file was deleted by the user (or never
generated). Such dates are recorded as `RecurringOccurrence` (`created["past_dates_closed"]`),
so the recurring engine fills only from the import day on and never back-fills the past.
"""

import datetime
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from ledger.dates import month_start
from ledger.models import (
    Category,
    RecurringOccurrence,
    RecurringTransaction,
    Transaction,
    TransactionStatus,
)
from ledger.selectors.recurring import recurring_occurrence_dates

from . import fields as f
from .categories import MAX_NAME_LENGTH, CategoryResolver, split_emoji
from .errors import BackupError, BackupRowsInvalid, BackupTooLarge
from .formats import OWN, Source, parse_document, recognise

CHUNK_SIZE = 2000
MAX_LISTED_PROBLEMS = 1000
MODES = ("merge", "replace")

TYPES = {"income": "income", "expense": "expense", "수입": "income", "지출": "expense"}
STATUSES = {"confirmed": "confirmed", "scheduled": "scheduled"}
FREQUENCIES = {"monthly": "monthly", "yearly": "yearly"}

_TX_DESCRIPTION_MAX = Transaction._meta.get_field("description").max_length
_RULE_NAME_MAX = RecurringTransaction._meta.get_field("template_name").max_length
_RULE_DESCRIPTION_MAX = RecurringTransaction._meta.get_field("description").max_length

ProgressCallback = Callable[[int, int], None]


@dataclass
class Problem:
    level: str  # "error" (the import is refused) or "warning" (imported, but worth knowing)
    table: str
    index: int | None
    field: str | None
    reason: str
    id: str | None = None

    def as_dict(self) -> dict:
        return {
            "level": self.level,
            "table": self.table,
            "index": self.index,
            "id": self.id,
            "field": self.field,
            "reason": self.reason,
        }


def _counts() -> dict:
    return {"categories": 0, "recurring_transactions": 0, "transactions": 0}


@dataclass
class ImportReport:
    """What an import did (or, for a dry run or a refused file, would have done)."""

    format: str = ""
    mode: str = "merge"
    dry_run: bool = False
    time_zone: str = ""
    rows: dict = field(default_factory=_counts)  # rows in the file, per table
    created: dict = field(
        default_factory=lambda: {**_counts(), "occurrences": 0, "past_dates_closed": 0}
    )
    skipped: dict = field(default_factory=_counts)  # already imported (or otherwise left out)
    deleted: dict = field(default_factory=_counts)  # replace mode
    failed: int = 0  # rows with at least one error
    errors: int = 0
    warnings: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def problems_not_listed(self) -> int:
        return self.errors + self.warnings - len(self.problems)

    def add(self, level, table, index, field_name, reason, key=None) -> None:
        if level == "error":
            self.errors += 1
        else:
            self.warnings += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(Problem(level, table, index, field_name, reason, key))

    def problem_fields(self) -> dict:
        """Errors as the API's `fields`: `{"transactions[12].amount": ["…"]}`."""
        found: dict[str, list[str]] = {}
        for problem in self.problems:
            if problem.level != "error":
                continue
            where = problem.table if problem.index is None else f"{problem.table}[{problem.index}]"
            if problem.field:
                where = f"{where}.{problem.field}"
            found.setdefault(where, []).append(problem.reason)
        return found

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "format": self.format,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "time_zone": self.time_zone,
            "rows": self.rows,
            "created": self.created,
            "skipped": self.skipped,
            "deleted": self.deleted,
            "failed": self.failed,
            "errors": self.errors,
            "warnings": self.warnings,
            "problems": [p.as_dict() for p in self.problems],
            "problems_not_listed": self.problems_not_listed,
        }


def backup_read(*, stream, max_bytes: int | None = None) -> bytes:
    """Read an uploaded or opened file, refusing more than `max_bytes` (IMPORT_MAX_BYTES)."""
    limit = settings.IMPORT_MAX_BYTES if max_bytes is None else max_bytes
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise BackupTooLarge(limit=limit)
    return data


def backup_import(
    *,
    user,
    raw: bytes | str,
    mode: str = "merge",
    dry_run: bool = False,
    time_zone: str | None = None,
    max_bytes: int | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a backup document into `user`'s ledger.

    Returns the report. Raises BackupTooLarge / BackupUnreadable for a file that cannot be
    read at all, and BackupRowsInvalid (carrying the report) when rows are invalid — unless
    `dry_run`, which returns the report with `failed` > 0 instead.
    """
    limit = settings.IMPORT_MAX_BYTES if max_bytes is None else max_bytes
    if len(raw) > limit:
        raise BackupTooLarge(limit=limit)
    if mode not in MODES:
        raise BackupError(
            "invalid_mode", f"mode must be one of {', '.join(MODES)}.", fields={"mode": [mode]}
        )
    zone_name = time_zone or getattr(user, "time_zone", "") or settings.TIME_ZONE
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BackupError(
            "invalid_time_zone",
            f"Unknown time zone {zone_name!r}.",
            fields={"time_zone": ["not a known IANA time zone"]},
        ) from exc

    source = recognise(parse_document(raw))
    del raw
    report = ImportReport(format=source.format, mode=mode, dry_run=dry_run, time_zone=zone_name)
    for warning in source.warnings:
        report.add("warning", "file", None, None, warning)

    with db_transaction.atomic():
        _Importer(user=user, source=source, zone=zone, report=report, progress=progress).run()
        if report.failed:
            if not dry_run:
                raise BackupRowsInvalid(report)
            db_transaction.set_rollback(True)
        elif dry_run:
            db_transaction.set_rollback(True)
    return report


# --- rows, normalised -----------------------------------------------------------------------

_INVALID = object()


class _CategoryRow:
    __slots__ = ("index", "key", "name", "emoji")


class _RuleRow:
    __slots__ = (
        "index", "ref", "key", "template_name", "description", "amount", "type", "category",
        "frequency", "start_date", "end_date", "day_of_month", "is_active",
        "is_variable_amount", "occurrence_dates",
    )


class _TxRow:
    __slots__ = (
        "index", "key", "server_id", "date", "description", "amount", "type", "category",
        "status", "rule_ref",
    )


def _fingerprint(*parts) -> str:
    return hashlib.sha1("|".join(str(p) for p in parts).encode(), usedforsecurity=False).hexdigest()


class _Importer:
    def __init__(self, *, user, source: Source, zone: ZoneInfo, report: ImportReport, progress):
        self.user = user
        self.source = source
        self.zone = zone
        self.report = report
        self.progress = progress
        self.own_format = source.format == OWN
        self.file_categories: dict[str, tuple[str, str]] = {}  # file category id → (name, emoji)
        self.file_rule_refs: set[str] = set()
        self.rules_by_ref: dict[str, RecurringTransaction] = {}
        self.fingerprints: dict[str, int] = {}
        self.now = timezone.now()

    # -- the steps -----------------------------------------------------------------------
    def run(self) -> None:
        source, report = self.source, self.report
        report.rows["transactions"] = len(source.transactions)
        report.rows["recurring_transactions"] = len(source.recurring_transactions or ())
        report.rows["categories"] = len(source.categories or ())

        # One import per user at a time; lock before reading what the user has.
        get_user_model().objects.select_for_update().filter(pk=self.user.pk).first()
        if report.mode == "replace":
            self._delete_existing()

        self.categories = CategoryResolver(user=self.user)
        self.existing_rules: dict[str, RecurringTransaction] = {}
        for rule in RecurringTransaction.objects.filter(user=self.user):
            self.existing_rules[str(rule.pk)] = rule
            if rule.legacy_id:
                self.existing_rules[rule.legacy_id] = rule
        rule_ids = {rule.pk for rule in self.existing_rules.values()}
        self.taken_rule_dates = set(
            Transaction.objects.filter(recurring__in=rule_ids).values_list("recurring_id", "date")
        ) if rule_ids else set()
        self.recorded_occurrences = set(
            RecurringOccurrence.objects.filter(recurring__in=rule_ids).values_list(
                "recurring_id", "date"
            )
        ) if rule_ids else set()
        self.file_rule_dates: set = set()
        self.seen_tx_keys: set[str] = set()
        self.existing_tx_keys = self._load_existing_transaction_keys()
        self.new_occurrences: list[RecurringOccurrence] = []
        self.rules_from_browser: list[RecurringTransaction] = []

        if source.categories is not None:
            self._import_categories(source.categories)
        if source.recurring_transactions is not None:
            self._import_rules(source.recurring_transactions)
        self._import_transactions(source.transactions)
        if not report.failed:
            self._close_past_dates()
        self.categories.flush()
        report.created["categories"] = self.categories.created

    def _delete_existing(self) -> None:
        deleted = self.report.deleted
        deleted["transactions"] = Transaction.objects.filter(user=self.user).delete()[0]
        if self.source.recurring_transactions is not None:
            rules = RecurringTransaction.objects.filter(user=self.user)
            deleted["recurring_transactions"] = rules.count()
            rules.delete()
        if self.source.categories is not None:
            categories = Category.objects.filter(user=self.user)
            deleted["categories"] = categories.count()
            categories.delete()

    # -- helpers -------------------------------------------------------------------------
    def _error(self, table, index, field_name, reason, key=None) -> None:
        self.report.add("error", table, index, field_name, reason, key)

    def _warn(self, table, index, field_name, reason, key=None) -> None:
        self.report.add("warning", table, index, field_name, reason, key)

    def _field(self, table, index, key, field_name, parse, *args, **kwargs):
        try:
            return parse(*args, **kwargs)
        except f.FieldError as exc:
            self._error(table, index, field_name, str(exc), key)
            return _INVALID

    def _row_keys(self, table, index, raw) -> tuple | None:
        """The row's (reference, key) as `_row_key` gives them, (None, None) when they are
        invalid (already reported); None when the row is not an object (reported and counted
        as failed), so the caller skips it."""
        if not isinstance(raw, dict):
            self._error(table, index, None, "must be an object")
            self.report.failed += 1
            return None
        keys = self._row_key(table, index, raw)
        return keys if keys is not _INVALID else (None, None)

    def _row_key(self, table, index, raw: dict):
        """(reference used inside the file, key remembered as legacy_id), or _INVALID."""
        ref = self._field(table, index, None, "id", f.parse_key, raw.get("id"))
        if ref is _INVALID:
            return _INVALID
        key = ref
        if self.own_format and raw.get("legacy_id") not in (None, ""):
            key = self._field(table, index, ref, "legacy_id", f.parse_key, raw.get("legacy_id"))
            if key is _INVALID:
                return _INVALID
        return ref, key

    def _category_name(self, table, index, key, value):
        """The category name a row names (emoji included), None for none, or _INVALID."""
        if value is None or (isinstance(value, str) and not value.strip()):
            self._warn(table, index, "category", "no category: imported uncategorized", key)
            return None
        emoji = ""
        if isinstance(value, dict):  # {"name": …, "emoji": …}
            emoji = value.get("emoji") if isinstance(value.get("emoji"), str) else ""
            value = value.get("name")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            file_id = f.parse_key(value) if float(value).is_integer() else ""
            found = self.file_categories.get(file_id)
            if found is None:
                self._warn(
                    table, index, "category",
                    f"unknown category id {value!r}: imported uncategorized", key,
                )
                return None
            value, emoji = found
        if not isinstance(value, str):
            self._error(table, index, "category", "must be a category name", key)
            return _INVALID
        _, name = split_emoji(value)
        if not name:
            self._warn(
                table, index, "category",
                f"category {value!r} has no name: imported uncategorized", key,
            )
            return None
        if len(name) > MAX_NAME_LENGTH:
            self._error(
                table, index, "category", f"is too long (at most {MAX_NAME_LENGTH} characters)", key
            )
            return _INVALID
        return value, emoji

    def _resolve_category(self, named):
        if named is None:
            return None
        value, emoji = named
        return self.categories.resolve(value, emoji=emoji)

    def _count_failed(self, errors_before: int) -> bool:
        if self.report.errors > errors_before:
            self.report.failed += 1
            return True
        return False

    # -- categories ----------------------------------------------------------------------
    def _import_categories(self, rows: list) -> None:
        table = "categories"
        for index, raw in enumerate(rows):
            errors_before = self.report.errors
            keys = self._row_keys(table, index, raw)
            if keys is None:
                continue
            key = keys[0]
            name = self._field(
                table, index, key, "name", f.parse_text, raw.get("name"),
                max_length=MAX_NAME_LENGTH + 20, required=True,
            )
            emoji = raw.get("emoji") if isinstance(raw.get("emoji"), str) else ""
            if name is not _INVALID:
                _, bare = split_emoji(name)
                if not bare:
                    self._error(table, index, "name", "must contain a name besides the emoji", key)
                elif len(bare) > MAX_NAME_LENGTH:
                    self._error(
                        table, index, "name",
                        f"is too long (at most {MAX_NAME_LENGTH} characters)", key,
                    )
            if self._count_failed(errors_before):
                continue
            if key is not None:
                self.file_categories[key] = (name, emoji)
            if not self.report.failed:
                category = self.categories.resolve(name, emoji=emoji)
                if category is not None and category._state.adding is False:
                    self.report.skipped["categories"] += 1
        if not self.report.failed:
            self.categories.flush()

    # -- recurring rules -----------------------------------------------------------------
    def _normalize_rule(self, index: int, raw) -> _RuleRow | None:
        table = "recurring_transactions"
        errors_before = self.report.errors
        keys = self._row_keys(table, index, raw)
        if keys is None:
            return None
        ref, key = keys
        if ref is not None:
            self.file_rule_refs.add(ref)
        row = _RuleRow()
        row.index, row.ref, row.key = index, ref, key
        check = self._field
        name_source = raw.get("template_name")
        if name_source is None or name_source == "":
            name_source = raw.get("description")
        row.template_name = check(
            table, index, ref, "template_name", f.parse_text, name_source,
            max_length=_RULE_NAME_MAX, required=True,
        )
        row.description = check(
            table, index, ref, "description", f.parse_text, raw.get("description"),
            max_length=_RULE_DESCRIPTION_MAX,
        )
        row.amount = check(
            table, index, ref, "amount", f.parse_amount, raw.get("amount"), required=False
        )
        row.is_variable_amount = check(
            table, index, ref, "is_variable_amount", f.parse_bool,
            raw.get("is_variable_amount"), default=False,
        )
        if row.amount is None and row.is_variable_amount is False:
            row.is_variable_amount = True
            self._warn(
                table, index, "amount", "no amount: imported as a variable-amount rule", ref
            )
        row.type = check(table, index, ref, "type", f.parse_choice, raw.get("type"), choices=TYPES)
        row.category = self._category_name(table, index, ref, raw.get("category"))
        row.frequency = check(
            table, index, ref, "frequency", f.parse_choice, raw.get("frequency"),
            choices=FREQUENCIES, default="monthly",
        )
        row.start_date = check(
            table, index, ref, "start_date", f.parse_month, raw.get("start_date"), tz=self.zone
        )
        if row.start_date is None:
            self._error(table, index, "start_date", "is required", ref)
        row.end_date = check(
            table, index, ref, "end_date", f.parse_month, raw.get("end_date"),
            tz=self.zone, end=True,
        )
        if (
            row.start_date not in (None, _INVALID)
            and row.end_date not in (None, _INVALID)
            and row.end_date < row.start_date
        ):
            self._error(table, index, "end_date", "is before start_date", ref)
        row.day_of_month = check(
            table, index, ref, "day_of_month", f.parse_int, raw.get("day_of_month"), low=1, high=31
        )
        row.is_active = check(
            table, index, ref, "is_active", f.parse_bool, raw.get("is_active"), default=True
        )
        row.occurrence_dates = []
        dates = raw.get("occurrence_dates") if self.own_format else None
        if dates is not None:
            if not isinstance(dates, list):
                self._error(table, index, "occurrence_dates", "must be a list of dates", ref)
            else:
                for value in dates:
                    day = check(
                        table, index, ref, "occurrence_dates", f.parse_date, value, tz=self.zone
                    )
                    if day is not _INVALID:
                        row.occurrence_dates.append(day)
        if self._count_failed(errors_before):
            return None
        if row.key is None:
            row.key = self._fingerprint_key(
                "r", row.template_name, row.type, row.amount, row.start_date, row.day_of_month
            )
        return row

    def _import_rules(self, rows: list) -> None:
        normalized = []
        for index, raw in enumerate(rows):
            row = self._normalize_rule(index, raw)
            if row is not None:
                normalized.append(row)
        if self.report.failed:
            return
        new_rules, seen = [], set()
        occurrence_dates = []
        for row in normalized:
            if row.key in seen:
                self.report.skipped["recurring_transactions"] += 1
                self._warn(
                    "recurring_transactions", row.index, "id",
                    "the same id appears earlier in the file: skipped", row.ref,
                )
                continue
            seen.add(row.key)
            rule = self.existing_rules.get(row.key) or (
                self.existing_rules.get(row.ref) if self.own_format and row.ref else None
            )
            if rule is not None:
                self.report.skipped["recurring_transactions"] += 1
            else:
                rule = RecurringTransaction(
                    user=self.user,
                    template_name=row.template_name,
                    description=row.description,
                    amount=row.amount,
                    type=row.type,
                    category=self._resolve_category(row.category),
                    frequency=row.frequency,
                    start_date=row.start_date,
                    end_date=row.end_date,
                    day_of_month=row.day_of_month,
                    is_active=row.is_active,
                    is_variable_amount=row.is_variable_amount,
                    legacy_id=row.key,
                )
                new_rules.append(rule)
                occurrence_dates.extend((rule, day) for day in row.occurrence_dates)
            if row.ref is not None:
                self.rules_by_ref.setdefault(row.ref, rule)
        self.categories.flush()
        RecurringTransaction.objects.bulk_create(new_rules, batch_size=CHUNK_SIZE)
        self.report.created["recurring_transactions"] = len(new_rules)
        if not self.own_format:  # our own export carries its occurrence records instead
            self.rules_from_browser = new_rules
        for rule, day in occurrence_dates:
            self._record_occurrence(rule, day)
        self._flush_occurrences()

    def _close_past_dates(self) -> None:
        """Record every date before the import day on which a rule imported from the browser
        was in effect but the file has no transaction of it (see the module docstring)."""
        yesterday = self.now.astimezone(self.zone).date() - datetime.timedelta(days=1)
        closed = 0
        for rule in self.rules_from_browser:
            if rule.start_date > yesterday:
                continue
            for day in recurring_occurrence_dates(
                rule=rule, date_from=month_start(rule.start_date), date_to=yesterday
            ):
                if (rule.pk, day) not in self.recorded_occurrences:
                    self._record_occurrence(rule, day)
                    closed += 1
        created = self.report.created["occurrences"]
        self._flush_occurrences()
        self.report.created["occurrences"] = created  # these are counted apart
        self.report.created["past_dates_closed"] = closed

    def _rule_for(self, ref: str) -> RecurringTransaction | None:
        return self.rules_by_ref.get(ref) or self.existing_rules.get(ref)

    def _rule_known(self, ref: str) -> bool:
        return ref in self.file_rule_refs or ref in self.existing_rules

    def _record_occurrence(self, rule, day) -> None:
        pair = (rule.pk, day)
        if pair not in self.recorded_occurrences:
            self.recorded_occurrences.add(pair)
            self.new_occurrences.append(RecurringOccurrence(recurring=rule, date=day))

    def _flush_occurrences(self) -> None:
        if self.new_occurrences:
            RecurringOccurrence.objects.bulk_create(
                self.new_occurrences, batch_size=CHUNK_SIZE, ignore_conflicts=True
            )
            self.report.created["occurrences"] += len(self.new_occurrences)
            self.new_occurrences = []

    def _fingerprint_key(self, *parts) -> str:
        digest = _fingerprint(*parts)[:24]
        seen = self.fingerprints.get(digest, 0) + 1
        self.fingerprints[digest] = seen
        return f"h:{digest}:{seen}"

    # -- transactions --------------------------------------------------------------------
    def _normalize_transaction(self, index: int, raw) -> _TxRow | None:
        table = "transactions"
        errors_before = self.report.errors
        keys = self._row_keys(table, index, raw)
        if keys is None:
            return None
        ref, key = keys
        row = _TxRow()
        row.index, row.key = index, key
        row.server_id = ref if self.own_format else None
        check = self._field
        row.date = check(table, index, ref, "date", f.parse_date, raw.get("date"), tz=self.zone)
        row.description = check(
            table, index, ref, "description", f.parse_text, raw.get("description"),
            max_length=_TX_DESCRIPTION_MAX,
        )
        row.type = check(table, index, ref, "type", f.parse_choice, raw.get("type"), choices=TYPES)
        row.status = check(
            table, index, ref, "status", f.parse_choice, raw.get("status"),
            choices=STATUSES, default=TransactionStatus.CONFIRMED,
        )
        row.rule_ref = check(
            table, index, ref, "recurring_id", f.parse_key, raw.get("recurring_id")
        )
        linked = row.rule_ref not in (None, _INVALID)
        if linked and not self._rule_known(row.rule_ref):
            self._warn(
                table, index, "recurring_id",
                f"no recurring rule with id {row.rule_ref!r}: imported without the link", ref,
            )
            row.rule_ref = None
        amount_missing = raw.get("amount") is None or raw.get("amount") == ""
        pending = amount_missing and linked and row.status == TransactionStatus.SCHEDULED
        if pending:
            row.amount = None  # a variable-amount occurrence whose amount is not known yet
        else:
            row.amount = check(table, index, ref, "amount", f.parse_amount, raw.get("amount"))
        row.category = self._category_name(table, index, ref, raw.get("category"))
        if self._count_failed(errors_before):
            return None
        if row.key is None:
            row.key = self._fingerprint_key(
                "t", row.date, row.type, row.amount, row.description, row.category
            )
        return row

    def _import_transactions(self, rows: list) -> None:
        total = len(rows)
        for start in range(0, total, CHUNK_SIZE):
            stop = min(start + CHUNK_SIZE, total)
            batch = []
            for index in range(start, stop):
                row = self._normalize_transaction(index, rows[index])
                rows[index] = None  # the raw row is no longer needed: keep memory bounded
                if row is not None:
                    batch.append(row)
            if not self.report.failed:
                self._write_transactions(batch)
            if self.progress is not None:
                self.progress(stop, total)

    def _load_existing_transaction_keys(self) -> set[str]:
        """Every key the user already has: legacy ids (and, for an own export, ids).

        One sequential read up front, rather than an `IN (…)` query per chunk: PostgreSQL
        often picks the (user, date) index for those and rescans the user's rows each time.
        """
        if self.report.mode == "replace":
            return set()  # the user's transactions were deleted; repeats are caught in-file
        mine = Transaction.objects.filter(user=self.user)
        found = set(mine.exclude(legacy_id="").values_list("legacy_id", flat=True))
        if self.own_format:
            found.update(str(pk) for pk in mine.values_list("pk", flat=True))
        return found

    def _write_transactions(self, batch: list[_TxRow]) -> None:
        table = "transactions"
        existing = self.existing_tx_keys
        skipped = self.report.skipped
        new = []
        for row in batch:
            if row.key in self.seen_tx_keys:
                skipped[table] += 1
                self._warn(
                    table, row.index, "id",
                    "the same id appears earlier in the file: skipped", row.key,
                )
                continue
            self.seen_tx_keys.add(row.key)
            if row.key in existing or (row.server_id and row.server_id in existing):
                skipped[table] += 1
                continue
            rule = self._rule_for(row.rule_ref) if row.rule_ref is not None else None
            if rule is not None:
                pair = (rule.pk, row.date)
                if pair in self.taken_rule_dates:
                    skipped[table] += 1
                    self._warn(
                        table, row.index, "recurring_id",
                        f"the rule's occurrence on {row.date} already exists: skipped", row.key,
                    )
                    continue
                if pair in self.file_rule_dates:
                    self._warn(
                        table, row.index, "recurring_id",
                        f"a second occurrence of the same rule on {row.date}: "
                        "imported without the link",
                        row.key,
                    )
                    rule = None
                else:
                    self.file_rule_dates.add(pair)
            if row.amount is None and rule is None:
                skipped[table] += 1
                self._warn(
                    table, row.index, "amount",
                    "a pending occurrence without an amount cannot stand without its rule: "
                    "skipped",
                    row.key,
                )
                continue
            category = self._resolve_category(row.category)
            new.append((
                uuid.uuid4(), self.user.pk, row.date, row.description, row.amount, row.type,
                category.pk if category is not None else None, row.status,
                rule.pk if rule is not None else None, row.key, self.now, self.now,
            ))
            if rule is not None:
                self._record_occurrence(rule, row.date)
        self.categories.flush()
        _insert_transactions(new)
        self.report.created[table] += len(new)
        self._flush_occurrences()


# Column order of the rows `_write_transactions` builds.
_TRANSACTION_COLUMNS = (
    "id", "user", "date", "description", "amount", "type", "category", "status", "recurring",
    "legacy_id", "created_at", "updated_at",
)


def _insert_transactions(rows: list[tuple]) -> None:
    """Insert transaction rows: PostgreSQL's COPY (fast, constraints still enforced), or
    bulk_create on other databases (the SQLite of `make run`)."""
    if not rows:
        return
    fields = [Transaction._meta.get_field(name) for name in _TRANSACTION_COLUMNS]
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        statement = f"COPY {quote(Transaction._meta.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    names = [f.attname for f in fields]
    Transaction.objects.bulk_create(
        [Transaction(**dict(zip(names, row, strict=True))) for row in rows],
        batch_size=CHUNK_SIZE,
    )
