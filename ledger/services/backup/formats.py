"""Reading a backup document and recognising its format.

The document is the outline `stream.read_document` reads from the file: its header values and
small tables as parsed, its transactions a `StreamedRows` read from the file when iterated.
Three formats are accepted, all reduced to the same three tables of raw rows:

- `spa-v1`: the SPA's backup, `{"version": 1, "exportDate", "transactions": [...]}`.
- `dexie`: a dump of the Dexie database `ledgerDB` in the `dexie-export-import` format
  (`{"formatName": "dexie", "formatVersion": 1, "data": {"data": [{"tableName", "inbound",
  "rows"}]}}`), as written by `dexie-export-import` and by `extract-indexeddb.js`. Values that
  were JavaScript Dates are encoded the Typeson way: the time value in ms, listed in `$types`.
- `household_ledger`: this API's own export (`{"format": "household_ledger", "version": 2,
  "categories", "recurring_transactions", "transactions"}`). Version 2 rows are the API's own
  renderings (a transaction as `GET /transactions` shows it, plus `legacy_id`); version 1 rows,
  still read, had a shape of their own (`recurring_id`, and `category` as a name).
"""

from dataclasses import dataclass, field

from .errors import BackupUnreadable
from .fields import FieldError, epoch_ms_to_datetime
from .stream import StreamedRows

SPA_V1 = "spa-v1"
DEXIE = "dexie"
OWN = "household_ledger"
OWN_VERSION = 2
OWN_VERSIONS = (1, 2)  # what the import reads: files of version 1 are still in users' hands

TABLES = ("categories", "recurring_transactions", "transactions")


@dataclass
class Source:
    """The raw rows of a recognised document. `None` means the file has no such table."""

    format: str
    transactions: list | StreamedRows
    version: int = 1
    recurring_transactions: list | None = None
    categories: list | None = None
    budgets: list | None = None  # this API's export only, and optional there (`budgets`)
    warnings: list[str] = field(default_factory=list)


_ROWS = (list, StreamedRows)


def _list_field(document: dict, key: str, *, required: bool) -> list | StreamedRows | None:
    value = document.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, _ROWS):
        raise BackupUnreadable(
            "invalid_backup",
            f"`{key}` must be a list of rows.",
            fields={key: ["must be a list of rows"]},
        )
    return value


def recognise(document) -> Source:
    """Which format `document` is in, and its rows."""
    if not isinstance(document, dict):
        raise BackupUnreadable(
            "unsupported_format",
            "The file must be a JSON object: the SPA's backup, a Dexie export of ledgerDB "
            "or this API's export.",
        )
    if document.get("formatName") == "dexie":
        return _recognise_dexie(document)
    if "format" in document:
        if document["format"] != OWN:
            raise BackupUnreadable(
                "unsupported_format", f"Unknown backup format {document['format']!r}."
            )
        version = document.get("version")
        if isinstance(version, bool) or version not in OWN_VERSIONS:
            expected = " or ".join(map(str, OWN_VERSIONS))
            raise BackupUnreadable(
                "unsupported_version",
                f"Unsupported {OWN} version {version!r} (expected {expected}).",
                fields={"version": [f"must be {expected}"]},
            )
        return Source(
            format=OWN,
            version=version,
            transactions=_list_field(document, "transactions", required=True),
            recurring_transactions=_list_field(document, "recurring_transactions", required=True),
            categories=_list_field(document, "categories", required=True),
            budgets=_list_field(document, "budgets", required=False),
        )
    if "transactions" in document:
        version = document.get("version", 1)
        if version != 1:
            raise BackupUnreadable(
                "unsupported_version",
                f"Unsupported SPA backup version {version!r} (expected 1).",
                fields={"version": ["must be 1"]},
            )
        return Source(
            format=SPA_V1, transactions=_list_field(document, "transactions", required=True)
        )
    raise BackupUnreadable(
        "unsupported_format",
        'Unrecognised file: expected the SPA\'s backup ({"version": 1, "transactions"}), '
        'a Dexie export of ledgerDB ({"formatName": "dexie"}) or this API\'s export.',
    )


