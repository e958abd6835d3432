"""The project's URLs plus an empty authenticated DRF view, the benchmarks' baseline."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView


class EmptyView(APIView):
    """Authentication, permission check, content negotiation and rendering; no work."""

    def get(self, request):
        return Response({})


urlpatterns = [
    path("bench/empty", EmptyView.as_view()),
    path("", include("household_ledger.urls")),
]
