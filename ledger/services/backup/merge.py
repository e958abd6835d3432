"""Merge mode's rule for a row the ledger imported before (a re-import of a newer backup).

Three versions of the row meet: the **base** — the values the browser and the server last
agreed on, kept as a content hash in the row's `import_hash` — the server's current values,
and the file's. Compared over the fields a ledger can change (a transaction's date, description,
amount, type, category and status; every field of a rule; a category's name and emoji):

- file = server: nothing to do (the base is refreshed to them when it was older);
- file = base: the browser did not change the row; whatever the server did to it stays;
- server = base: only the browser changed it, so the file's version wins;
- all three differ: both sides changed it, a conflict: the server's version stays and the
  report shows both.

The import writes the base whenever it creates or updates a row. A row imported before
`import_hash` existed has none: it counts as unchanged since its import when nothing wrote it
after its insert (`updated_at` within a second of `created_at`), else any difference is a
conflict. Pure functions (and that condition as a query expression): no database access.
"""

import datetime
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from django.db.models import BooleanField, ExpressionWrapper, F, Q

from ledger.services.transactions import EDITABLE_FIELDS

TRANSACTION_FIELDS = EDITABLE_FIELDS
CATEGORY_FIELDS = ("name", "emoji")

SAME = "same"  # file and server agree
SERVER = "server"  # only the server changed it (or nobody): the server's version stays
FILE = "file"  # only the browser changed it: the file's version wins
CONFLICT = "conflict"  # both changed it: the server's version stays, reported

# A row nothing wrote after its insert (the insert's auto_now fields differ by microseconds):
# annotate a queryset of rows with it as `untouched`.
UNTOUCHED = ExpressionWrapper(
    Q(updated_at__lt=F("created_at") + datetime.timedelta(seconds=1)),
    output_field=BooleanField(),
)


@dataclass(frozen=True, slots=True)
class Merge:
    verdict: str
    file_hash: str
    changed: tuple[str, ...]  # the fields where the file and the server differ
    refresh: bool  # SAME, but the stored base is not their hash: store it


def row_values(row, fields: Sequence[str]) -> dict:
    """The compared values of a model instance; a category as its id."""
    return {name: getattr(row, "category_id" if name == "category" else name) for name in fields}


def content_hash(values: Mapping, fields: Sequence[str]) -> str:
    """A hash of `values` over `fields`, equal for equal values (`5400` = `5400.00`)."""
    # The repr of a tuple of str, int, bool and None is unambiguous, and fast.
    text = repr(tuple(_canonical(values[name]) for name in fields))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _canonical(value):
    if isinstance(value, Enum):  # a TextChoices default ("confirmed") is its value
        value = value.value
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (datetime.date, uuid.UUID)):
        return str(value)
    return value


def merge(
    *,
    server: Mapping,
    file: Mapping,
    fields: Sequence[str],
    import_hash: str,
    untouched: bool = False,
) -> Merge:
    """What a re-import does with an imported row (see the module docstring). `untouched`:
    nothing wrote the row after its insert (`UNTOUCHED`), for rows without an `import_hash`."""
    file_hash = content_hash(file, fields)
    changed = tuple(name for name in fields if server[name] != file[name])
    if not changed:  # the common case of a re-import: one hash
        return Merge(SAME, file_hash, changed, import_hash != file_hash)
    server_hash = content_hash(server, fields)
    # The base; for a row imported before there was an import_hash, its current values when
    # nothing wrote it since its insert, else unknown.
    base = import_hash or (server_hash if untouched else "")
    if file_hash == base:
        verdict = SERVER
    elif server_hash == base:
        verdict = FILE
    else:
        verdict = CONFLICT
    return Merge(verdict, file_hash, changed, False)


def version(values: Mapping, *, category_name: Callable[[object], str | None]) -> dict:
    """A version of a row as the report lists it: the category by name, dates in ISO."""
    shown = {}
    for name, value in values.items():
        if name == "category":
            value = None if value is None else category_name(value)
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        shown[name] = value
    return shown
