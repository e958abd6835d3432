"""What an import did, or (a dry run, a refused file) would have done: counts and problems.

The report's `as_dict()` is the JSON of `POST /backup/import` and of the command's
`--report-json`; the parse and write steps add to it as they go.
"""

from dataclasses import dataclass, field

MAX_LISTED_PROBLEMS = 1000
TABLES = ("categories", "recurring_transactions", "transactions")


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
            "skipped": self.skipped,
            "deleted": self.deleted,
            "failed": self.failed,
            "errors": self.errors,
            "warnings": self.warnings,
            "problems": [p.as_dict() for p in self.problems],
            "problems_not_listed": self.problems_not_listed,
        }
