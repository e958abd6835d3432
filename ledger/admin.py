"""The support staff's admin for the ledger: transactions, recurring rules, categories.

Built to stay fast with ~1,000,000 transactions and ~10,000 users: related rows come with
`list_select_related`, users are picked by raw id (never a dropdown of every user), the
category filter lists only the defaults (plus the filtered user's own), and the paginator
avoids counting a whole million-row table (`LargeTablePaginator`).

Roles (see accounts/roles.py): superusers may change everything; anyone else (the `support`
group) may change only a transaction's status and category and a rule's active flag — every
other field is read-only for them, whatever they POST.
"""

import contextlib

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Max, Min, Q, QuerySet
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html

from ledger.dates import add_months, month_start
from ledger.models import (
    Category,
    RecurringOccurrence,
    RecurringTransaction,
    Transaction,
)
from ledger.services.recurring.engine import recurring_materialize
from ledger.services.recurring.rules import (
    RULE_FIELDS,
    recurring_create,
    recurring_update,
    recurring_validate,
)
from ledger.services.transactions import (
    EDITABLE_FIELDS,
    transaction_create,
    transaction_update,
    transaction_validate_create,
    transaction_validate_update,
)
from ledger.templatetags.money import format_won

# --- Shared pieces ----------------------------------------------------------------------------


class LargeTablePaginator(Paginator):
    """A paginator that does not COUNT(*) a million rows to draw page links.

    Unfiltered: PostgreSQL's planner statistics (`pg_class.reltuples`) once the table is big.
    Filtered: an exact count of at most `exact_up_to` rows; beyond that, the planner's estimate
    for the filtered query (EXPLAIN), so the count is approximate only where nobody pages.
    """

    exact_up_to = 10_000

    @cached_property
    def count(self):
        queryset = self.object_list
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return super().count
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
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):  # psycopg returns json as Python objects; be safe
            import json

            plan = json.loads(plan)
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


def is_superuser(request) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


def categories_for(user_id) -> "Q":
    """The categories a user's rows may use: the defaults and the user's own."""
    return Q(user__isnull=True) | Q(user_id=user_id)


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


def _limit_category_choices(form, obj) -> None:
    field = form.base_fields.get("category")
    if field is not None:
        field.queryset = Category.objects.filter(categories_for(obj.user_id if obj else None))


# --- Filters ----------------------------------------------------------------------------------


class CategoryListFilter(admin.SimpleListFilter):
    """The default categories, plus the user's own when the list is filtered to one user.

    Never every category of every user: with 10,000 users that would be a huge list.
    """

    title = "category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        owner = request.GET.get("user__id__exact")
        query = Q(user__isnull=True)
        if owner:
            with contextlib.suppress(ValidationError):
                query |= Q(user_id=Category._meta.get_field("id").to_python(owner))
        choices = [("none", "— no category —")]
        choices += [(str(c.pk), str(c)) for c in Category.objects.filter(query)]
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == "none":
            return queryset.filter(category__isnull=True)
        try:
            return queryset.filter(category_id=Category._meta.get_field("id").to_python(value))
        except ValidationError:
            return queryset.none()


class FromRecurringRuleFilter(admin.SimpleListFilter):
    title = "from a recurring rule"
    parameter_name = "from_rule"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(recurring__isnull=False)
        if self.value() == "no":
            return queryset.filter(recurring__isnull=True)
        return queryset


class CategoryKindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [("default", "Default (shared)"), ("user", "A user's own")]

    def queryset(self, request, queryset):
        if self.value() == "default":
            return queryset.filter(is_default=True)
        if self.value() == "user":
            return queryset.filter(is_default=False)
        return queryset


# --- Transactions -----------------------------------------------------------------------------


