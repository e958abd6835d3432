"""Backup and migration from the browser: import (SPA backup, Dexie dump, own export), export.

The import is read (`stream`, as a stream; `formats`) → normalise (`normalize`, pure, with
`fields`) → write (`write`, through the services), reported by `report`; the export is
`exporter`.

Entry points (used by the API, the admin, the `import_indexeddb` command and the benchmarks):

- `backup_import(ledger=…, file=…, mode=…, dry_run=…)` → ImportReport
- `backup_read(stream=…)` → bytes, refusing files over IMPORT_MAX_BYTES (the admin's preview)
- `backup_export(ledger=…, export_format=…)` → chunks of JSON text
"""

from .errors import (
    BackupError,
    BackupRowsInvalid,
    BackupTooLarge,
    BackupTooManyRows,
    BackupUnreadable,
)
from .exporter import (
    EXPORT_FORMATS,
    backup_content_disposition,
    backup_export,
    backup_export_filename,
)
from .formats import DEXIE, OWN, SPA_V1
from .importer import MODES, backup_import, backup_read
from .report import ImportReport, Problem

__all__ = [
    "DEXIE",
    "EXPORT_FORMATS",
    "MODES",
    "OWN",
    "SPA_V1",
    "BackupError",
    "BackupRowsInvalid",
    "BackupTooLarge",
    "BackupTooManyRows",
    "BackupUnreadable",
    "ImportReport",
    "Problem",
    "backup_content_disposition",
    "backup_export",
    "backup_export_filename",
    "backup_import",
    "backup_read",
]
