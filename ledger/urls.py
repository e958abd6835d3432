from django.urls import include, path
from rest_framework.routers import SimpleRouter

from ledger.api import ledgers
from ledger.api.backup import BackupExportView, BackupImportView
from ledger.api.budgets import BudgetView
from ledger.api.categories import CategoryViewSet
from ledger.api.recurring import RecurringViewSet
from ledger.api.stats import views as stats
from ledger.api.stats.budget import StatsBudgetView
from ledger.api.sync import SyncView
from ledger.api.transactions import TransactionViewSet

# At the site root, without trailing slashes (SPEC §5): /transactions, /categories, …
router = SimpleRouter(trailing_slash=False)
router.register("transactions", TransactionViewSet, basename="transaction")
router.register("categories", CategoryViewSet, basename="category")
router.register("recurring", RecurringViewSet, basename="recurring")

# Every endpoint of a ledger's data. Served twice from the same views: at the top level (the
# caller's personal ledger) and under /ledgers/<ledger_id>/ (ledger.api.scope).
ledger_data_urls = [
    *router.urls,
    path("stats/summary", stats.StatsSummaryView.as_view(), name="stats-summary"),
    path(
        "stats/monthly/<str:year>/<str:month>",
        stats.StatsMonthlyView.as_view(),
        name="stats-monthly",
    ),
    path("stats/category", stats.StatsCategoryView.as_view(), name="stats-category"),
    path("stats/assets", stats.StatsAssetsView.as_view(), name="stats-assets"),
    path("stats/trend", stats.StatsTrendView.as_view(), name="stats-trend"),
    path("stats/budget/<str:year>/<str:month>", StatsBudgetView.as_view(), name="stats-budget"),
    path("budgets/<str:month>", BudgetView.as_view(), name="budget"),
    path("backup/export", BackupExportView.as_view(), name="backup-export"),
    path("backup/import", BackupImportView.as_view(), name="backup-import"),
    path("sync", SyncView.as_view(), name="sync"),
]

urlpatterns = [
    *ledger_data_urls,
    path("ledgers/<uuid:ledger_id>/", include((ledger_data_urls, "shared"))),
]

# Shared ledgers, their members and invitations (ledger/api/ledgers.py).
urlpatterns += [
    path("ledgers", ledgers.LedgerListView.as_view(), name="ledger-list"),
    path("ledgers/<uuid:ledger_id>", ledgers.LedgerDetailView.as_view(), name="ledger-detail"),
    path(
        "ledgers/<uuid:ledger_id>/members",
        ledgers.MemberListView.as_view(),
        name="ledger-member-list",
    ),
    path(
        "ledgers/<uuid:ledger_id>/members/<uuid:user_id>",
        ledgers.MemberDetailView.as_view(),
        name="ledger-member-detail",
    ),
    path(
        "ledgers/<uuid:ledger_id>/invitations",
        ledgers.InvitationListView.as_view(),
        name="ledger-invitation-list",
    ),
    path(
        "ledgers/<uuid:ledger_id>/invitations/<str:code>",
        ledgers.InvitationDetailView.as_view(),
        name="ledger-invitation-detail",
    ),
    path(
        "invitations/<str:code>/accept",
        ledgers.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
]
