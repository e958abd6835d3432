"""Bad and oversized input on every real write endpoint: a 4xx JSON error, never a 500 and never
a write. The endpoints come from the URL conf (as in the isolation matrix)."""

import json

import pytest

from household_ledger.tests.test_isolation_matrix import api_routes
from ledger.models import Budget, Category, RecurringTransaction, Transaction
from ledger.services.invitations import invitation_create
from ledger.services.shared_ledgers import ledger_create
from ledger.tests.factories import CategoryFactory, RecurringTransactionFactory, TransactionFactory

pytestmark = pytest.mark.django_db

# Writes that read a body (`generate` takes none and ignores one; its size is still capped).
NO_BODY = {"POST /recurring/{pk}/generate", "POST /invitations/{code}/accept"}
WRITE_ROUTES = sorted(key for key in api_routes() if key.split(" ")[0] in ("POST", "PUT", "PATCH"))
BODY_ROUTES = [key for key in WRITE_ROUTES if key not in NO_BODY]


@pytest.fixture
def target(user):
    """(path for a route key) with the user's real ids in it."""
    ids = {
        "/transactions/{pk}": TransactionFactory(user=user).pk,
        "/categories/{pk}": CategoryFactory(user=user).pk,
        "/recurring/{pk}": RecurringTransactionFactory(user=user).pk,
    }
    ids["/recurring/{pk}/generate"] = ids["/recurring/{pk}"]
    # a shared ledger the user owns, and an invitation to it
    shared = ledger_create(user=user, name="우리집")
    code = invitation_create(ledger=shared, created_by=user, role="viewer").code
    ledger_ids = {"{ledger_id}": shared.pk, "{user_id}": user.pk, "{code}": code}

    def path_of(key):
        method, route = key.split(" ", 1)
        route = route.replace("{month}", "2025-07")  # /budgets/{month}
        for name, value in ledger_ids.items():
            route = route.replace(name, str(value))
        return method.lower(), route.replace("{pk}", str(ids.get(route, "")))

    return path_of


def _counts():
    return (
        Transaction.objects.count(),
        Category.objects.count(),
        RecurringTransaction.objects.count(),
        Budget.objects.count(),
    )


def _json_error(response, status):
    assert response.status_code == status, (status, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    return response.json()["error"]


BAD_BODIES = {
    "truncated": b'{"description": "x"',
    "not json": b"description=x",
    "nested 100,000 deep": b"[" * 100_000,
    "nested objects": b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    "NaN": b'{"amount": NaN}',
    "invalid utf-8": b'{"description": "\xff\xfe"}',
}


@pytest.mark.parametrize("key", BODY_ROUTES)
@pytest.mark.parametrize("kind", list(BAD_BODIES))
def test_malformed_json_is_a_400_and_writes_nothing(auth_client, user, target, key, kind):
    method, path = target(key)
    before = _counts()
    response = getattr(auth_client(user), method)(
        path, data=BAD_BODIES[kind], content_type="application/json"
    )
    assert 400 <= response.status_code < 500, response.content[:300]
    _json_error(response, response.status_code)
    assert _counts() == before


@pytest.mark.parametrize("key", BODY_ROUTES)
def test_unsupported_content_type_is_a_415(auth_client, user, target, key):
    method, path = target(key)
    # (the import also takes multipart)
    content_type = "text/csv" if key == "POST /backup/import" else "multipart/form-data; b=x"
    response = getattr(auth_client(user), method)(path, data=b"a,b", content_type=content_type)
    assert _json_error(response, 415)["code"] == "unsupported_media_type"


@pytest.mark.parametrize("key", WRITE_ROUTES)
def test_body_over_the_limit_is_a_413(auth_client, user, target, key, settings):
    method, path = target(key)
    limit = (
        settings.IMPORT_MAX_BYTES
        if key == "POST /backup/import"
        else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )
    body = json.dumps({"description": "x" * (limit + 200_000)}).encode()
    before = _counts()
    response = getattr(auth_client(user), method)(path, data=body, content_type="application/json")
    assert _json_error(response, 413)["code"] == "payload_too_large"
    assert _counts() == before


LONG = "가" * 20_000


@pytest.mark.parametrize(
    "key, body, field",
    [
        (
            "POST /transactions",
            {"date": "2025-07-25", "description": LONG, "amount": 1, "type": "expense"},
            "description",
        ),
        ("POST /categories", {"name": LONG}, "name"),
        ("POST /categories", {"name": "ok", "emoji": LONG}, "emoji"),
        (
            "POST /recurring",
            {
                "template_name": LONG,
                "amount": 1,
                "type": "expense",
                "start_date": "2025-01",
                "day_of_month": 1,
            },
            "template_name",
        ),
        (
            "POST /transactions",
            {"date": "2025-07-25", "description": "x", "amount": "9" * 5000, "type": "expense"},
            "amount",
        ),
        (
            "POST /transactions",
            {"date": "9" * 5000, "description": "x", "amount": 1, "type": "expense"},
            "date",
        ),
        (
            "POST /transactions",
            {"date": "2025-07-25", "description": "a\x00b", "amount": 1, "type": "expense"},
            "description",
        ),
    ],
)
def test_strings_over_their_limits_are_a_400_naming_the_field(auth_client, user, key, body, field):
    path = key.split(" ", 1)[1]
    before = _counts()
    response = auth_client(user).post(path, body, format="json")
    error = _json_error(response, 400)
    assert field in error["fields"], error
    assert _counts() == before


def test_page_size_is_capped(auth_client, user, settings):
    settings.API_MAX_PAGE_SIZE = 5
    TransactionFactory.create_batch(8, user=user)
    response = auth_client(user).get("/transactions?page_size=100000")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 5


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1e3", "١"])
def test_a_bad_page_number_is_a_400_naming_page(auth_client, user, page):
    response = auth_client(user).get(f"/transactions?page={page}")
    assert "page" in _json_error(response, 400)["fields"]


def test_a_page_past_the_end_is_a_404(auth_client, user):
    assert _json_error(auth_client(user).get("/transactions?page=99"), 404)["code"] == "not_found"


def test_stats_period_is_bounded(auth_client, user):
    response = auth_client(user).get("/stats/summary?date_from=0001-01-01&date_to=9999-12-31")
    assert "date_to" in _json_error(response, 400)["fields"]


def test_the_import_takes_files_larger_than_the_ordinary_body_limit(auth_client, user, settings):
    # given a valid SPA backup bigger than the ordinary limit, smaller than IMPORT_MAX_BYTES
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    rows = [
        {
            "id": f"row-{n}",
            "description": "가져온 거래",
            "amount": 1000 + n,
            "type": "expense",
            "date": "2025-07-24T15:00:00.000Z",
            "category": "식비",
        }
        for n in range(1000)
    ]
    body = json.dumps(
        {"version": 1, "exportDate": "2025-08-02T00:00:00.000Z", "transactions": rows}
    ).encode()
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < len(body) < settings.IMPORT_MAX_BYTES

    # as the JSON body and as a multipart upload
    client = auth_client(user)
    response = client.post("/backup/import", data=body, content_type="application/json")
    assert response.status_code == 200, response.content[:300]
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 1000

    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("backup.json", body, content_type="application/json")
    response = client.post("/backup/import", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.content[:300]
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 1000  # nothing twice