class TransactionAdminForm(forms.ModelForm):
    """The rules are the transactions service's (`transaction_validate_create/_update`), the
    same as the API's: a category must be a default or the owner's own, a pending amount
    cannot be confirmed without an amount. The admin saves through the service too."""

    class Meta:
        model = Transaction
        fields = ("user", "date", "description", "amount", "type", "status", "category")

    def _post_clean(self):
        super()._post_clean()  # self.instance now carries the form's values
        if self.instance.user_id is None:
            return  # the user field's own error says it is required
        changed = set(self.changed_data)
        if "user" in changed:
            changed.add("category")  # the category must also suit the new owner
        try:
            if self.instance._state.adding:
                transaction_validate_create(
                    user=self.instance.user,
                    amount=self.instance.amount,
                    category=self.instance.category,
                )
            else:
                transaction_validate_update(
                    transaction=self.instance,
                    changes={
                        name: getattr(self.instance, name)
                        for name in EDITABLE_FIELDS
                        if name in changed
                    },
                )
        except ValidationError as error:
            # Support cannot edit the amount: a pending one is an error on the status they set.
            add_service_errors(self, error, fallback={"amount": "status"})


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    form = TransactionAdminForm
    list_display = (
        "date",
        "user",
        "description",
        "amount_won",
        "type",
        "status",
        "category_label",
        "recurring",
    )
    list_filter = ("type", "status", CategoryListFilter, FromRecurringRuleFilter)
    list_select_related = ("user", "category", "recurring")
    date_hierarchy = "date"
    search_fields = ("description", "user__email")
    search_help_text = "Words of the description, or a user's whole email address."
    raw_id_fields = ("user", "recurring")
    # Matches the (date DESC, id DESC) index: the first page of a million rows is an index scan.
    ordering = ("-date", "-id")
    paginator = LargeTablePaginator
    show_full_result_count = False
    fields = (
        "user",
        "date",
        "description",
        "amount",
        "type",
        "status",
        "category",
        "recurring",
        "legacy_id",
        "created_at",
        "updated_at",
    )
    support_editable = ("status", "category")

    def get_queryset(self, request):
        return admin_range_dates(super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        # A whole email address is a question about one user: their rows by the user index,
        # not a scan of every description in a million rows.
        term = search_term.strip()
        if "@" in term and not any(char.isspace() for char in term):
            return queryset.filter(user__email__iexact=term), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="amount", ordering="amount")
    def amount_won(self, obj):
        return format_won(obj.amount) if obj.amount is not None else "(pending)"

    @admin.display(description="category", ordering="category__name")
    def category_label(self, obj):
        return str(obj.category) if obj.category_id else "—"

    def get_fields(self, request, obj=None):
        if is_superuser(request):
            return self.fields
        return tuple("amount_won" if name == "amount" else name for name in self.fields)

    def get_readonly_fields(self, request, obj=None):
        if is_superuser(request):
            return ("created_at", "updated_at")
        fields = self.get_fields(request, obj)
        return tuple(name for name in fields if name not in self.support_editable)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        _limit_category_choices(form, obj)
        return form

    def save_model(self, request, obj, form, change):
        """Through the transactions service (the form already ran its validation). The fields
        only a superuser may set, which are no user's to edit (`user`, `recurring`,
        `legacy_id`), are saved beside it."""
        staff_only = [name for name in form.changed_data if name not in EDITABLE_FIELDS]
        if not change:
            created = transaction_create(
                user=obj.user,
                date=obj.date,
                description=obj.description,
                amount=obj.amount,
                type=obj.type,
                category=obj.category,
                status=obj.status,
            )
            staff_only = [name for name in staff_only if name != "user"]
            for name in staff_only:
                setattr(created, name, getattr(obj, name))
            if staff_only:
                created.save(update_fields=[*staff_only, "updated_at"])
            obj.__dict__.update(created.__dict__)
            return
        if staff_only:
            obj.save(update_fields=[*staff_only, "updated_at"])
        changes = {
            name: getattr(obj, name) for name in form.changed_data if name in EDITABLE_FIELDS
        }
        transaction_update(transaction=obj, **changes)


# --- Recurring rules --------------------------------------------------------------------------


class RecentTransactionsFormSet(forms.BaseInlineFormSet):
    """Only the most recent few generated transactions; the full list is one link away."""

    limit = 20

    def get_queryset(self):
        if not hasattr(self, "_recent_queryset"):
            self._recent_queryset = super().get_queryset()[: self.limit]
        return self._recent_queryset


class GeneratedTransactionInline(admin.TabularInline):
    model = Transaction
    formset = RecentTransactionsFormSet
    fk_name = "recurring"
    verbose_name = "generated transaction"
    verbose_name_plural = "generated transactions (the 20 most recent; see the full list above)"
    fields = ("date", "amount_won", "status", "category")
    readonly_fields = fields
    ordering = ("-date",)
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description="amount")
    def amount_won(self, obj):
        return format_won(obj.amount) if obj.amount is not None else "(pending)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("category")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RecurringTransactionAdminForm(forms.ModelForm):
    """The rules are the recurring engine's (`recurring_validate`); the admin saves through
    `recurring_create`/`recurring_update`."""

    class Meta:
        model = RecurringTransaction
        fields = ("user", "template_name", "amount", "is_variable_amount", "category")

    def _post_clean(self):
        super()._post_clean()  # self.instance now carries the form's values
        if self.instance.user_id is None:
            return  # the user field's own error says it is required
        try:
            recurring_validate(rule=self.instance)
        except ValidationError as error:
            add_service_errors(self, error)


