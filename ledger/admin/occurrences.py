"""Occurrence records in the admin: read-only, the recurring engine writes them (each is the
memory that a rule's date was materialized, so a deleted transaction is not re-created)."""

from django.contrib import admin

from ledger.admin.shared import LargeTablePaginator, ReadOnlyAdminMixin
from ledger.models import RecurringOccurrence


@admin.register(RecurringOccurrence)
class RecurringOccurrenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("recurring", "date", "created_at")
    list_select_related = ("recurring",)
    raw_id_fields = ("recurring",)
    search_fields = ("recurring__template_name", "recurring__ledger__memberships__user__email")
    ordering = ("-date", "-id")
    paginator = LargeTablePaginator
    show_full_result_count = False
