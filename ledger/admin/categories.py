"""Categories in the admin: the defaults are shown, a user's own are kept through the
categories service (the same rules as the API's: unique names, at most 200 per user).

The defaults are the SPA's list, kept by `ledger.default_categories` (a data migration and a
repair after every `migrate`): they are read-only here, because an edit would be undone by
the next deploy and would change every user's answers at once.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect

from ledger.admin.filters import CategoryKindFilter
from ledger.admin.shared import (
    LargeTablePaginator,
    LedgerColumnMixin,
    delete_each,
    is_superuser,
)
from ledger.models import Category
from ledger.services.categories import category_create, category_delete, category_update


class CategoryAdminForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ("ledger", "name", "emoji")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "ledger" in self.fields:
            self.fields["ledger"].required = True  # the admin adds a user's own category


@admin.register(Category)
class CategoryAdmin(LedgerColumnMixin, admin.ModelAdmin):
    form = CategoryAdminForm
    list_display = ("label", "is_default", "ledger_column", "sort_order", "created_at")
    list_filter = (CategoryKindFilter,)
    list_select_related = ("ledger__personal_for",)
    search_fields = ("name", "ledger__memberships__user__email")
    raw_id_fields = ("ledger",)
    ordering = ("-is_default", "sort_order", "name", "id")
    paginator = LargeTablePaginator
    show_full_result_count = False

    @admin.display(description="category", ordering="name")
    def label(self, obj):
        return str(obj)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("ledger", "name", "emoji")
        return ("ledger", "name", "emoji", "is_default", "sort_order", "created_at")

    def get_readonly_fields(self, request, obj=None):
        # A category never changes hands: its transactions are its owner's.
        return () if obj is None else ("ledger", "is_default", "sort_order", "created_at")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_default:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # Bulk delete is for superusers (the service refuses defaults either way).
        actions = super().get_actions(request)
        if not is_superuser(request):
            actions.pop("delete_selected", None)
        return actions

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The service's rules (a name unique among the user's and the defaults, at most 200
        # per user) are checked as it writes: a refusal rolls the page's transaction back and
        # is shown above the form.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        if change:
            changes = {name: getattr(obj, name) for name in form.changed_data}
            category_update(category=obj, **changes)
            return
        created = category_create(ledger=obj.ledger, name=obj.name, emoji=obj.emoji)
        obj.__dict__.update(created.__dict__)

    def delete_model(self, request, obj):
        """Its transactions and rules stay, uncategorized."""
        category_delete(category=obj)

    def delete_queryset(self, request, queryset):
        delete_each(queryset, lambda category: category_delete(category=category))
