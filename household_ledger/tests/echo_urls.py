"""A URL conf for tests of the API plumbing (parsers, limits, throttles): the project's URLs
plus small DRF views that use the project's defaults and echo what they parsed."""

import uuid

from django.db import connection
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from household_ledger.urls import urlpatterns as project_urlpatterns
from ledger.models import Category
from ledger.services.ledgers import personal_ledger


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


def _sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _category(name, *, twice=False):
    owner = User.objects.create(username=f"db-{uuid.uuid4().hex}")
    Category.objects.create(ledger=personal_ledger(user=owner), name=name)
    if twice:
        Category.objects.create(ledger=personal_ledger(user=owner), name=name)


class DatabaseErrorView(APIView):
    """Real database errors, of each kind, raised from a DRF view."""

    permission_classes = [AllowAny]
    failures = {
        "out-of-range": lambda: _sql("SELECT %s::smallint", [100_000]),  # DataError
        "nul": lambda: _sql("SELECT %s::text", ["a\x00b"]),  # DataError (psycopg refuses it)
        "unique": lambda: _category("식비 2", twice=True),  # category_name_unique_per_ledger
        "check": lambda: _category(""),  # category_name_not_blank
        "not-null": lambda: _sql("INSERT INTO ledger_category (id) VALUES (%s)", [uuid.uuid4()]),
        "no-table": lambda: _sql("SELECT * FROM no_such_table"),  # ProgrammingError: a bug
        "gone": lambda: _sql("SELECT pg_terminate_backend(pg_backend_pid())"),  # Operational
    }

    def get(self, request, kind):
        self.failures[kind]()
        return Response({"ok": True})


urlpatterns = [
    path("_db/<str:kind>", DatabaseErrorView.as_view()),
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
