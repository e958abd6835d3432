"""Reading a backup file as a stream: bounded memory whatever its size.

A backup is one JSON document whose transactions can number hundreds of thousands; parsed
whole (`json.loads`) it took about eight times its size in memory. Here the file (an upload's
temporary file, or the operator's file) is read twice with `ijson`, never whole:

1. `read_document` scans every byte once (the JSON is checked to the end before anything is
   written) and builds an outline: the header's scalars (`format`, `version`, `formatName`,
   …), the small tables (categories, rules) whole, and for each large table only where it is
   and how many rows it has. The limits that bound memory are checked here: at most
   `max_rows` rows in all tables (IMPORT_MAX_ROWS), each row at most ROW_MAX_VALUES JSON
   values nested at most ROW_MAX_DEPTH deep, the tables kept whole at most
   KEPT_MAX_VALUES values together, and no value longer than about two blocks of the file
   (`_GuardedFile`).
2. Iterating a `StreamedRows` (the transactions) reads the file again from the start and
   yields its rows one at a time (ijson's C backend), so the import holds one chunk of rows.

The outline has the shape of the parsed document (`formats.recognise` reads it as it would
the whole document); a value it did not keep is an `Omitted`, a large table a `StreamedRows`.
"""

import codecs
import io
from collections.abc import Callable, Iterator

import ijson

from .errors import BackupTooManyRows, BackupUnreadable

# The rows of these keys of the document are tables; "transactions" is the large one.
TABLE_KEYS = ("categories", "recurring_transactions", "budgets", "transactions")
# Small tables: a ledger's budget changes are a few per year.
KEPT_TABLES = ("categories", "recurring_transactions", "budgets")
STREAMED_TABLE = "transactions"

# A row of any format has a dozen fields; a rule's `occurrence_dates` list every date it
# materialized (at most 2,412 monthly dates in 1900–2100).
ROW_MAX_VALUES = 10_000
ROW_MAX_DEPTH = 8
DOCUMENT_MAX_DEPTH = 16
# Categories and rules are kept whole for the import's duration: 200 categories and 1,000
# rules with ten years of occurrence dates are ~160,000 values.
KEPT_MAX_VALUES = 1_000_000

BLOCK_SIZE = 64 * 1024

_STARTS = frozenset(("start_map", "start_array"))
_ENDS = frozenset(("end_map", "end_array"))


class Omitted:
    """A value of the document the outline does not keep (an object or an array)."""

    def __init__(self, kind: str):
        self.kind = kind

    def __repr__(self) -> str:
        return f"<{self.kind}>"


class StreamedRows:
    """Rows read from the file each time they are iterated; their number is known."""

    def __init__(self, count: int, open_rows: Callable[[], Iterator]):
        self.count = count
        self._open = open_rows

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator:
        return self._open()

    def map(self, func) -> "StreamedRows":
        return StreamedRows(self.count, lambda: map(func, self._open()))

    @classmethod
    def chain(cls, parts: list["StreamedRows"]) -> "StreamedRows":
        def rows():
            for part in parts:
                yield from part

        return cls(sum(len(part) for part in parts), rows)


class _GuardedFile:
    """`file` from its start, in blocks, refusing a block without a string boundary.

    ijson (yajl) holds a whole string or number in memory however long it is. Every row of a
    backup has quoted keys a few dozen bytes apart, so a full block with no unescaped `"`
    means a value longer than a block (or a file that is not a backup): it is refused, which
    bounds any single value to about two blocks. A UTF-8 byte order mark is skipped.
    """

    def __init__(self, file, on_read: Callable[[int], None] | None = None):
        file.seek(0)
        self.file = file
        self.on_read = on_read
        self.read_bytes = 0
        self.first = True
        self.last_byte = b""

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson asks whether the file is binary
            return b""
        block = self.file.read(BLOCK_SIZE)
        if self.first:
            self.first = False
            block = block.removeprefix(codecs.BOM_UTF8)
        if len(block) >= BLOCK_SIZE - len(codecs.BOM_UTF8) and not self._has_boundary(block):
            raise BackupUnreadable(
                "invalid_json",
                f"The file is not a backup: it has a value longer than {BLOCK_SIZE:,} bytes "
                "(no row of a backup has one).",
            )
        self.last_byte = block[-1:]
        if self.on_read is not None:
            self.read_bytes += len(block)
            self.on_read(self.read_bytes)
        return block

    def _has_boundary(self, block: bytes) -> bool:
        start = 0
        while (found := block.find(b'"', start)) != -1:
            before = block[found - 1 : found] if found else self.last_byte
            if before != b"\\":
                return True
            start = found + 1
        return False