@admin.register(RecurringTransaction)
class RecurringTransactionAdmin(admin.ModelAdmin):
    form = RecurringTransactionAdminForm
    list_display = (
        "template_name",
        "user",
        "amount_won",
        "type",
        "frequency",
        "day_of_month",
        "is_active",
        "period",
    )
    list_filter = ("is_active", "frequency", "type")
    list_select_related = ("user", "category")
    search_fields = ("template_name", "description", "user__email")
    search_help_text = "Template name, description, or the user's email."
    raw_id_fields = ("user",)
    ordering = ("-created_at", "-id")
    paginator = LargeTablePaginator
    show_full_result_count = False
    inlines = [GeneratedTransactionInline]
    actions = ["materialize_now", "deactivate"]
    fields = (
        "user",
        "template_name",
        "description",
        "amount",
        "is_variable_amount",
        "type",
        "category",
        "frequency",
        "start_date",
        "end_date",
        "day_of_month",
        "is_active",
        "generated_transactions",
        "legacy_id",
        "created_at",
        "updated_at",
    )
    support_editable = ("is_active",)

    @admin.display(description="amount", ordering="amount")
    def amount_won(self, obj):
        return format_won(obj.amount) if obj.amount is not None else "(variable)"

    @admin.display(description="period", ordering="start_date")
    def period(self, obj):
        start = obj.start_date.strftime("%Y-%m")
        end = obj.end_date.strftime("%Y-%m") if obj.end_date else "open-ended"
        return f"{start} – {end}"

    @admin.display(description="generated transactions")
    def generated_transactions(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        count = obj.transactions.count()
        return format_html(
            '<a href="{}">All {} transactions generated by this rule →</a>',
            changelist_url(Transaction, recurring__id__exact=obj.pk),
            count,
        )

    def get_fields(self, request, obj=None):
        if is_superuser(request):
            return self.fields
        return tuple("amount_won" if name == "amount" else name for name in self.fields)

    def get_readonly_fields(self, request, obj=None):
        if is_superuser(request):
            return ("generated_transactions", "created_at", "updated_at")
        fields = self.get_fields(request, obj)
        return tuple(name for name in fields if name not in self.support_editable)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        _limit_category_choices(form, obj)
        return form

    def save_model(self, request, obj, form, change):
        """Through the recurring engine, so a change also fixes the rule's future occurrences
        (deactivating removes the scheduled ones) and a new rule is materialized."""
        if change:
            data = {name: getattr(obj, name) for name in form.changed_data if name in RULE_FIELDS}
            if data:
                result = recurring_update(rule=obj, data=data)
                changed = result.updated + result.removed + result.created
                if changed:
                    self.message_user(
                        request,
                        f"Future occurrences: {result.updated} rewritten, {result.removed} "
                        f"removed, {result.created} created.",
                        messages.INFO,
                    )
            return
        fields = {name: getattr(obj, name) for name in RULE_FIELDS}
        rule = recurring_create(user=obj.user, **fields)
        obj.__dict__.update(rule.__dict__)

    @admin.action(
        description="Materialize now (create missing occurrences)", permissions=["change"]
    )
    def materialize_now(self, request, queryset):
        created = 0
        for rule in queryset.order_by("pk"):
            created += len(recurring_materialize(rule=rule))
        self.message_user(
            request,
            f"Materialized {queryset.count()} rule(s): {created} transaction(s) created.",
            messages.SUCCESS,
        )

    @admin.action(
        description="Deactivate (remove future scheduled occurrences)", permissions=["change"]
    )
    def deactivate(self, request, queryset):
        rules = removed = 0
        for rule in queryset.filter(is_active=True).order_by("pk"):
            result = recurring_update(rule=rule, data={"is_active": False})
            rules += 1
            removed += result.removed
        self.message_user(
            request,
            f"Deactivated {rules} rule(s); {removed} future scheduled transaction(s) removed.",
            messages.SUCCESS,
        )


# --- Categories -------------------------------------------------------------------------------


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("label", "is_default", "user", "sort_order", "created_at")
    list_filter = (CategoryKindFilter,)
    list_select_related = ("user",)
    search_fields = ("name", "user__email")
    raw_id_fields = ("user",)
    ordering = ("-is_default", "sort_order", "name", "id")
    paginator = LargeTablePaginator
    show_full_result_count = False

    @admin.display(description="category", ordering="name")
    def label(self, obj):
        return str(obj)

    def get_readonly_fields(self, request, obj=None):
        # A category never changes hands: its transactions are its owner's, and a rename
        # changes only its owner's ledger version (the calendar cache, migration 0008).
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "user") if obj is not None else fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_default and not is_superuser(request):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_default and not is_superuser(request):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # Bulk delete could take defaults with it; only superusers get it.
        actions = super().get_actions(request)
        if not is_superuser(request):
            actions.pop("delete_selected", None)
        return actions


# --- Occurrence records (read-only: the engine writes them) -----------------------------------


@admin.register(RecurringOccurrence)
class RecurringOccurrenceAdmin(admin.ModelAdmin):
    list_display = ("recurring", "date", "created_at")
    list_select_related = ("recurring",)
    raw_id_fields = ("recurring",)
    search_fields = ("recurring__template_name", "recurring__user__email")
    ordering = ("-date", "-id")
    paginator = LargeTablePaginator
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
