"""The support staff's view of users: find them, see their ledger at a glance, export and import
their data.

The list annotates each user's transaction count with a correlated subquery (one query for the
page, not one per row, and nothing extra in the paginator's COUNT). The detail page shows the
user's stats (assets, this month's income/expense) from the stats selectors, read-only, and links
to their transactions, rules and categories.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse

from accounts.admin.backup import export_response, export_view, import_view
from accounts.models import User
from ledger.admin.shared import changelist_url
from ledger.dates import local_today
from ledger.models import Category, RecurringTransaction, Transaction
from ledger.selectors.stats import stats_assets, stats_monthly
from ledger.services.ledgers import personal_ledger


def _transaction_count():
    per_user = (
        Transaction.objects.filter(ledger__personal_for=OuterRef("pk"))
        .order_by()
        .values("ledger")
        .annotate(count=Count("*"))
        .values("count")
    )
    return Coalesce(Subquery(per_user, output_field=IntegerField()), Value(0))


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "email",
        "clerk_user_id",
        "joined",
        "last_seen",
        "transaction_count",
        "is_staff",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "clerk_user_id", "username")
    search_help_text = "Email or Clerk user id (user_…)."
    ordering = ("-date_joined", "-id")
    show_full_result_count = False
    fieldsets = DjangoUserAdmin.fieldsets + (
        (
            "Clerk",
            {
                "fields": (
                    "clerk_user_id",
                    "time_zone",
                    "last_seen",
                    "deleted_at",
                    "clerk_updated_at",
                )
            },
        ),
    )
    readonly_fields = ("last_seen", "deleted_at", "clerk_updated_at", "last_login", "date_joined")
    actions = ["export_user_data", "import_user_data"]

    # --- list -------------------------------------------------------------------------------

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(transaction_count=_transaction_count())

    @admin.display(description="joined", ordering="date_joined")
    def joined(self, obj):
        return obj.date_joined

    @admin.display(description="transactions", ordering="transaction_count")
    def transaction_count(self, obj):
        return obj.transaction_count

    # --- permissions ------------------------------------------------------------------------

    def has_export_permission(self, request):
        return request.user.has_perm("accounts.export_user_data")

    def has_import_permission(self, request):
        return request.user.has_perm("accounts.import_user_data")

    # --- detail: stats panel and links --------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        target = self.get_object(request, object_id)
        if target is not None and self.has_view_or_change_permission(request, target):
            extra_context["ledger_panel"] = self._ledger_panel(request, target)
        return super().change_view(request, object_id, form_url, extra_context)

    def _ledger_panel(self, request, target: User) -> dict:
        # The user's personal ledger (shared ones are on the ledgers' own pages).
        ledger = personal_ledger(user=target)
        panel = {
            "links": [
                {
                    "label": "Transactions",
                    "url": changelist_url(Transaction, ledger__id__exact=ledger.pk),
                    "count": ledger.transactions.count(),
                },
                {
                    "label": "Recurring rules",
                    "url": changelist_url(RecurringTransaction, ledger__id__exact=ledger.pk),
                    "count": ledger.recurring_rules.count(),
                },
                {
                    "label": "Own categories",
                    "url": changelist_url(Category, ledger__id__exact=ledger.pk),
                    "count": ledger.categories.count(),
                },
            ],
            "export_url": None,
            "import_url": None,
        }
        if self.has_export_permission(request):
            panel["export_url"] = reverse("admin:accounts_user_export", args=[target.pk])
        if self.has_import_permission(request):
            panel["import_url"] = reverse("admin:accounts_user_import", args=[target.pk])
        panel["stats"] = user_stats(target)
        return panel

    # --- export / import --------------------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        custom = [
            path(
                "<path:object_id>/export/",
                self.admin_site.admin_view(export_view(self)),
                name="{}_{}_export".format(*info),
            ),
            path(
                "<path:object_id>/import/",
                self.admin_site.admin_view(import_view(self)),
                name="{}_{}_import".format(*info),
            ),
        ]
        return custom + super().get_urls()

    def get_target_or_404(self, request, object_id) -> User:
        target = self.get_object(request, object_id)
        if target is None or not self.has_view_or_change_permission(request, target):
            raise Http404("No such user.")
        return target

    @admin.action(
        description="Export this user's data (JSON backup document)", permissions=["export"]
    )
    def export_user_data(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one user to export.", messages.WARNING)
            return None
        return export_response(self, request, queryset.get())

    @admin.action(description="Import a file for this user…", permissions=["import"])
    def import_user_data(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one user to import for.", messages.WARNING)
            return None
        target = queryset.get()
        return HttpResponseRedirect(reverse("admin:accounts_user_import", args=[target.pk]))


def user_stats(target: User) -> dict:
    """The stats panel's figures: assets (confirmed, all time) and this month's totals in the
    user's time zone (Asia/Seoul by default), from the same selectors as the API."""
    time_zone = target.time_zone or None
    today = local_today(time_zone)
    ledger = personal_ledger(user=target)
    assets = stats_assets(ledger=ledger)
    month = stats_monthly(ledger=ledger, year=today.year, month=today.month)
    return {
        "time_zone": time_zone,
        "month_label": f"{today.year:04d}-{today.month:02d}",
        "assets": assets.assets,
        "scheduled_income": assets.scheduled_income,
        "scheduled_expense": assets.scheduled_expense,
        "income": month.income,
        "expense": month.expense,
        "net": month.income - month.expense,
        "count": month.count,
    }
