"""manage.py import_indexeddb FILE --user <clerk_user_id|email> [--mode] [--dry-run] [--timezone]

For support staff: imports a user's browser data (the SPA's backup file, a Dexie dump of
ledgerDB from extract-indexeddb.js, or this API's export) through the same service as
POST /backup/import. Exits non-zero, listing every problem, when the file is refused.
"""

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ledger.services.backup import (
    MODES,
    BackupError,
    BackupRowsInvalid,
    ImportReport,
    backup_import,
)

PROGRESS_MIN_ROWS = 5000
_BAR_WIDTH = 30
_TABLES = ("categories", "recurring_transactions", "transactions")


class Command(BaseCommand):
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
            "(and rules/categories when the file has them) first",
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
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        user = _find_user(options["user"])
        try:
            file = open(options["file"], "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror or exc}") from exc

        progress = None if options["no_progress"] else self._progress_bar()
        try:
            report = backup_import(
                user=user,
                file=file,
                mode=options["mode"],
                dry_run=options["dry_run"],
                time_zone=options["timezone"],
                max_rows=options["max_rows"],
                progress=progress,
            )
        except BackupRowsInvalid as exc:
            self._finish_progress(progress)
            self._print_report(exc.report, options["file"], user)
            raise CommandError(f"{exc.message} {exc.report.errors} error(s) listed above.") from exc
        except BackupError as exc:
            self._finish_progress(progress)
            details = "".join(
                f"\n  {name}: {'; '.join(map(str, reasons))}"
                for name, reasons in exc.fields.items()
            )
            raise CommandError(f"{exc.message}{details}") from exc
        self._finish_progress(progress)
        self._print_report(report, options["file"], user)
        if not report.ok:
            raise CommandError(
                f"Dry run: {report.failed} invalid row(s); the import would be refused."
            )

    # -- output ----------------------------------------------------------------------------
    def _progress_bar(self):
        state = {"shown": False}
        interactive = sys.stderr.isatty()

        def show(done: int, total: int) -> None:
            if total < PROGRESS_MIN_ROWS:
                return
            state["shown"] = True
            filled = _BAR_WIDTH * done // total
            line = (
                f"transactions [{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] "
                f"{done:,}/{total:,} ({100 * done // total}%)"
            )
            if interactive:
                self.stderr.write("\r" + line, ending="")
                self.stderr.flush()
            else:
                self.stderr.write(line)

        show.state = state
        show.interactive = interactive
        return show

    def _finish_progress(self, progress) -> None:
        if progress is not None and progress.state["shown"] and progress.interactive:
            self.stderr.write("")

    def _print_report(self, report: ImportReport, path: str, user) -> None:
        out = self.stdout
        verb = "Dry run of the import" if report.dry_run else "Import"
        out.write(
            f"{verb} of {path} for {user.clerk_user_id or user.email} "
            f"(format {report.format}, mode {report.mode}, time zone {report.time_zone})"
        )
        header = f"{'':24}{'in file':>9}{'created':>9}{'skipped':>9}{'deleted':>9}"
        out.write(header)
        out.write("-" * len(header))
        for table in _TABLES:
            out.write(
                f"{table:24}{report.rows[table]:>9,}{report.created[table]:>9,}"
                f"{report.skipped[table]:>9,}{report.deleted[table]:>9,}"
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
        if report.ok and not report.dry_run:
            out.write(self.style.SUCCESS("Imported."))
        elif report.ok:
            out.write(self.style.SUCCESS("Dry run: nothing was written."))


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
