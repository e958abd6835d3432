"""Budgets in this API's own export and import: the document's `budgets` table.

Export: every change of the ledger's budget, oldest first, each rendered as `GET
/budgets/{month}` renders it (`ledger.api.budgets.BudgetSerializer`) for the month it was made
in (`month` = `since`).

Import (called by `importer` once the transactions are written, in the same database
transaction): each row becomes the change of its month through `budget_set`, so the same
rules hold (expense categories only, each once, amounts > 0). A line names its category by
`category_name` (and `category_emoji`), found like a transaction's (`CategoryResolver`: a
default by name, the ledger's own, or one created), since ids differ between users. Merge skips
a month the ledger already has a change for; replace deletes the ledger's budgets first. A file
without the table (the SPA's, Dexie's, an older export) leaves budgets alone. The report
counts `budgets` only when the file has some (or replace deleted some).
"""

import datetime
from collections.abc import Iterator

from django.core.exceptions import ValidationError

from ledger.api.budgets import BudgetSerializer
from ledger.dates import month_start
from ledger.models import Budget
from ledger.selectors.budgets import budget_changes
from ledger.services.budgets import budget_bulk_delete, budget_set

from .categories import CategoryResolver, read_category
from .fields import FieldError, parse_amount, parse_bool, parse_month
from .report import ImportReport

TABLE = "budgets"


def budget_export_rows(*, ledger) -> Iterator[dict]:
    """The ledger's budget changes, oldest first, as the API renders a budget."""
    rendering = BudgetSerializer()
    for change in budget_changes(ledger=ledger):
        yield rendering.to_representation(change)


class _RowError(Exception):
    def __init__(self, field: str, reason: str):
        self.field, self.reason = field, reason


def _read_row(raw, *, categories: CategoryResolver, time_zone: str) -> dict:
    """A file row as `budget_set`'s arguments; _RowError naming the field at fault."""
    if not isinstance(raw, dict):
        raise _RowError("month", "must be an object {since, total, categories}")
    try:
        month = parse_month(raw.get("since") or raw.get("month"), time_zone=time_zone)
    except FieldError as error:
        raise _RowError("since", str(error)) from error
    if month is None:
        raise _RowError("since", "is required")
    try:
        total = parse_amount(raw.get("total"), required=False)
    except FieldError as error:
        raise _RowError("total", str(error)) from error
    lines = raw.get("categories", [])
    if not isinstance(lines, list):
        raise _RowError("categories", "must be a list of lines")
    read = []
    for index, line in enumerate(lines):
        where = f"categories[{index}]"
        if not isinstance(line, dict):
            raise _RowError(where, "must be an object {category_name, amount, carry_over}")
        value = {"name": line.get("category_name"), "emoji": line.get("category_emoji")}
        named, _, reason = read_category(value, file_categories={})
        if named is None:
            raise _RowError(f"{where}.category_name", reason)
        try:
            amount = parse_amount(line.get("amount"))
        except FieldError as error:
            raise _RowError(f"{where}.amount", str(error)) from error
        try:
            carry_over = parse_bool(line.get("carry_over"), default=False)
        except FieldError as error:
            raise _RowError(f"{where}.carry_over", str(error)) from error
        category = categories.resolve(named[0], emoji=named[1])
        read.append({"category": category, "amount": amount, "carry_over": carry_over})
    return {"month": month_start(month), "total": total, "categories": read}


def budgets_import(
    *,
    ledger,
    rows: list | None,
    replace: bool,
    categories: CategoryResolver,
    report: ImportReport,
    time_zone: str,
) -> None:
    """Write the file's budget changes for `ledger` (see the module docstring). Every problem
    goes to `report` as an error: the importer then refuses the whole file and rolls back."""
    if rows is None:
        return
    counted = bool(rows)
    months: set[datetime.date] = set()
    changes = []
    for index, raw in enumerate(rows):
        try:
            change = _read_row(raw, categories=categories, time_zone=time_zone)
        except _RowError as error:
            report.error(TABLE, index, error.field, error.reason)
            report.failed += 1
            continue
        if change["month"] in months:
            report.error(TABLE, index, "since", "a second change for the same month")
            report.failed += 1
            continue
        months.add(change["month"])
        changes.append((index, change))
    if report.failed:
        return
    refused = categories.flush()
    if refused:
        report.error("categories", None, "name", refused)
        report.failed += 1
        return

    deleted = 0
    if replace:
        deleted = budget_bulk_delete(ledger=ledger, queryset=Budget.objects.filter(ledger=ledger))
    existing = set(Budget.objects.filter(ledger=ledger).values_list("month", flat=True))
    created = skipped = 0
    for index, change in changes:
        if change["month"] in existing:
            skipped += 1
            continue
        try:
            budget_set(ledger=ledger, **change)
        except ValidationError as error:
            for field, reasons in error.message_dict.items():
                report.error(TABLE, index, field, "; ".join(reasons))
            report.failed += 1
            continue
        created += 1
    if counted or deleted:
        report.rows[TABLE] = len(rows)
        report.created[TABLE] = created
        report.skipped[TABLE] = skipped
        report.deleted[TABLE] = deleted
