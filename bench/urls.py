from django.core.cache import cache
from django.db import connection
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from household_ledger.urls import urlpatterns as product_urlpatterns


class HelloView(APIView):
    """The framework's floor: DRF with the same settings, no auth, no database."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    def get(self, request):
        return Response({"hello": "world"})


class HelloRoundTripsView(HelloView):
    """Hello plus the two round trips every authenticated request makes: one indexed SELECT
    (with Django's connection health check) and one pipelined counter hit in Redis. The gap
    between this and the floor endpoint is what our own code costs."""

    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM accounts_user WHERE clerk_user_id = %s", ["user_demo_heavy"]
            )
            cursor.fetchone()
        cache.count_hit("bench:hello", 60)
        return Response({"hello": "world"})


urlpatterns = [
    path("bench/hello", HelloView.as_view()),
    path("bench/hello-round-trips", HelloRoundTripsView.as_view()),
    *product_urlpatterns,
]
