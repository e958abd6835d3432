"""Raw rows of a recognised file → normalised rows: pure functions, no database.

Every value is parsed by `fields` (the product's date range and local dates included); a bad
value is an error naming the row and field in the report, a doubtful one a warning. A row with
any error is counted as failed and left out. Each row gets the key it is remembered by
(`legacy_id`): the browser's id, or a content fingerprint for rows without one.

The three formats differ only in where a row keeps a value: `recurring_id` / `category` (the
SPA, Dexie, this API's export version 1) or `recurring` / `category_name` (export version 2,
the API's own rendering of a transaction and a rule).
"""

import datetime
import hashlib
from collections.abc import Iterator
from itertools import islice

from ledger.models import RecurringTransaction, Transaction, TransactionStatus

from . import fields as f
from .categories import MAX_NAME_LENGTH, read_category, split_emoji
from .formats import OWN, Source
from .report import ImportReport
from .rows import CategoryRow, NamedCategory, RuleRow, TransactionRow

CHUNK_SIZE = 2000
TYPES = {"income": "income", "expense": "expense", "수입": "income", "지출": "expense"}
STATUSES = {"confirmed": "confirmed", "scheduled": "scheduled"}
FREQUENCIES = {"monthly": "monthly", "yearly": "yearly"}

_TX_DESCRIPTION_MAX = Transaction._meta.get_field("description").max_length
_RULE_NAME_MAX = RecurringTransaction._meta.get_field("template_name").max_length
_RULE_DESCRIPTION_MAX = RecurringTransaction._meta.get_field("description").max_length
_INVALID = object()


