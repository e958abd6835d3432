"""manage.py import_indexeddb FILE --user <clerk_user_id|email> [--mode] [--yes] [--dry-run]
[--timezone] [--max-rows] [--report-json FILE] [--no-progress]

For support staff: imports a user's browser data (the SPA's backup file, a Dexie dump of
ledgerDB from extract-indexeddb.js, or this API's export) through the same service as
POST /backup/import, reading the file as a stream. Exits non-zero, listing every problem, when
the file is refused.

`--mode replace` deletes the user's data first: on a terminal the command asks before it
starts; without one (a script, a Job) it needs `--yes`. On a terminal, the progress of each
step (reading the file, each table) shows rows, rate and time left (rich).
"""

import json
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.filesize import decimal
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from household_ledger.api.rendering import JSONEncoder
from ledger.selectors.categories import category_list
from ledger.selectors.recurring import recurring_list
from ledger.selectors.transactions import transaction_list
from ledger.services.backup import (
    MODES,
    BackupError,
    BackupRowsInvalid,
    ImportReport,
    backup_import,
)
from ledger.services.ledgers import personal_ledger

_TABLES = ("categories", "recurring_transactions", "transactions")
_STEPS = {
    "file": "reading the file",
    "categories": "categories",
    "recurring_transactions": "recurring rules",
    "transactions": "transactions",
}


class Command(BaseCommand):
    stealth_options = ("stdin",)  # tests answer the confirmation through call_command
    help = (
        "Import a user's IndexedDB data (SPA backup, Dexie dump of ledgerDB, or this API's "
        "export) in one all-or-nothing transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the JSON file to import")
        parser.add_argument(
            "--user", required=True, help="the user's Clerk user id (user_…) or email"
        )
        parser.add_argument(
            "--mode",
            choices=MODES,
            default="merge",
            help="merge (default): add what is new; replace: delete the user's transactions "
            "(and rules/categories when the file has them) first — asks on a terminal, "
            "else needs --yes",
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="confirm --mode replace without asking (needed without a terminal)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would happen; write nothing"
        )
        parser.add_argument(
            "--timezone",
            default=None,
            help="time zone that turns the file's instants into dates "
            "(default: the user's, normally TIME_ZONE = Asia/Seoul)",
        )
        parser.add_argument(
            "--max-rows",
            type=int,
            default=None,
            help="most rows accepted, all tables together (default: IMPORT_MAX_ROWS)",
        )
        parser.add_argument(
            "--report-json",
            metavar="FILE",
            default=None,
            help="write the report (as POST /backup/import answers it) to FILE, also when "
            "the file is refused for invalid rows",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress display")

    def handle(self, *args, **options):
        user = _find_user(options["user"])
        if options["mode"] == "replace" and not options["dry_run"]:
            self._confirm_replace(user, yes=options["yes"], stdin=options.get("stdin"))
        try:
            file = open(options["file"], "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror or exc}") from exc

        console = Console(file=options.get("stderr") or sys.stderr)
        progress = _ImportProgress(console, enabled=not options["no_progress"])
        try:
            with file, progress:
                report = backup_import(
                    ledger=personal_ledger(user=user),
                    created_by=user,
                    file=file,
                    mode=options["mode"],
                    dry_run=options["dry_run"],
                    time_zone=options["timezone"] or user.time_zone,
                    max_rows=options["max_rows"],
                    progress=progress.update,
                )
        except BackupRowsInvalid as exc:
            self._write_report_json(exc.report, options["report_json"])
            self._print_report(exc.report, options["file"], user)
            raise CommandError(f"{exc.message} {exc.report.errors} error(s) listed above.") from exc
        except BackupError as exc:
            details = "".join(
                f"\n  {name}: {'; '.join(map(str, reasons))}"
                for name, reasons in exc.fields.items()
            )
            raise CommandError(f"{exc.message}{details}") from exc
        self._write_report_json(report, options["report_json"])
        self._print_report(report, options["file"], user)
        if not report.ok:
            raise CommandError(
                f"Dry run: {report.failed} invalid row(s); the import would be refused."
            )

    # -- confirmation ----------------------------------------------------------------------
    def _confirm_replace(self, user, *, yes: bool, stdin) -> None:
        if yes:
            return
        stdin = stdin or sys.stdin
        who = user.clerk_user_id or user.email
        ledger = personal_ledger(user=user)
        if not stdin.isatty():
            raise CommandError(
                f"--mode replace deletes {who}'s data before importing; there is no terminal "
                "to ask on, so pass --yes to confirm (or --dry-run to see what would happen)."
            )
        counts = (
            f"{transaction_list(ledger=ledger).count():,} transaction(s), "
            f"{recurring_list(ledger=ledger).count():,} recurring rule(s) and "
            f"{category_list(ledger=ledger).filter(ledger=ledger).count():,} own categor(y/ies)"
        )
        self.stdout.write(
            f"--mode replace deletes {who}'s {counts} first (rules and categories only when "
            "the file has those tables), then imports the file."
        )
        self.stdout.write("Type yes to continue: ", ending="")
        self.stdout.flush()
        if stdin.readline().strip().lower() != "yes":
            raise CommandError("Not confirmed: nothing was changed.")

    # -- output ----------------------------------------------------------------------------
    def _write_report_json(self, report: ImportReport, path: str | None) -> None:
        if not path:
            return
        try:
            with open(path, "w", encoding="utf-8") as out:
                json.dump(report.as_dict(), out, ensure_ascii=False, indent=2, cls=JSONEncoder)
                out.write("\n")
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror or exc}") from exc

    def _print_report(self, report: ImportReport, path: str, user) -> None:
        out = self.stdout
        verb = "Dry run of the import" if report.dry_run else "Import"
        out.write(
            f"{verb} of {path} for {user.clerk_user_id or user.email} "
            f"(format {report.format}, mode {report.mode}, time zone {report.time_zone})"
        )
        header = (
            f"{'':24}{'in file':>9}{'created':>9}{'skipped':>9}{'deleted':>9}"
            f"{'updated':>9}{'conflicts':>10}{'missing':>9}"
        )
        out.write(header)
        out.write("-" * len(header))
        for table in _TABLES:
            out.write(
                f"{table:24}{report.rows[table]:>9,}{report.created[table]:>9,}"
                f"{report.skipped[table]:>9,}{report.deleted[table]:>9,}"
                f"{report.updated[table]:>9,}{report.conflicts[table]:>10,}"
                f"{report.missing_from_file[table]:>9,}"
            )
        out.write(f"occurrence records created: {report.created['occurrences']:,}")
        out.write(
            f"invalid rows: {report.failed:,}   errors: {report.errors:,}   "
            f"warnings: {report.warnings:,}"
        )
        for problem in report.problems:
            where = problem.table if problem.index is None else f"{problem.table}[{problem.index}]"
            if problem.field:
                where += f".{problem.field}"
            ident = f" (id {problem.id})" if problem.id else ""
            line = f"  {problem.level:7} {where}{ident}: {problem.reason}"
            (self.stderr if problem.level == "error" else out).write(line)
        if report.problems_not_listed:
            out.write(f"  … and {report.problems_not_listed:,} more problems not listed")
        for change in report.changes:
            out.write(_change_line(change))
        if report.changes_not_listed:
            out.write(f"  … and {report.changes_not_listed:,} more changes not listed")
        if report.ok and not report.dry_run:
            out.write(self.style.SUCCESS("Imported."))
        elif report.ok:
            out.write(self.style.SUCCESS("Dry run: nothing was written."))


