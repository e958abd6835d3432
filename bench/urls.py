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


urlpatterns = [path("bench/hello", HelloView.as_view()), *product_urlpatterns]
