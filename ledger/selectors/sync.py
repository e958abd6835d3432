"""What changed in a ledger since a revision: the delta of `GET /sync`.

Every write stamps the rows it writes with the owner's new revision and leaves a tombstone for
each row it deletes (`ledger.services.revisions`), so "changed since R" is "revision > R" on
each table, answered by its (ledger, revision) index. A page holds whole revisions (a bulk
write gives each batch a revision of its own, so no revision is larger than a batch), which
lets a client resume from the page's `revision` without ever missing or repeating a row.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from ledger.models import (
    Budget,
    Category,
    RecurringTransaction,
    SyncKind,
    Tombstone,
    Transaction,
)
from ledger.selectors.budgets import budget_changes_between

DEFAULT_LIMIT = 1000
MAX_LIMIT = 5000


class SyncResetRequired(Exception):
    """`since` is older than the tombstones kept: the client must start again from 0."""


@dataclass
class SyncPage:
    revision: int
    has_more: bool
    transactions: list = field(default_factory=list)
    recurring: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    budgets: list = field(default_factory=list)
    deleted: dict = field(default_factory=dict)


def _changed(ledger, since: int) -> dict[str, QuerySet]:
    """Each synced table's rows of `ledger` changed after `since` (own categories; the shared
    defaults, which never change, come with the first page of a full snapshot only)."""
    return {
        SyncKind.TRANSACTION: Transaction.objects.filter(ledger=ledger, revision__gt=since),
        SyncKind.RECURRING: RecurringTransaction.objects.filter(ledger=ledger, revision__gt=since),
        SyncKind.CATEGORY: Category.objects.filter(ledger=ledger, revision__gt=since),
        SyncKind.BUDGET: Budget.objects.filter(ledger=ledger, revision__gt=since),
    }


def _page_end(*, querysets: Sequence[QuerySet], limit: int) -> int | None:
    """The last revision of the page: as many whole revisions, oldest first, as fit in
    `limit` rows (at least one); None when nothing changed."""
    counts: Counter = Counter()
    for queryset in querysets:
        revisions = queryset.order_by("revision").values_list("revision", flat=True)[: limit + 1]
        counts.update(revisions)
    if not counts:
        return None
    end, taken = None, 0
    for revision in sorted(counts):
        if end is not None and taken + counts[revision] > limit:
            break
        end, taken = revision, taken + counts[revision]
    return end


def sync_changes(*, ledger, since: int, limit: int, fields: dict[str, Sequence[str]]) -> SyncPage:
    """The page of changes after revision `since`, rows as dicts with the `fields` of each
    kind's rendering; `revision` is where the next page starts (the ledger's current revision
    once nothing is left)."""
    current = ledger.revision
    # Older than the kept tombstones, or newer than the data (a database restored from a
    # backup): what changed cannot be told, only the whole ledger.
    if 0 < since < ledger.sync_floor or since > current:
        raise SyncResetRequired
    if since == current and since > 0:
        return SyncPage(revision=current, has_more=False, deleted=_empty_deleted())
    changed = _changed(ledger, since)
    tombstones = Tombstone.objects.filter(ledger=ledger, revision__gt=since)
    end = _page_end(querysets=[*changed.values(), tombstones], limit=limit)
    if end is None:
        end = current  # a snapshot of the defaults only, or nothing at all
    in_page = {kind: queryset.filter(revision__lte=end) for kind, queryset in changed.items()}
    if since == 0:
        # The defaults (and rows older than revisions) have revision 0: counted in no page,
        # they come with the first one, so a page never ends at `since` and paging moves on.
        unrevised = Category.objects.filter(Q(ledger__isnull=True) | Q(ledger=ledger, revision=0))
        in_page[SyncKind.CATEGORY] = unrevised | in_page[SyncKind.CATEGORY]
    has_more = any(
        queryset.filter(revision__gt=end).exists() for queryset in [*changed.values(), tombstones]
    )
    deleted = _empty_deleted()
    for kind, object_id in tombstones.filter(revision__lte=end).values_list("kind", "object_id"):
        deleted[kind].append(str(object_id))

    def rows(kind):
        return list(in_page[kind].order_by("revision", "id").values(*fields[kind]))

    return SyncPage(
        revision=end if has_more else max(end, current),
        has_more=has_more,
        transactions=rows(SyncKind.TRANSACTION),
        recurring=rows(SyncKind.RECURRING),
        categories=list(in_page[SyncKind.CATEGORY].order_by("revision", "sort_order", "name")),
        budgets=budget_changes_between(ledger=ledger, since=since, until=end),
        deleted=deleted,
    )


def _empty_deleted() -> dict[str, list]:
    return {kind.value: [] for kind in SyncKind}