def _change_line(change) -> str:
    """A re-imported row: `updated …: amount 9000 → 9500`, a conflict with both values."""
    where = change.table if change.index is None else f"{change.table}[{change.index}]"
    ident = f" (id {change.id})" if change.id else ""
    if change.action == "missing_from_file":
        return f"  missing  {where}{ident}: not in the file, left as it is"
    if change.action == "updated":
        diffs = (f"{name} {change.server[name]} → {change.file[name]}" for name in change.fields)
        return f"  updated  {where}{ident}: {', '.join(diffs)}"
    diffs = (
        f"{name} server {change.server[name]} / file {change.file[name]}" for name in change.fields
    )
    return f"  conflict {where}{ident}: {', '.join(diffs)}; the server's version stays"


def _amount(task, value: float) -> str:
    return decimal(int(value)) if task.fields.get("unit") == "bytes" else f"{int(value):,}"


class _DoneColumn(ProgressColumn):
    """Done/total, in rows (or bytes for the file)."""

    def render(self, task) -> Text:
        return Text(
            f"{_amount(task, task.completed)}/{_amount(task, task.total or 0)}",
            style="progress.download",
        )


class _RateColumn(ProgressColumn):
    """Rows (or bytes) a second."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text("–", style="progress.data.speed")
        unit = "" if task.fields.get("unit") == "bytes" else " rows"
        return Text(f"{_amount(task, speed)}{unit}/s", style="progress.data.speed")


class _ImportProgress:
    """One line per step of the import (the file, then each table): done/total, rate, ETA.
    Live on a terminal; elsewhere rich prints the final lines once, at the end."""

    def __init__(self, console: Console, *, enabled: bool):
        self.enabled = enabled
        self.tasks: dict[str, int] = {}
        self.progress = Progress(
            TextColumn("{task.description:<18}"),
            BarColumn(),
            _DoneColumn(),
            _RateColumn(),
            TimeRemainingColumn(),
            console=console,
        )

    def __enter__(self):
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *exc_info):
        if self.enabled:
            self.progress.stop()

    def update(self, step: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if step not in self.tasks:
            self.tasks[step] = self.progress.add_task(
                _STEPS.get(step, step), total=total, unit="bytes" if step == "file" else "rows"
            )
        self.progress.update(self.tasks[step], completed=done, total=total)


def _find_user(identity: str):
    identity = identity.strip()
    if not identity:
        raise CommandError("--user must be a Clerk user id or an email.")
    users = get_user_model().objects
    matches = list(users.filter(clerk_user_id=identity)) or list(
        users.filter(email__iexact=identity)
    )
    if not matches:
        raise CommandError(f"No user with Clerk user id or email {identity!r}.")
    if len(matches) > 1:
        raise CommandError(
            f"{len(matches)} users have the email {identity!r}; pass the Clerk user id instead."
        )
    user = matches[0]
    if user.deleted_at is not None:
        raise CommandError(f"User {identity!r} was deleted in Clerk; refusing to import.")
    return user
