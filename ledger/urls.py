from django.urls import path

from ledger.api import stats

urlpatterns = [
    path("stats/summary", stats.StatsSummaryView.as_view(), name="stats-summary"),
    path(
        "stats/monthly/<str:year>/<str:month>",
        stats.StatsMonthlyView.as_view(),
        name="stats-monthly",
    ),
    path("stats/category", stats.StatsCategoryView.as_view(), name="stats-category"),
    path("stats/assets", stats.StatsAssetsView.as_view(), name="stats-assets"),
    path("stats/trend", stats.StatsTrendView.as_view(), name="stats-trend"),
]