def _unreadable(exc: Exception) -> BackupUnreadable:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "unexpected end"
    reason = reason.removeprefix("b'").removeprefix('b"')
    if "invalid bytes in UTF8" in reason:
        return BackupUnreadable("invalid_json", "The file is not UTF-8 text.")
    if "premature EOF" in reason:
        return BackupUnreadable("invalid_json", "The file is not valid JSON: it ends too early.")
    return BackupUnreadable("invalid_json", f"The file is not valid JSON: {reason}.")


class _Scanner:
    """One pass over the events of the file (ijson's `basic_parse`): the outline."""

    def __init__(
        self, file, *, max_rows: int, keep_ordinals: frozenset[int] = frozenset(), on_read=None
    ):
        self.file = file
        self.max_rows = max_rows
        self.keep_ordinals = keep_ordinals  # Dexie tables to keep whose name came after rows
        self.rows = 0
        self.kept_values = 0
        self.depth = 0
        self.dexie_counts: list[int | None] = []  # rows per table of `data.data`, in order
        self.late_tables: dict[int, str] = {}  # Dexie tables named after their rows
        self.events = ijson.basic_parse(_GuardedFile(file, on_read), use_float=True)

    def document(self):
        try:
            event, value = next(self.events, (None, None))
            if event is None:
                raise BackupUnreadable("invalid_json", "The file is empty.")
            if event != "start_map":
                self._skip(event)
                return value if event not in _STARTS else Omitted(event[6:])
            outline = self._map(self._top_value)
            if next(self.events, None) is not None:  # pragma: no cover - yajl refuses first
                raise BackupUnreadable("invalid_json", "The file is not valid JSON.")
            return outline
        except ijson.JSONError as exc:
            raise _unreadable(exc) from exc

    # -- containers outside rows -------------------------------------------------------------
    def _enter(self) -> None:
        self.depth += 1
        if self.depth > DOCUMENT_MAX_DEPTH:
            raise BackupUnreadable("invalid_json", "The file is nested too deeply.")

    def _map(self, value_of) -> dict:
        """An object whose keys `value_of(key, event, value)` reads; duplicate keys refused."""
        self._enter()
        found = {}
        for event, key in self.events:
            if event == "end_map":
                break
            if key in found:
                raise BackupUnreadable(
                    "invalid_backup", f"The key {key!r} appears twice in one object."
                )
            if "." in key:  # the second pass finds tables by dotted path
                raise BackupUnreadable("invalid_backup", f"Unexpected key {key!r}.")
            event, value = next(self.events)
            found[key] = value_of(key, event, value)
        self.depth -= 1
        return found

    def _other(self, event, value):
        """A value the outline keeps only if it is a scalar."""
        if event in _STARTS:
            self._skip(event)
            return Omitted(event[6:])
        return value

    def _top_value(self, key, event, value):
        if key in TABLE_KEYS and event == "start_array":
            return self._table(key, keep=key in KEPT_TABLES, ordinal=None)
        if key == "data" and event == "start_map":
            return self._map(self._database_value)
        return self._other(event, value)

    def _database_value(self, key, event, value):
        if key == "data" and event == "start_array":
            self._enter()
            tables = []
            for event, value in self.events:
                if event == "end_array":
                    break
                if event == "start_map":
                    tables.append(self._dexie_table(len(self.dexie_counts)))
                else:
                    tables.append(self._other(event, value))
                    self.dexie_counts.append(None)
            self.depth -= 1
            return tables
        return self._other(event, value)

    def _dexie_table(self, ordinal: int) -> dict:
        self.dexie_counts.append(None)
        seen = {}

        def value_of(key, event, value):
            if key == "rows" and event == "start_array":
                name = seen.get("tableName")
                keep = name in KEPT_TABLES or ordinal in self.keep_ordinals
                if name is None:
                    self.late_tables[ordinal] = ""
                return self._table(name or "rows", keep=keep, ordinal=ordinal)
            seen[key] = self._other(event, value)
            return seen[key]

        table = self._map(value_of)
        if ordinal in self.late_tables:
            self.late_tables[ordinal] = table.get("tableName")
        return table

    def _skip(self, event) -> None:
        """Consume the rest of a value begun by `event`, keeping nothing."""
        if event not in _STARTS:
            return
        depth = 1
        self._enter()
        for event, _ in self.events:
            if event in _STARTS:
                depth += 1
                if self.depth + depth > DOCUMENT_MAX_DEPTH + 1:
                    raise BackupUnreadable("invalid_json", "The file is nested too deeply.")
            elif event in _ENDS:
                depth -= 1
                if not depth:
                    break
        self.depth -= 1

    # -- tables and rows ---------------------------------------------------------------------
    def _table(self, name: str, *, keep: bool, ordinal: int | None):
        """A table's rows: the list (kept), or a `StreamedRows` of the count (read later)."""
        self._enter()
        kept = [] if keep else None
        count = 0
        for event, value in self.events:
            if event == "end_array":
                break
            count += 1
            self.rows += 1
            if self.rows > self.max_rows:
                raise BackupTooManyRows(limit=self.max_rows)
            if event in _STARTS:
                row = self._row(event, name, count - 1, keep=keep)
            else:
                row = value
                self.kept_values += keep
            if keep:
                kept.append(row)
        self.depth -= 1
        if ordinal is not None:
            self.dexie_counts[ordinal] = count
        if keep:
            return kept
        return StreamedRows(count, lambda: _stream(self.file, ordinal, self.dexie_counts))

    def _row(self, event: str, table: str, index: int, *, keep: bool):
        """One row that is an object or an array: checked against the limits, and built when
        `keep`. The hot loop of the scan: a few comparisons per JSON value."""
        builder = None
        if keep:
            builder = ijson.ObjectBuilder()
            builder.event(event, None)
        depth, values = 1, 1
        for event, value in self.events:
            values += 1
            if event in _STARTS:
                depth += 1
                if depth > ROW_MAX_DEPTH:
                    raise BackupUnreadable(
                        "invalid_backup",
                        f"{table}[{index}] is nested more than {ROW_MAX_DEPTH} levels deep.",
                        fields={f"{table}[{index}]": ["nested too deeply"]},
                    )
            elif event in _ENDS:
                depth -= 1
            if values > ROW_MAX_VALUES:
                raise BackupUnreadable(
                    "invalid_backup",
                    f"{table}[{index}] has more than {ROW_MAX_VALUES:,} values.",
                    fields={f"{table}[{index}]": ["too many values"]},
                )
            if builder is not None:
                builder.event(event, value)
            if not depth:
                break
        if builder is None:
            return None
        self.kept_values += values
        if self.kept_values > KEPT_MAX_VALUES:
            raise BackupUnreadable(
                "invalid_backup",
                f"The categories and recurring rules have more than {KEPT_MAX_VALUES:,} values "
                "together.",
            )
        return builder.value


