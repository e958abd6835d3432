"""Writes to categories: a ledger's own ones. The global defaults are read-only to users."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.db.models import QuerySet
from django.utils import timezone

from ledger.models import Category, RecurringTransaction, SyncKind, Transaction
from ledger.selectors.categories import category_list
from ledger.services.revisions import revision_bump, tombstone_record
from ledger.services.transactions import transaction_bulk_change

# A ledger's own categories are listed unpaginated; this keeps that list bounded.
MAX_CATEGORIES_PER_USER = 200
DUPLICATE_NAME = "A category with this name already exists (your own or a default one)."


@dataclass(frozen=True)
class CategoryDeletion:
    """What deleting a category did: its transactions and rules became uncategorized."""

    uncategorized_transactions: int
    uncategorized_recurring_rules: int


def _check_name_free(*, ledger, name: str, exclude_id=None) -> None:
    """Names are unique among a ledger's own categories and may not repeat a default's name,
    so a name always means one category in the SPA's picker and in imports."""
    clash = category_list(ledger=ledger).filter(name=name)
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise ValidationError({"name": DUPLICATE_NAME})


def _check_own(*, category: Category) -> None:
    if category.is_default or category.ledger_id is None:
        raise PermissionDenied("Default categories are read-only.")


def _save(category: Category, **kwargs) -> None:
    # A concurrent request may take the name between the check and the write: the database's
    # unique constraint decides, and the answer is the same 400 naming `name`.
    try:
        with db_transaction.atomic():
            category.revision = revision_bump(ledger=category.ledger)
            if "update_fields" in kwargs:
                kwargs["update_fields"] = [*kwargs["update_fields"], "revision"]
            category.save(**kwargs)
    except IntegrityError as error:
        raise ValidationError({"name": DUPLICATE_NAME}) from error


def _check_room(*, ledger, adding: int) -> None:
    """At most MAX_CATEGORIES_PER_USER of a ledger's own. Call it after `revision_bump`: its row
    lock on the ledger serializes the ledger's concurrent writes, so parallel creates cannot pass
    the count."""
    if Category.objects.filter(ledger=ledger).count() + adding > MAX_CATEGORIES_PER_USER:
        raise ValidationError(
            {"name": f"You can have at most {MAX_CATEGORIES_PER_USER} categories of your own."}
        )


def category_create(*, ledger, name: str, emoji: str = "") -> Category:
    """Create one of the ledger's own categories (at most MAX_CATEGORIES_PER_USER)."""
    try:
        with db_transaction.atomic():
            revision = revision_bump(ledger=ledger)
            _check_room(ledger=ledger, adding=1)
            _check_name_free(ledger=ledger, name=name)
            return Category.objects.create(
                ledger=ledger, name=name, emoji=emoji, is_default=False, revision=revision
            )
    except IntegrityError as error:
        raise ValidationError({"name": DUPLICATE_NAME}) from error


def category_bulk_create(*, ledger, categories: Sequence[Category]) -> list[Category]:
    """Insert many prepared categories of `ledger` in one statement (the import), within the
    same cap and name rules as `category_create`; all or none."""
    if any(category.ledger_id != ledger.pk or category.is_default for category in categories):
        raise ValueError("category_bulk_create: every category must be an own one of `ledger`")
    if not categories:
        return []
    try:
        with db_transaction.atomic():
            revision = revision_bump(ledger=ledger)
            for category in categories:
                category.revision = revision
            _check_room(ledger=ledger, adding=len(categories))
            names = [category.name for category in categories]
            if (
                len(set(names)) < len(names)
                or category_list(ledger=ledger).filter(name__in=names).exists()
            ):
                raise ValidationError({"name": DUPLICATE_NAME})
            return Category.objects.bulk_create(categories)
    except IntegrityError as error:
        raise ValidationError({"name": DUPLICATE_NAME}) from error


def category_update(*, category: Category, **changes) -> Category:
    """Change `name` and/or `emoji` of one of the ledger's own categories."""
    _check_own(category=category)
    unknown = set(changes) - {"name", "emoji"}
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    if "name" in changes:
        _check_name_free(ledger=category.ledger, name=changes["name"], exclude_id=category.pk)
    for field, value in changes.items():
        setattr(category, field, value)
    if changes:
        _save(category, update_fields=list(changes))
    return category


def category_bulk_set_import_hash(*, ledger, hashes: Mapping) -> None:
    """Record the importer's `import_hash` of some of `ledger`'s own categories (id → hash; see
    ledger.services.backup.merge). Bookkeeping that nothing renders: no other field changes."""
    if not hashes:
        return
    with db_transaction.atomic():
        revision_bump(ledger=ledger)
        for pk, value in hashes.items():
            Category.objects.filter(ledger=ledger, pk=pk).update(import_hash=value)


def category_delete(*, category: Category) -> CategoryDeletion:
    """Delete one of the ledger's own categories. Its transactions and recurring rules are kept
    and become uncategorized (category NULL); nothing else is deleted."""
    _check_own(category=category)
    with db_transaction.atomic():
        revision = revision_bump(ledger=category.ledger)
        transactions, rules = _uncategorize(
            ledger=category.ledger, categories=[category.pk], revision=revision
        )
        tombstone_record(
            ledger_id=category.ledger_id,
            kind=SyncKind.CATEGORY,
            object_ids=[category.pk],
            revision=revision,
        )
        category.delete()
    return CategoryDeletion(
        uncategorized_transactions=transactions, uncategorized_recurring_rules=rules
    )


def category_bulk_delete(*, ledger, queryset: QuerySet[Category]) -> int:
    """Delete the rows of `queryset` that are `ledger`'s own categories (an import's replace);
    their transactions and rules become uncategorized, as with `category_delete`. Returns how
    many categories went."""
    with db_transaction.atomic():
        revision = revision_bump(ledger=ledger)
        doomed = list(queryset.filter(ledger=ledger, is_default=False).values_list("pk", flat=True))
        _uncategorize(ledger=ledger, categories=doomed, revision=revision)
        tombstone_record(
            ledger_id=ledger.pk, kind=SyncKind.CATEGORY, object_ids=doomed, revision=revision
        )
        _, deleted = Category.objects.filter(pk__in=doomed).delete()
    return deleted.get(Category._meta.label, 0)


def _uncategorize(*, ledger, categories, revision: int) -> tuple[int, int]:
    """The ledger's transactions and rules in `categories` become uncategorized at `revision`
    (before the categories go); returns how many of each."""
    transactions = transaction_bulk_change(
        ledger=ledger,
        queryset=Transaction.objects.filter(category__in=categories),
        changes={"category": None},
        revision=revision,
    )
    rules = RecurringTransaction.objects.filter(ledger=ledger, category__in=categories).update(
        category=None, updated_at=timezone.now(), revision=revision
    )
    return transactions, rules
