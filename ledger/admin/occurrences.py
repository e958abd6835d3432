"""Occurrence records in the admin: read-only, the recurring engine writes them (each is the
memory that a rule's date was materialized, so a deleted transaction is not re-created)."""

from django.contrib import admin

from ledger.admin.shared import LargeTablePaginator
from ledger.models import RecurringOccurrence


@admin.register(RecurringOccurrence)
class RecurringOccurrenceAdmin(admin.ModelAdmin):
    list_display = ("recurring", "date", "created_at")
    list_select_related = ("recurring",)
    raw_id_fields = ("recurring",)
    search_fields = ("recurring__template_name", "recurring__ledger__memberships__user__email")
    ordering = ("-date", "-id")
    paginator = LargeTablePaginator
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
