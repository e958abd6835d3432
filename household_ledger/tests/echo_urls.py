"""A URL conf for tests of the API plumbing (parsers, limits, throttles): the project's URLs
plus small DRF views that use the project's defaults and echo what they parsed."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from household_ledger.urls import urlpatterns as project_urlpatterns


class EchoView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"data": request.data})


class PrivateView(APIView):
    """The project's default authentication and permissions (token only, authenticated)."""

    def get(self, request):
        return Response({"user": str(request.user.pk)})


class BackupLikeView(EchoView):
    throttle_scope = "backup"
    max_body_bytes = 10_000


class WebhookLikeView(EchoView):
    throttle_scope = "webhook"


urlpatterns = [
    path("_echo", EchoView.as_view()),
    path("_echo/backup", BackupLikeView.as_view()),
    path("_echo/webhook", WebhookLikeView.as_view()),
    path("_echo/private", PrivateView.as_view()),
    *project_urlpatterns,
]

handler400 = "household_ledger.api.exceptions.handler400"
handler403 = "household_ledger.api.exceptions.handler403"
handler404 = "household_ledger.api.exceptions.handler404"
handler500 = "household_ledger.api.exceptions.handler500"
