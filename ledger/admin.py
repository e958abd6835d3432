from django.contrib import admin

from ledger.models import Category, RecurringTransaction, Transaction


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "emoji", "is_default", "user", "created_at")
    list_filter = ("is_default",)
    list_select_related = ("user",)
    search_fields = ("name", "user__email")
    raw_id_fields = ("user",)


@admin.register(RecurringTransaction)
class RecurringTransactionAdmin(admin.ModelAdmin):
    list_display = (
        "template_name", "user", "amount", "type", "frequency", "day_of_month", "is_active",
    )
    list_filter = ("is_active", "frequency", "type")
    list_select_related = ("user", "category")
    search_fields = ("template_name", "description", "user__email")
    raw_id_fields = ("user", "category")


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = ("date", "user", "description", "amount", "type", "status", "category")
    list_filter = ("type", "status")
    list_select_related = ("user", "category")
    search_fields = ("description", "user__email")
    raw_id_fields = ("user", "category", "recurring")
    date_hierarchy = "date"
    show_full_result_count = False