def _recognise_dexie(document: dict) -> Source:
    if document.get("formatVersion") != 1:
        raise BackupUnreadable(
            "unsupported_version",
            f"Unsupported Dexie export formatVersion {document.get('formatVersion')!r}.",
            fields={"formatVersion": ["must be 1"]},
        )
    database = document.get("data")
    if not isinstance(database, dict) or not isinstance(database.get("data"), list):
        raise BackupUnreadable(
            "invalid_backup",
            "A Dexie export needs `data.data`: a list of {tableName, inbound, rows}.",
            fields={"data": ["must contain a list `data` of tables"]},
        )
    warnings = []
    if database.get("databaseName") not in (None, "ledgerDB"):
        warnings.append(f"database {database.get('databaseName')!r} is not ledgerDB")
    tables: dict[str, list] = {}
    for position, table in enumerate(database["data"]):
        if not isinstance(table, dict) or not isinstance(table.get("rows"), _ROWS):
            raise BackupUnreadable(
                "invalid_backup",
                f"data.data[{position}] must be an object with a list `rows`.",
                fields={f"data.data[{position}]": ["must be {tableName, inbound, rows}"]},
            )
        name = table.get("tableName")
        if name not in TABLES:
            warnings.append(f"table {name!r} is not part of the ledger and was ignored")
            continue
        inbound = table.get("inbound", True)
        rows = table["rows"]
        if isinstance(rows, StreamedRows):
            rows = rows.map(lambda row, inbound=inbound: _dexie_row(row, inbound=inbound))
        else:
            rows = [_dexie_row(row, inbound=inbound) for row in rows]
        tables.setdefault(name, []).append(rows)
    tables = {name: _joined(parts) for name, parts in tables.items()}
    if not tables:
        raise BackupUnreadable(
            "invalid_backup",
            "The Dexie export has none of the ledger's tables "
            "(transactions, recurring_transactions, categories).",
        )
    return Source(
        format=DEXIE,
        transactions=tables.get("transactions", []),
        recurring_transactions=tables.get("recurring_transactions"),
        categories=tables.get("categories"),
        warnings=warnings,
    )


def _joined(parts: list) -> list | StreamedRows:
    """The rows of one table listed several times (a dump may split a table)."""
    if len(parts) == 1:
        return parts[0]
    if any(isinstance(part, StreamedRows) for part in parts):
        return StreamedRows.chain(
            [part if isinstance(part, StreamedRows) else _listed(part) for part in parts]
        )
    return [row for part in parts for row in part]


def _listed(rows: list) -> StreamedRows:
    return StreamedRows(len(rows), lambda: iter(rows))


def _dexie_row(row, *, inbound: bool):
    """One exported row as a plain object: Typeson types revived, `[key, value]` unpacked."""
    if isinstance(row, dict) and "$types" in row:
        row = _revive_typeson(row)
    if not inbound and isinstance(row, list) and len(row) == 2:
        key, value = row
        if isinstance(value, dict):
            value = dict(value)
            value.setdefault("id", key)
        return value
    return row


def _revive_typeson(row: dict):
    types = row.pop("$types")
    if not isinstance(types, dict):
        return row
    target = row
    if isinstance(types.get("$"), dict) and "$" in row:  # an array root, e.g. [key, value]
        target, types = row["$"], types["$"]
    for path, type_name in types.items():
        parts = [p.replace("~1", ".").replace("~0", "~") for p in str(path).split(".")]
        _revive_path(target, parts, type_name)
    return target


def _revive_path(container, parts: list[str], type_name) -> None:
    for part in parts[:-1]:
        container = _child(container, part)
        if container is None:
            return
    last = parts[-1]
    if isinstance(container, list):
        if not last.isdigit() or int(last) >= len(container):
            return
        last = int(last)
    elif not isinstance(container, dict) or last not in container:
        return
    value = container[last]
    if type_name == "date":
        try:
            container[last] = epoch_ms_to_datetime(value)
        except FieldError:
            container[last] = f"invalid Date ({value!r})"
    elif type_name == "undefined":
        container[last] = None


def _child(container, part: str):
    if isinstance(container, dict):
        return container.get(part)
    if isinstance(container, list) and part.isdigit() and int(part) < len(container):
        return container[int(part)]
    return None
