"""Budgets in the admin: read-only, for support to see what a user set and when.

A budget is written by its owner through the API (`ledger.services.budgets`); here each
change (a month from which it holds) is listed with its user, total and lines.
"""

from django.contrib import admin
from django.db.models import Count

from ledger.admin.shared import LargeTablePaginator, LedgerColumnMixin, ReadOnlyAdminMixin
from ledger.models import Budget, BudgetLine
from ledger.templatetags.money import format_won


class BudgetLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = BudgetLine
    fields = ("category", "amount_won", "carry_over")
    readonly_fields = fields
    ordering = ("-category__is_default", "category__sort_order", "category__name")
    extra = 0
    can_delete = False

    @admin.display(description="amount")
    def amount_won(self, obj):
        return format_won(obj.amount)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("category")


@admin.register(Budget)
class BudgetAdmin(ReadOnlyAdminMixin, LedgerColumnMixin, admin.ModelAdmin):
    list_display = ("month_label", "ledger_column", "total_won", "line_count", "updated_at")
    list_select_related = ("ledger__personal_for",)
    search_fields = ("ledger__memberships__user__email", "ledger__name")
    fields = ("ledger", "month", "total_won", "created_at", "updated_at")
    readonly_fields = fields
    ordering = ("-month", "-id")
    inlines = (BudgetLineInline,)
    paginator = LargeTablePaginator
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_count=Count("lines"))

    @admin.display(description="from month", ordering="month")
    def month_label(self, obj):
        return f"{obj.month:%Y-%m}"

    @admin.display(description="total", ordering="total")
    def total_won(self, obj):
        return format_won(obj.total)

    @admin.display(description="categories", ordering="line_count")
    def line_count(self, obj):
        return obj.line_count
