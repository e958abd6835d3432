from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from household_ledger import health
from household_ledger.api.exceptions import unmatched
from household_ledger.metrics import metrics_view

admin.site.site_header = "household_ledger support"
admin.site.site_title = "household_ledger support"
admin.site.index_title = "Support"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("accounts.urls")),
    path("", include("ledger.urls")),
    re_path(r"^(?P<path>.*)$", unmatched),  # last: every other path is the JSON 404
]

handler400 = "household_ledger.api.exceptions.handler400"
handler403 = "household_ledger.api.exceptions.handler403"
handler404 = "household_ledger.api.exceptions.handler404"
handler500 = "household_ledger.api.exceptions.handler500"