class Normalizer:
    """Normalises the rows of `source` table by table: categories, rules, then transactions
    (whose category ids and rule ids refer to the first two)."""

    def __init__(self, *, source: Source, time_zone: str, report: ImportReport):
        self.source = source
        self.time_zone = time_zone
        self.report = report
        self.own_format = source.format == OWN
        self.v2 = self.own_format and source.version >= 2
        self.link_field = "recurring" if self.v2 else "recurring_id"
        self.file_categories: dict[str, NamedCategory] = {}  # file category id → named
        self.fingerprints: dict[str, int] = {}
        self.seen_keys: set[str] = set()

    # -- tables ------------------------------------------------------------------------------
    def categories(self) -> list[CategoryRow]:
        table, found = "categories", []
        for index, raw in enumerate(self.source.categories or ()):
            errors_before = self.report.errors
            keys = self._row_keys(table, index, raw)
            if keys is None:
                continue
            ref = keys[0]
            name = self._field(
                table,
                index,
                ref,
                "name",
                f.parse_text,
                raw.get("name"),
                max_length=MAX_NAME_LENGTH + 20,
                required=True,
            )
            emoji = raw.get("emoji") if isinstance(raw.get("emoji"), str) else ""
            if name is not _INVALID:
                _, bare = split_emoji(name)
                if not bare:
                    self.report.error(
                        table, index, "name", "must contain a name besides the emoji", ref
                    )
                elif len(bare) > MAX_NAME_LENGTH:
                    self.report.error(
                        table,
                        index,
                        "name",
                        f"is too long (at most {MAX_NAME_LENGTH} characters)",
                        ref,
                    )
            if self._count_failed(errors_before):
                continue
            if ref is not None:
                self.file_categories[ref] = (name, emoji)
            found.append(CategoryRow(index=index, name=name, emoji=emoji))
        return found

    def rules(self) -> list[RuleRow]:
        table, found, seen = "recurring_transactions", [], set()
        for index, raw in enumerate(self.source.recurring_transactions or ()):
            row = self._rule(index, raw)
            if row is None:
                continue
            if row.key in seen:
                self.report.skipped[table] += 1
                self.report.warn(
                    table, index, "id", "the same id appears earlier in the file: skipped", row.ref
                )
                continue
            seen.add(row.key)
            found.append(row)
        return found

    def transactions(self) -> Iterator[tuple[int, list[TransactionRow]]]:
        """(rows read so far, their normalised rows) per chunk. The rows are read from the
        file as they come (`stream.StreamedRows`), so memory stays bounded by the chunk."""
        rows = enumerate(self.source.transactions)
        while raw_chunk := list(islice(rows, CHUNK_SIZE)):
            chunk = []
            for index, raw in raw_chunk:
                row = self._transaction(index, raw)
                if row is not None:
                    chunk.append(row)
            yield raw_chunk[-1][0] + 1, chunk

    # -- rows --------------------------------------------------------------------------------
    def _rule(self, index: int, raw) -> RuleRow | None:
        table, errors_before = "recurring_transactions", self.report.errors
        keys = self._row_keys(table, index, raw)
        if keys is None:
            return None
        ref, key = keys
        check = self._field
        name_source = raw.get("template_name")
        if name_source is None or name_source == "":
            name_source = raw.get("description")
        values = {
            "template_name": check(
                table,
                index,
                ref,
                "template_name",
                f.parse_text,
                name_source,
                max_length=_RULE_NAME_MAX,
                required=True,
            ),
            "description": check(
                table,
                index,
                ref,
                "description",
                f.parse_text,
                raw.get("description"),
                max_length=_RULE_DESCRIPTION_MAX,
            ),
            "amount": check(
                table, index, ref, "amount", f.parse_amount, raw.get("amount"), required=False
            ),
            "is_variable_amount": check(
                table,
                index,
                ref,
                "is_variable_amount",
                f.parse_bool,
                raw.get("is_variable_amount"),
                default=False,
            ),
            "type": check(
                table, index, ref, "type", f.parse_choice, raw.get("type"), choices=TYPES
            ),
            "category": self._category(table, index, ref, raw),
            "frequency": check(
                table,
                index,
                ref,
                "frequency",
                f.parse_choice,
                raw.get("frequency"),
                choices=FREQUENCIES,
                default="monthly",
            ),
            "start_date": check(
                table,
                index,
                ref,
                "start_date",
                f.parse_month,
                raw.get("start_date"),
                time_zone=self.time_zone,
            ),
            "end_date": check(
                table,
                index,
                ref,
                "end_date",
                f.parse_month,
                raw.get("end_date"),
                time_zone=self.time_zone,
                end=True,
            ),
            "day_of_month": check(
                table,
                index,
                ref,
                "day_of_month",
                f.parse_int,
                raw.get("day_of_month"),
                low=1,
                high=31,
            ),
            "is_active": check(
                table, index, ref, "is_active", f.parse_bool, raw.get("is_active"), default=True
            ),
            "occurrence_dates": self._occurrence_dates(table, index, ref, raw),
        }
        if values["amount"] is None and values["is_variable_amount"] is False:
            values["is_variable_amount"] = True
            self.report.warn(
                table, index, "amount", "no amount: imported as a variable-amount rule", ref
            )
        if values["start_date"] is None:
            self.report.error(table, index, "start_date", "is required", ref)
        if self._count_failed(errors_before):
            return None
        if key is None:
            key = self._fingerprint_key(
                "r",
                values["template_name"],
                values["type"],
                values["amount"],
                values["start_date"],
                values["day_of_month"],
            )
        return RuleRow(index=index, ref=ref, key=key, **values)

    def _occurrence_dates(self, table, index, ref, raw) -> list[datetime.date]:
        """This API's export carries the dates its rule already materialized."""
        dates = raw.get("occurrence_dates") if self.own_format else None
        if dates is None:
            return []
        if not isinstance(dates, list):
            self.report.error(table, index, "occurrence_dates", "must be a list of dates", ref)
            return []
        parsed = (
            self._field(
                table, index, ref, "occurrence_dates", f.parse_date, value, time_zone=self.time_zone
            )
            for value in dates
        )
        return [day for day in parsed if day is not _INVALID]

    def _transaction(self, index: int, raw) -> TransactionRow | None:
        table, errors_before = "transactions", self.report.errors
        keys = self._row_keys(table, index, raw)
        if keys is None:
            return None
        ref, key = keys
        check = self._field
        date = check(
            table, index, ref, "date", f.parse_date, raw.get("date"), time_zone=self.time_zone
        )
        description = check(
            table,
            index,
            ref,
            "description",
            f.parse_text,
            raw.get("description"),
            max_length=_TX_DESCRIPTION_MAX,
        )
        kind = check(table, index, ref, "type", f.parse_choice, raw.get("type"), choices=TYPES)
        status = check(
            table,
            index,
            ref,
            "status",
            f.parse_choice,
            raw.get("status"),
            choices=STATUSES,
            default=TransactionStatus.CONFIRMED,
        )
        link = self.link_field
        rule_ref = check(table, index, ref, link, f.parse_key, raw.get(link))
        amount_missing = raw.get("amount") is None or raw.get("amount") == ""
        linked = rule_ref not in (None, _INVALID)
        if amount_missing and linked and status == TransactionStatus.SCHEDULED:
            amount = None  # a variable-amount occurrence whose amount is not known yet
        else:
            amount = check(table, index, ref, "amount", f.parse_amount, raw.get("amount"))
        category = self._category(table, index, ref, raw)
        if self._count_failed(errors_before):
            return None
        if key is None:
            key = self._fingerprint_key("t", date, kind, amount, description, category)
        if key in self.seen_keys:
            self.report.skipped[table] += 1
            self.report.warn(
                table, index, "id", "the same id appears earlier in the file: skipped", key
            )
            return None
        self.seen_keys.add(key)
        return TransactionRow(
            index=index,
            key=key,
            server_id=ref if self.own_format else None,
            date=date,
            description=description,
            amount=amount,
            type=kind,
            category=category,
            status=status,
            rule_ref=rule_ref,
        )

    # -- values ------------------------------------------------------------------------------
    def _field(self, table, index, key, field_name, parse, *args, **kwargs):
        try:
            return parse(*args, **kwargs)
        except f.FieldError as exc:
            self.report.error(table, index, field_name, str(exc), key)
            return _INVALID

    def _count_failed(self, errors_before: int) -> bool:
        if self.report.errors > errors_before:
            self.report.failed += 1
            return True
        return False

    def _row_keys(self, table, index, raw) -> tuple | None:
        """(the id the file uses, the key to remember); (None, None) when they are invalid
        (reported); None when the row is not an object (reported and failed): skip it."""
        if not isinstance(raw, dict):
            self.report.error(table, index, None, "must be an object")
            self.report.failed += 1
            return None
        ref = self._field(table, index, None, "id", f.parse_key, raw.get("id"))
        if ref is _INVALID:
            return None, None
        key = ref
        if self.own_format and raw.get("legacy_id") not in (None, ""):
            key = self._field(table, index, ref, "legacy_id", f.parse_key, raw.get("legacy_id"))
            if key is _INVALID:
                return None, None
        return ref, key

    def _category(self, table, index, key, raw) -> NamedCategory | None:
        """The category a row names, or None (a warning says why, or an error fails the row)."""
        if self.v2:  # the rendering: the id is the exporting server's, the name is portable
            name = raw.get("category_name")
            value = None if name is None else {"name": name, "emoji": raw.get("category_emoji")}
        else:
            value = raw.get("category")
        named, level, reason = read_category(value, file_categories=self.file_categories)
        if reason:
            self.report.add(level, table, index, "category", reason, key)
        return named

    def _fingerprint_key(self, *parts) -> str:
        text = "|".join(str(p) for p in parts).encode()
        digest = hashlib.sha1(text, usedforsecurity=False).hexdigest()[:24]
        seen = self.fingerprints.get(digest, 0) + 1
        self.fingerprints[digest] = seen
        return f"h:{digest}:{seen}"