def _stream(file, ordinal: int | None, dexie_counts: list[int | None]) -> Iterator:
    """The rows of one table, read from the file: the top-level `transactions`, or (Dexie)
    the table at `ordinal` among `data.data`'s tables, whose rows ijson yields in order."""
    try:
        if ordinal is None:
            yield from ijson.items(_GuardedFile(file), "transactions.item", use_float=True)
            return
        rows = ijson.items(_GuardedFile(file), "data.data.item.rows.item", use_float=True)
        for position, count in enumerate(dexie_counts[: ordinal + 1]):
            for _ in range(count or 0):
                row = next(rows, _END)
                if row is _END:
                    raise BackupUnreadable("invalid_json", "The file changed while importing.")
                if position == ordinal:
                    yield row
    except ijson.JSONError as exc:
        raise _unreadable(exc) from exc


_END = object()


def read_document(file, *, max_rows: int, progress=None):
    """The outline of the backup in `file` (a seekable binary file), or BackupUnreadable /
    BackupTooManyRows. Its large tables are `StreamedRows` reading `file` when iterated.
    `progress("file", bytes read, size)` follows the scan."""
    on_read = None
    if progress is not None:
        size = file.seek(0, io.SEEK_END)
        progress("file", 0, size)

        def on_read(done: int) -> None:
            progress("file", done, size)

    scanner = _Scanner(file, max_rows=max_rows, on_read=on_read)
    outline = scanner.document()
    late = frozenset(o for o, name in scanner.late_tables.items() if name in KEPT_TABLES)
    if late:  # a Dexie table of categories or rules named after its rows: read it again
        scanner = _Scanner(file, max_rows=max_rows, keep_ordinals=late)
        outline = scanner.document()
    return outline
