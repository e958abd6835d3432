"""Transactions in the admin: support fixes a status or a category; superusers add and edit
through the transactions service, like the API."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from ledger.admin.filters import CategoryListFilter, FromRecurringRuleFilter
from ledger.admin.shared import (
    LargeTablePaginator,
    LedgerColumnMixin,
    add_service_errors,
    admin_range_dates,
    delete_each,
    is_superuser,
    limit_category_choices,
)
from ledger.models import Transaction
from ledger.services.transactions import (
    EDITABLE_FIELDS,
    transaction_create,
    transaction_delete,
    transaction_update,
    transaction_validate_create,
    transaction_validate_update,
)
from ledger.templatetags.money import format_won


class TransactionAdminForm(forms.ModelForm):
    """The rules are the transactions service's (`transaction_validate_create/_update`), the
    same as the API's: a category must be a default or the owner's own, a pending amount
    cannot be confirmed without an amount. The admin saves through the service too."""

    class Meta:
        model = Transaction
        fields = ("ledger", "date", "description", "amount", "type", "status", "category")

    def _post_clean(self):
        super()._post_clean()  # self.instance now carries the form's values
        if self.instance.ledger_id is None:
            return  # the user field's own error says it is required
        try:
            if self.instance._state.adding:
                transaction_validate_create(
                    ledger=self.instance.ledger,
                    amount=self.instance.amount,
                    category=self.instance.category,
                )
            else:
                transaction_validate_update(
                    transaction=self.instance,
                    changes={
                        name: getattr(self.instance, name)
                        for name in EDITABLE_FIELDS
                        if name in self.changed_data
                    },
                )
        except ValidationError as error:
            # Support cannot edit the amount: a pending one is an error on the status they set.
            add_service_errors(self, error, fallback={"amount": "status"})


@admin.register(Transaction)
class TransactionAdmin(LedgerColumnMixin, admin.ModelAdmin):
    form = TransactionAdminForm
    list_display = (
        "date",
        "ledger_column",
        "entered_by",
        "description",
        "amount_won",
        "type",
        "status",
        "category_label",
        "recurring",
    )
    list_filter = ("type", "status", CategoryListFilter, FromRecurringRuleFilter)
    list_select_related = ("ledger__personal_for", "created_by", "category", "recurring")
    date_hierarchy = "date"
    search_fields = ("description", "ledger__memberships__user__email")
    search_help_text = "Words of the description, or a user's whole email address."
    raw_id_fields = ("ledger", "recurring")
    # Matches the (date DESC, id DESC) index: the first page of a million rows is an index scan.
    ordering = ("-date", "-id")
    paginator = LargeTablePaginator
    show_full_result_count = False
    fields = (
        "ledger",
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
    # Written by the recurring engine and the importer, never by hand.
    never_editable = ("recurring", "legacy_id", "created_at", "updated_at")

    def get_queryset(self, request):
        return admin_range_dates(super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        # A whole email address is a question about one user: their rows by the user index,
        # not a scan of every description in a million rows.
        term = search_term.strip()
        if "@" in term and not any(char.isspace() for char in term):
            return queryset.filter(ledger__memberships__user__email__iexact=term), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="amount", ordering="amount")
    def amount_won(self, obj):
        return format_won(obj.amount) if obj.amount is not None else "(pending)"

    @admin.display(description="entered by", ordering="created_by__email")
    def entered_by(self, obj):
        # None: added by support or the recurring engine of a deleted account's rule.
        return obj.created_by.email if obj.created_by_id else "—"

    @admin.display(description="category", ordering="category__name")
    def category_label(self, obj):
        return str(obj.category) if obj.category_id else "—"

    def get_fields(self, request, obj=None):
        if is_superuser(request):
            return self.fields
        return tuple("amount_won" if name == "amount" else name for name in self.fields)

    def get_readonly_fields(self, request, obj=None):
        if is_superuser(request):
            # A transaction never changes hands: its owner is set when it is added.
            return self.never_editable if obj is None else ("ledger", *self.never_editable)
        fields = self.get_fields(request, obj)
        return tuple(name for name in fields if name not in self.support_editable)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        limit_category_choices(form, obj)
        return form

    def save_model(self, request, obj, form, change):
        """Through the transactions service (the form already ran its validation)."""
        if not change:
            created = transaction_create(
                ledger=obj.ledger,
                date=obj.date,
                description=obj.description,
                amount=obj.amount,
                type=obj.type,
                category=obj.category,
                status=obj.status,
            )
            obj.__dict__.update(created.__dict__)
            return
        changes = {
            name: getattr(obj, name) for name in form.changed_data if name in EDITABLE_FIELDS
        }
        transaction_update(transaction=obj, **changes)

    def delete_model(self, request, obj):
        transaction_delete(transaction=obj)

    def delete_queryset(self, request, queryset):
        delete_each(queryset, lambda row: transaction_delete(transaction=row))
