"""The import: a backup document → the user's categories, rules and transactions.

Read (`formats`), normalise (`normalize`, pure), write (`write`, through the services), all in
one database transaction: any invalid row refuses the whole file, and a dry run does the same
work and always rolls back, so its counts are exact.
"""

from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction as db_transaction

from .budgets import budgets_import
from .errors import BackupError, BackupRowsInvalid, BackupTooLarge
from .formats import OWN, parse_document, recognise
from .normalize import Normalizer
from .report import ImportReport
from .write import ImportWriter

MODES = ("merge", "replace")

ProgressCallback = Callable[[int, int], None]


def backup_read(*, stream, max_bytes: int | None = None) -> bytes:
    """Read an uploaded or opened file, refusing more than `max_bytes` (IMPORT_MAX_BYTES)."""
    limit = settings.IMPORT_MAX_BYTES if max_bytes is None else max_bytes
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise BackupTooLarge(limit=limit)
    return data


def _time_zone(user, time_zone: str | None) -> str:
    name = time_zone or getattr(user, "time_zone", "") or settings.TIME_ZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BackupError(
            "invalid_time_zone",
            f"Unknown time zone {name!r}.",
            fields={"time_zone": ["not a known IANA time zone"]},
        ) from exc
    return name


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
    zone = _time_zone(user, time_zone)
    source = recognise(parse_document(raw))
    del raw
    report = ImportReport(format=source.format, mode=mode, dry_run=dry_run, time_zone=zone)
    for warning in source.warnings:
        report.warn("file", None, None, warning)
    report.rows["transactions"] = len(source.transactions)
    report.rows["recurring_transactions"] = len(source.recurring_transactions or ())
    report.rows["categories"] = len(source.categories or ())

    rows = Normalizer(source=source, time_zone=zone, report=report)
    with db_transaction.atomic():
        writer = ImportWriter(
            user=user,
            report=report,
            time_zone=zone,
            own_format=source.format == OWN,
            link_field=rows.link_field,
        )
        writer.begin(
            replace=mode == "replace",
            rules_in_file=source.recurring_transactions is not None,
            categories_in_file=source.categories is not None,
        )
        writer.write_categories(rows.categories())
        writer.write_rules(rows.rules())
        total = len(source.transactions)
        for done, chunk in rows.transactions():
            writer.write_transactions(chunk)
            if progress is not None:
                progress(done, total)
        budgets_import(
            user=user,
            rows=source.budgets,
            replace=mode == "replace",
            categories=writer.categories,
            report=report,
            time_zone=zone,
        )
        writer.finish()
        if report.failed:
            if not dry_run:
                raise BackupRowsInvalid(report)
            db_transaction.set_rollback(True)
        elif dry_run:
            db_transaction.set_rollback(True)
    return report
