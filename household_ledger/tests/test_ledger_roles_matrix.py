"""Roles matrix: every ledger-data route under /ledgers/{ledger_id}/ × owner / editor / viewer /
removed member / outsider, plus every top-level route for a member of a shared ledger.

- owner and editor reach the route (whatever it answers, it is not 403/404 for the ledger);
- a viewer reads, and any write is 403 with nothing written;
- a removed member and an outsider get the JSON 404 of a missing ledger for everything;
- top-level routes act on the caller's personal ledger: the shared ledger's rows never show.
"""

import datetime
import json
import uuid
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from household_ledger.tests.test_isolation_matrix import NESTED_PREFIX, api_routes
from ledger.models import LedgerRole, Membership, Transaction
from ledger.tests.factories import (
    CategoryFactory,
    RecurringTransactionFactory,
    TransactionFactory,
    shared_ledger_with,
)

pytestmark = pytest.mark.django_db

NESTED = sorted(api_routes(nested=True))
TOP_LEVEL_READS = sorted(key for key in api_routes() if key.startswith("GET "))
ROLES = ("owner", "editor", "viewer", "removed", "outsider")
MARK = "SHARED-LEDGER-9c1e"
BODIES = {
    "POST /transactions": {
        "date": "2025-07-25",
        "description": "점심",
        "amount": 8500,
        "type": "expense",
    },
    "POST /categories": {"name": "새 카테고리", "emoji": "🧪"},
    "POST /recurring": {
        "template_name": "월세",
        "amount": 550000,
        "type": "expense",
        "start_date": "2025-01",
        "day_of_month": 25,
    },
    "PUT /budgets/{month}": {"total": 100000},
}


@pytest.fixture
def household(auth_client):
    owner, editor, viewer, removed, outsider = (UserFactory() for _ in ROLES)
    ledger = shared_ledger_with(
        owner=owner,
        members={editor: LedgerRole.EDITOR, viewer: LedgerRole.VIEWER, removed: LedgerRole.EDITOR},
    )
    Membership.objects.filter(ledger=ledger, user=removed).delete()  # removed: access goes at once
    category = CategoryFactory(ledger=ledger, user=owner, name=f"{MARK} 카테고리")
    rule = RecurringTransactionFactory(ledger=ledger, user=owner, template_name=f"{MARK} 월세")
    row = TransactionFactory(
        ledger=ledger, user=owner, description=f"{MARK} 점심", date=datetime.date(2025, 7, 25)
    )
    users = dict(zip(ROLES, (owner, editor, viewer, removed, outsider), strict=True))
    ids = {"transactions": row.pk, "categories": category.pk, "recurring": rule.pk}
    return ledger, users, ids, auth_client


def _path(route: str, ledger_id, ids) -> str:
    path = route.replace("{ledger_id}", str(ledger_id))
    for kind, pk in ids.items():
        path = path.replace(f"/{kind}/{{pk}}", f"/{kind}/{pk}")
    return (
        path.replace("{date}", "2025-07-25")
        .replace("{year}/{month}", "2025/7")
        .replace("{month}", "2025-07")
    )


def _call(client, method, path, body):
    if method in ("post", "put", "patch") and body is not None:
        response = getattr(client, method)(path, body, format="json")
    else:
        response = getattr(client, method)(path)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, content


def test_every_nested_route_is_a_top_level_route_under_one_ledger():
    assert NESTED, "the ledger-data routes must be mounted under /ledgers/{ledger_id}/"
    top = set(api_routes())
    assert {f"{k.split(' ')[0]} {k.split(' ', 1)[1][len(NESTED_PREFIX) :]}" for k in NESTED} <= top


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", NESTED)
def test_role_matrix(household, endpoint, role):
    ledger, users, ids, auth_client = household
    method, route = endpoint.split(" ", 1)
    method = method.lower()
    top_key = f"{method.upper()} {route[len(NESTED_PREFIX) :]}"
    body = BODIES.get(top_key, {"description": "고침"} if method in ("put", "patch") else None)
    before = Transaction.objects.filter(ledger=ledger).count()
    status, content = _call(auth_client(users[role]), method, _path(route, ledger.pk, ids), body)
    assert status < 500, content[:300]
    if role in ("removed", "outsider"):
        assert status == 404, content[:300]
        assert json.loads(content)["error"]["code"] == "ledger_not_found"
        assert MARK.encode() not in content
    elif role == "viewer" and method != "get":
        assert status == 403, content[:300]
        assert Transaction.objects.filter(ledger=ledger).count() == before
    else:
        assert status not in (403,), content[:300]
        if status == 404:  # a 404 may only be about the object, never about the ledger
            assert json.loads(content)["error"]["code"] != "ledger_not_found"


def test_a_missing_ledger_is_the_same_404(household):
    _, users, _, auth_client = household
    response = auth_client(users["owner"]).get(f"/ledgers/{uuid.uuid4()}/transactions")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ledger_not_found"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", TOP_LEVEL_READS)
def test_top_level_routes_act_on_the_personal_ledger(household, endpoint, role):
    ledger, users, ids, auth_client = household
    route = endpoint.split(" ", 1)[1]
    status, content = _call(auth_client(users[role]), "get", _path(route, ledger.pk, ids), None)
    assert status < 500, content[:300]
    assert MARK.encode() not in content


def test_members_write_into_the_shared_ledger_with_created_by(household):
    ledger, users, _, auth_client = household
    client = auth_client(users["editor"])
    created = client.post(
        f"/ledgers/{ledger.pk}/transactions", BODIES["POST /transactions"], format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["created_by"] == {"id": str(users["editor"].pk), "email": users["editor"].email}
    row = Transaction.objects.get(pk=body["id"])
    assert row.ledger_id == ledger.pk and row.created_by_id == users["editor"].pk
    # the owner sees it in the ledger; the editor's personal ledger does not have it
    listed = auth_client(users["owner"]).get(f"/ledgers/{ledger.pk}/transactions").json()
    assert body["id"] in {item["id"] for item in listed["results"]}
    personal = client.get("/transactions").json()
    assert body["id"] not in {item["id"] for item in personal["results"]}


def test_the_ledger_revision_is_in_the_etag(household):
    ledger, users, _, auth_client = household
    viewer = auth_client(users["viewer"])
    first = viewer.get(f"/ledgers/{ledger.pk}/transactions")
    assert (
        viewer.get(
            f"/ledgers/{ledger.pk}/transactions", HTTP_IF_NONE_MATCH=first["ETag"]
        ).status_code
        == 304
    )
    TransactionFactory(ledger=ledger, user=users["owner"], amount=Decimal("1000"))
    auth_client(users["editor"]).post(
        f"/ledgers/{ledger.pk}/transactions", BODIES["POST /transactions"], format="json"
    )
    again = viewer.get(f"/ledgers/{ledger.pk}/transactions", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200


def test_the_membership_check_is_one_query(household, django_assert_max_num_queries):
    ledger, users, _, auth_client = household
    client = auth_client(users["viewer"])
    client.get(f"/ledgers/{ledger.pk}/stats/assets")  # warm: user, caches
    with django_assert_max_num_queries(6) as captured:
        client.get(f"/ledgers/{ledger.pk}/stats/assets")
    membership = [q for q in captured.captured_queries if "ledger_membership" in q["sql"]]
    assert len(membership) == 1
