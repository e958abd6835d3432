"""Why an import did not happen. Each carries a code and message for the API's error format."""


class BackupError(Exception):
    code = "invalid_backup"

    def __init__(self, code: str | None, message: str, *, fields: dict | None = None):
        super().__init__(message)
        self.code = code or self.code
        self.message = message
        self.fields = fields or {}


class BackupTooLarge(BackupError):
    """The file is larger than IMPORT_MAX_BYTES."""

    def __init__(self, *, limit: int):
        super().__init__(
            "payload_too_large",
            f"The file is larger than the import limit of {limit:,} bytes (IMPORT_MAX_BYTES).",
        )
        self.limit = limit


class BackupTooManyRows(BackupTooLarge):
    """The file has more rows (all tables together) than IMPORT_MAX_ROWS."""

    def __init__(self, *, limit: int):
        BackupError.__init__(
            self,
            "payload_too_large",
            f"The file has more than {limit:,} rows, the import limit (IMPORT_MAX_ROWS).",
        )
        self.limit = limit


class BackupUnreadable(BackupError):
    """Not JSON, or not a format we know: nothing could be read row by row."""


class BackupRowsInvalid(BackupError):
    """Rows are invalid: the whole import was rolled back. `report` lists every problem."""

    def __init__(self, report):
        failed = report.failed
        super().__init__(
            "invalid_backup",
            f"{failed} row{'s' if failed != 1 else ''} of the file "
            f"{'are' if failed != 1 else 'is'} invalid; nothing was imported.",
            fields=report.problem_fields(),
        )
        self.report = report
