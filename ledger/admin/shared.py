"""Pieces the ledger's ModelAdmins share: the large-table paginator, the cheap date
drill-down, the role check, and how a service's ValidationError reaches the form."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db import transaction as db_transaction
from django.db.models import Max, Min, QuerySet
from django.urls import reverse
from django.utils.functional import cached_property

from ledger.dates import add_months, month_start
from ledger.models import Ledger
from ledger.selectors.categories import category_list


class LargeTablePaginator(Paginator):
    """A paginator that does not COUNT(*) a million rows to draw page links.

    Unfiltered: PostgreSQL's planner statistics (`pg_class.reltuples`) once the table is big.
    Filtered: an exact count of at most `exact_up_to` rows; beyond that, the planner's estimate
    for the filtered query (EXPLAIN), so the count is approximate only where nobody pages.
    (Measured with bench/admin_bench.py on ~1,000,000 transactions.)
    """

    exact_up_to = 10_000

    @cached_property
    def count(self):
        queryset = self.object_list
        connection = connections[queryset.db]
        if not queryset.query.where:
            estimate = self._table_estimate(connection, queryset.model._meta.db_table)
            if estimate > self.exact_up_to:
                return estimate
        capped = queryset.order_by()[: self.exact_up_to + 1].count()
        if capped <= self.exact_up_to:
            return capped
        return max(self._query_estimate(connection, queryset), capped)

    @staticmethod
    def _table_estimate(connection, table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            row = cursor.fetchone()
        return int(row[0]) if row and row[0] and row[0] > 0 else 0

    @staticmethod
    def _query_estimate(connection, queryset) -> int:
        sql, params = queryset.order_by().query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]  # psycopg gives json as Python objects
        return int(plan[0]["Plan"]["Plan Rows"])


class RangeDatesQuerySet(QuerySet):
    """`dates(field, "year"|"month")` from MIN/MAX, not SELECT DISTINCT over every row.

    The admin's date drill-down (`date_hierarchy`) lists the years (then months) that have
    rows; on a million rows the DISTINCT is a full scan (~300 ms), while MIN/MAX is two index
    lookups. It lists every year/month between the first and the last date — a month without
    rows shows an empty list when opened. Days (one month's rows) keep Django's DISTINCT.
    """

    def dates(self, field_name, kind, order="ASC"):
        if kind not in ("year", "month"):
            return super().dates(field_name, kind, order)
        bounds = self.aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        step = 12 if kind == "year" else 1
        current = month_start(bounds["first"])
        if kind == "year":
            current = current.replace(month=1)
        found = []
        while current <= bounds["last"]:
            found.append(current)
            current = add_months(current, step)
        return found if order == "ASC" else found[::-1]


def admin_range_dates(queryset: QuerySet) -> QuerySet:
    clone = queryset._chain()
    clone.__class__ = RangeDatesQuerySet
    return clone


def ledger_label(ledger: Ledger | None) -> str:
    """A ledger as support reads it: a personal ledger by its user's email (every personal
    ledger has the same name), a shared one by its name. Lists select `ledger__personal_for`."""
    if ledger is None:
        return "— (default, every ledger) —"
    if ledger.personal_for_id is not None:
        return f"{ledger.name} · {ledger.personal_for.email}"
    return ledger.name


class ReadOnlyAdminMixin:
    """For a ModelAdmin or an inline that only shows rows: their writers are the services
    (or the engine), never the admin's forms."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LedgerColumnMixin:
    """The "ledger" column of a changelist of ledger data (list_display names `ledger_column`
    and list_select_related includes `ledger__personal_for`)."""

    @admin.display(description="ledger", ordering="ledger__name")
    def ledger_column(self, obj):
        return ledger_label(obj.ledger)


def is_superuser(request) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


def changelist_url(model, **filters) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    if filters:
        url += "?" + "&".join(f"{key}={value}" for key, value in filters.items())
    return url


def add_service_errors(form, error: ValidationError, *, fallback: dict | None = None) -> None:
    """Show a service's ValidationError on the admin form: each message on its field, or —
    for a field the staff member cannot edit (read-only for support) — on `fallback[field]`
    if that is on the form, else above the form."""
    fallback = fallback or {}
    for name, messages_ in error.message_dict.items():
        if name not in form.fields:
            name = fallback.get(name) if fallback.get(name) in form.fields else None
        form.add_error(name, messages_)


def limit_category_choices(form, obj) -> None:
    """The category picker offers what the row's owner may use (the defaults on an add page)."""
    field = form.base_fields.get("category")
    if field is not None:
        field.queryset = category_list(ledger=obj.ledger if obj else None)


def delete_each(queryset, delete) -> None:
    """The changelist's "delete selected": each row through the service's `delete`, in pk
    order (the order every writer locks in), all or none."""
    with db_transaction.atomic():
        for obj in queryset.order_by("pk"):
            delete(obj)
