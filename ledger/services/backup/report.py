"""What an import did, or (a dry run, a refused file) would have done: counts, problems and,
for a re-import, the rows it changes or leaves for someone to decide (`changes`).

The report's `as_dict()` is the JSON of `POST /backup/import` and of the command's
`--report-json`; the parse and write steps add to it as they go.
"""

from dataclasses import dataclass, field

MAX_LISTED_PROBLEMS = 1000
MAX_LISTED_CHANGES = MAX_LISTED_PROBLEMS
TABLES = ("categories", "recurring_transactions", "transactions")
# What a re-import does with a row it imported before (ledger.services.backup.merge).
UPDATED, CONFLICT, MISSING_FROM_FILE = "updated", "conflict", "missing_from_file"


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


@dataclass
class Change:
    """A row a re-import updates (`updated`), keeps against the file (`conflict`: both sides
    changed it) or leaves alone although the file lacks it (`missing_from_file`)."""

    action: str
    table: str
    index: int | None  # the row in the file; None for missing_from_file
    id: str | None  # the row's id in the file (its legacy_id)
    server_id: str
    fields: list[str]  # the fields that differ
    server: dict  # the server's version (before the update, for `updated`)
    file: dict | None

    def as_dict(self) -> dict:
        return {
            "action": self.action,
            "table": self.table,
            "index": self.index,
            "id": self.id,
            "server_id": self.server_id,
            "fields": self.fields,
            "server": self.server,
            "file": self.file,
        }


def _counts() -> dict:
    return dict.fromkeys(TABLES, 0)


@dataclass
class ImportReport:
    format: str = ""
    mode: str = "merge"
    dry_run: bool = False
    time_zone: str = ""
    rows: dict = field(default_factory=_counts)  # rows in the file, per table
    created: dict = field(
        default_factory=lambda: {**_counts(), "occurrences": 0, "past_dates_closed": 0}
    )
    updated: dict = field(default_factory=_counts)  # imported before, changed in the browser
    skipped: dict = field(default_factory=_counts)  # already imported (or otherwise left out)
    conflicts: dict = field(default_factory=_counts)  # changed on both sides: the server's kept
    missing_from_file: dict = field(default_factory=_counts)  # imported before, not in the file
    deleted: dict = field(default_factory=_counts)  # replace mode
    failed: int = 0  # rows with at least one error
    errors: int = 0
    warnings: int = 0
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def problems_not_listed(self) -> int:
        return self.errors + self.warnings - len(self.problems)

    @property
    def changes_not_listed(self) -> int:
        total = sum(sum(counts.values()) for counts in self._change_counts().values())
        return total - len(self.changes)

    def _change_counts(self) -> dict[str, dict]:
        return {
            UPDATED: self.updated,
            CONFLICT: self.conflicts,
            MISSING_FROM_FILE: self.missing_from_file,
        }

    def change(self, action, table, index, key, server_id, *, fields, server, file=None) -> None:
        """Count a re-imported row's change (see `Change`) and list it, up to the limit."""
        self._change_counts()[action][table] += 1
        if len(self.changes) < MAX_LISTED_CHANGES:
            self.changes.append(
                Change(action, table, index, key, str(server_id), list(fields), server, file)
            )

    def add(self, level, table, index, field_name, reason, key=None) -> None:
        if level == "error":
            self.errors += 1
        else:
            self.warnings += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(Problem(level, table, index, field_name, reason, key))

    def error(self, table, index, field_name, reason, key=None) -> None:
        self.add("error", table, index, field_name, reason, key)

    def warn(self, table, index, field_name, reason, key=None) -> None:
        self.add("warning", table, index, field_name, reason, key)

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
            "updated": self.updated,
            "skipped": self.skipped,
            "conflicts": self.conflicts,
            "missing_from_file": self.missing_from_file,
            "deleted": self.deleted,
            "failed": self.failed,
            "errors": self.errors,
            "warnings": self.warnings,
            "problems": [p.as_dict() for p in self.problems],
            "problems_not_listed": self.problems_not_listed,
            "changes": [c.as_dict() for c in self.changes],
            "changes_not_listed": self.changes_not_listed,
        }
