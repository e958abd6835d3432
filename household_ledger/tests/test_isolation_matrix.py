"""Isolation matrix: for every route and method of the URL conf, another user can neither see
nor change Alice's data.

The parameters come from the URL conf itself (`get_resolver()`), so a new endpoint without a
case in CASES (or a reasoned entry in NOT_USER_DATA) fails `test_isolation`.

Alice and Bob both have full ledgers (own categories, recurring rules and their occurrences,
confirmed and scheduled transactions, imported rows). Each case acts as Bob against Alice's ids,
names and filters, and then:
- every answer Bob got is checked for any of Alice's ids, names, descriptions, email or user id;
- Alice's rows (transactions, categories, rules, occurrences) are compared with a snapshot
  taken before: not one field changed.
"""

import datetime
import json
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.tests.factories import UserFactory
from ledger.models import (
    Budget,
    BudgetLine,
    Category,
    Invitation,
    Ledger,
    Membership,
    RecurringOccurrence,
    RecurringTransaction,
    Transaction,
)
from ledger.services.budgets import budget_set
from ledger.services.invitations import invitation_create
from ledger.services.ledgers import personal_ledger
from ledger.services.recurring.engine import recurring_materialize_all
from ledger.services.shared_ledgers import ledger_create
from ledger.tests.factories import CategoryFactory, RecurringTransactionFactory, TransactionFactory

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")

# Routes that hold no user data, each with the reason.
NOT_USER_DATA = {
    "healthz": "liveness probe, no data",
    "readyz": "readiness probe, no data",
    "metrics": "Prometheus metrics, token-protected, no user data",
    "api/schema/": "the OpenAPI document",
    "api/docs/": "Swagger UI",
    "auth/webhook": "Clerk → server, Svix-signed; no user token (accounts/tests/test_webhook.py)",
    "{path}": "the last route: any unmatched path is the JSON 404 (test_contract.py)",
}


def _route(prefix: str, pattern) -> str:
    route = prefix + str(pattern)
    route = route.replace("^", "").replace("$", "")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield _route(prefix, pattern.pattern), pattern.callback


# The ledger-data routes mounted again under one ledger (ledger.urls): the same views as the
# top-level ones, checked role by role in household_ledger.tests.test_ledger_roles_matrix.
NESTED_PREFIX = "/ledgers/{ledger_id}"


def api_routes(*, nested: bool = False):
    """Every (METHOD, route) the URL conf serves, admin excluded (staff only, own tests).
    `nested`: only the ledger-data routes under /ledgers/{ledger_id}/; else all the others."""
    keys = list(_all_routes())
    top = set(keys)
    for key in keys:
        method, route = key.split(" ", 1)
        is_nested = route.startswith(NESTED_PREFIX + "/") and (
            f"{method} {route[len(NESTED_PREFIX) :]}" in top
        )
        if is_nested == nested:
            yield key


def _all_routes():
    seen = set()
    for route, callback in _walk(get_resolver().url_patterns):
        if route.startswith("admin/") or route in NOT_USER_DATA or ".{format}" in route:
            continue
        actions = getattr(callback, "actions", None)
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if actions:
            methods = list(actions)
        elif view_class is not None:
            methods = [m for m in METHODS if hasattr(view_class, m)]
        else:
            methods = ["get"]
        for method in methods:
            key = f"{method.upper()} /{route}"
            if key not in seen:
                seen.add(key)
                yield key


# --- the two ledgers --------------------------------------------------------------------------


ALICE_MARK = "ALICE-PRIVATE-7f3a"


@dataclass
class World:
    alice: object
    bob: object
    alice_client: object
    bob_client: object
    a: dict = field(default_factory=dict)  # Alice's ids
    b: dict = field(default_factory=dict)  # Bob's ids
    answers: list = field(default_factory=list)

    def bob_call(self, method, path, data=None, **extra):
        client = self.bob_client
        if data is not None and not isinstance(data, bytes):
            response = getattr(client, method)(path, data, format="json", **extra)
        elif data is not None:
            response = getattr(client, method)(path, data, content_type="application/json", **extra)
        else:
            response = getattr(client, method)(path, **extra)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        self.answers.append((method.upper(), path, response.status_code, body))
        response.body = body
        assert response.status_code < 500, (method, path, body[:500])
        return response

    def secrets(self):
        """Strings that must never appear in an answer to Bob."""
        values = {ALICE_MARK, str(self.alice.pk), self.alice.clerk_user_id, self.alice.email}
        for ids in self.a.values():
            values.update(str(i) for i in (ids if isinstance(ids, list) else [ids]))
        return values


def _ledger(user, mark: str):
    """Own categories, two rules with their occurrences, transactions of every kind."""
    today = datetime.date.today()
    category = CategoryFactory(user=user, name=f"{mark} 카테고리", emoji="🧪")
    other_category = CategoryFactory(user=user, name="공통 이름", emoji="🔁")
    start = (today.replace(day=1) - datetime.timedelta(days=70)).replace(day=1)
    rule = RecurringTransactionFactory(
        user=user,
        template_name=f"{mark} 월세",
        description=f"{mark} 월세",
        category=category,
        amount=Decimal("550000"),
        start_date=start,
        day_of_month=10,
    )
    variable = RecurringTransactionFactory(
        user=user,
        template_name=f"{mark} 전기",
        description=f"{mark} 전기",
        amount=None,
        is_variable_amount=True,
        start_date=start,
        day_of_month=28,
    )
    transactions = [
        TransactionFactory(
            user=user,
            date=today,
            description=f"{mark} 점심",
            amount=Decimal("12000"),
            category=category,
        ),
        TransactionFactory(
            user=user,
            date=today,
            description=f"{mark} 월급",
            type="income",
            amount=Decimal("3000000"),
        ),
        TransactionFactory(
            user=user,
            date=today + datetime.timedelta(days=3),
            description=f"{mark} 예정",
            status="scheduled",
            amount=Decimal("7000"),
            category=other_category,
        ),
        TransactionFactory(
            user=user,
            date=today - datetime.timedelta(days=40),
            description=f"{mark} 가져옴",
            legacy_id=f"{mark}-legacy-1",
            amount=Decimal("5400"),
        ),
    ]
    budget_set(
        ledger=personal_ledger(user=user),
        month=start,
        total=Decimal("2500000"),
        categories=[{"category": category, "amount": Decimal("300000"), "carry_over": True}],
    )
    return {
        "category": category.pk,
        "other_category": other_category.pk,
        "rule": rule.pk,
        "variable_rule": variable.pk,
        "transactions": [t.pk for t in transactions],
        "today": today,
    }


@pytest.fixture
def world(auth_client):
    alice = UserFactory(email="alice-secret@example.com")
    bob = UserFactory()
    world = World(
        alice=alice, bob=bob, alice_client=auth_client(alice), bob_client=auth_client(bob)
    )
    world.a = _ledger(alice, ALICE_MARK)
    world.b = _ledger(bob, "BOB")
    recurring_materialize_all()
    world.a["occurrences"] = list(
        Transaction.objects.filter(ledger__personal_for=alice, recurring__isnull=False).values_list(
            "pk", flat=True
        )
    )
    assert world.a["occurrences"], "the rules must have occurrences"
    today = world.a.pop("today")
    world.today = world.b.pop("today")
    assert today == world.today
    return world


def _snapshot(user):
    return {
        "transactions": sorted(Transaction.objects.filter(ledger__personal_for=user).values_list()),
        "categories": sorted(Category.objects.filter(ledger__personal_for=user).values_list()),
        "rules": sorted(
            RecurringTransaction.objects.filter(ledger__personal_for=user).values_list()
        ),
        "occurrences": sorted(
            RecurringOccurrence.objects.filter(ledger__personal_for=user).values_list()
        ),
        "budgets": sorted(Budget.objects.filter(ledger__personal_for=user).values_list()),
        "budget_lines": sorted(BudgetLine.objects.filter(ledger__personal_for=user).values_list()),
    }


def _error(response, status, field_name=None):
    assert response.status_code == status, (status, response.body[:400])
    body = json.loads(response.body)
    assert "error" in body
    if field_name:
        assert field_name in body["error"].get("fields", {}), body
    return body


# --- cases: one per route × method --------------------------------------------------------------


def _foreign_ids(w, method, template, body=None):
    ids = {
        "/transactions/{pk}": [*w.a["transactions"], *w.a["occurrences"]],
        "/categories/{pk}": [w.a["category"], w.a["other_category"]],
        "/recurring/{pk}": [w.a["rule"], w.a["variable_rule"]],
        "/recurring/{pk}/generate": [w.a["rule"], w.a["variable_rule"]],
    }[template]
    for pk in ids:
        response = w.bob_call(method, template.replace("{pk}", str(pk)), body)
        _error(response, 404)
    # and an id nobody has answers exactly the same
    unknown = w.bob_call(method, template.replace("{pk}", str(uuid.uuid4())), body)
    assert (unknown.status_code, json.loads(unknown.body)) == (404, json.loads(response.body))


TRANSACTION_BODY = {"date": "2025-07-25", "description": "bob", "amount": 1000, "type": "expense"}
RULE_BODY = {
    "template_name": "bob rule",
    "amount": 1000,
    "type": "expense",
    "start_date": "2025-01",
    "day_of_month": 5,
}


def case_transactions_list(w):
    response = w.bob_call("get", "/transactions?page_size=500")
    ids = {row["id"] for row in json.loads(response.body)["results"]}
    assert ids and not ids & {str(i) for i in w.a["transactions"] + w.a["occurrences"]}
    _error(w.bob_call("get", f"/transactions?category={w.a['category']}"), 400, "category")
    _error(w.bob_call("get", f"/transactions?recurring={w.a['rule']}"), 400, "recurring")
    # Bob's own filters still work
    own = w.bob_call("get", f"/transactions?category={w.b['category']}")
    assert own.status_code == 200


def case_transactions_create(w):
    body = {**TRANSACTION_BODY, "category": str(w.a["category"])}
    _error(w.bob_call("post", "/transactions", body), 400, "category")
    # an owner or rule in the body is not taken
    body = {**TRANSACTION_BODY, "user": str(w.alice.pk), "recurring": str(w.a["rule"])}
    created = w.bob_call("post", "/transactions", body)
    assert created.status_code == 201
    row = Transaction.objects.get(pk=json.loads(created.body)["id"])
    assert row.ledger.personal_for_id == w.bob.pk and row.recurring_id is None


def case_transactions_by_date(w):
    for day in (w.today, w.today + datetime.timedelta(days=3)):
        for query in ("", "?include_projected=true"):
            response = w.bob_call("get", f"/transactions/by-date/{day.isoformat()}{query}")
            assert response.status_code == 200


def case_transactions_by_month(w):
    for query in ("", "?include_projected=true"):
        response = w.bob_call(
            "get", f"/transactions/by-month/{w.today.year}/{w.today.month}{query}"
        )
        assert response.status_code == 200


def case_transaction_detail(method):
    def run(w):
        body = TRANSACTION_BODY if method in ("put", "patch") else None
        _foreign_ids(w, method, "/transactions/{pk}", body)

    return run


def case_categories_list(w):
    response = w.bob_call("get", "/categories?page_size=500")
    payload = json.loads(response.body)
    rows = payload["results"] if isinstance(payload, dict) else payload
    assert str(w.b["category"]) in {row["id"] for row in rows}


def case_categories_create(w):
    # the same name as one of Alice's own is Bob's to take: no 409 that would reveal it
    created = w.bob_call("post", "/categories", {"name": f"{ALICE_MARK} 카테고리"[::-1]})
    assert created.status_code == 201
    again = w.bob_call("post", "/categories", {"name": "공통 이름 2", "user": str(w.alice.pk)})
    assert again.status_code == 201
    assert Category.objects.get(pk=json.loads(again.body)["id"]).ledger.personal_for_id == w.bob.pk


def case_category_detail(method):
    def run(w):
        body = {"name": "renamed", "emoji": "🙂"} if method in ("put", "patch") else None
        _foreign_ids(w, method, "/categories/{pk}", body)

    return run


def case_categories_suggest(w):
    """Alice's history never shows in Bob's suggestions, even for her own words."""
    query = {"description": f"{ALICE_MARK} 점심", "type": "expense"}
    before = w.bob_call("get", "/categories/suggest", query)
    assert before.status_code == 200, before.body[:300]
    for _ in range(3):
        response = w.alice_client.post(
            "/transactions",
            {
                "date": w.today.isoformat(),
                "amount": 12000,
                "category": str(w.a["category"]),
                **query,
            },
            format="json",
        )
        assert response.status_code == 201
    w.alice_before = _snapshot(w.alice)  # Alice's own change, made above
    after = w.bob_call("get", "/categories/suggest", query)
    assert json.loads(after.body) == json.loads(before.body)


def case_recurring_list(w):
    response = w.bob_call("get", "/recurring?page_size=500")
    payload = json.loads(response.body)
    rows = payload["results"] if isinstance(payload, dict) else payload
    assert str(w.b["rule"]) in {row["id"] for row in rows}


def case_recurring_create(w):
    body = {**RULE_BODY, "category": str(w.a["category"])}
    _error(w.bob_call("post", "/recurring", body), 400, "category")
    created = w.bob_call("post", "/recurring", {**RULE_BODY, "user": str(w.alice.pk)})
    assert created.status_code == 201
    assert (
        RecurringTransaction.objects.get(pk=json.loads(created.body)["id"]).ledger.personal_for_id
        == w.bob.pk
    )


def case_recurring_detail(method):
    def run(w):
        body = RULE_BODY if method in ("put", "patch") else None
        _foreign_ids(w, method, "/recurring/{pk}", body)

    return run


def case_recurring_generate(w):
    _foreign_ids(w, "post", "/recurring/{pk}/generate", {})


def _stats_unchanged_by_alice(w, path):
    """Bob's figures are the same before and after Alice adds big rows on the same days."""
    before = w.bob_call("get", path)
    assert before.status_code == 200, before.body[:300]
    for kind in ("income", "expense"):
        for status in ("confirmed", "scheduled"):
            TransactionFactory(
                user=w.alice,
                date=w.today,
                type=kind,
                status=status,
                amount=Decimal("999999"),
                description=ALICE_MARK,
                category_id=w.a["category"],
            )
    w.alice_before = _snapshot(w.alice)  # Alice's own change, made above
    after = w.bob_call("get", path)
    assert json.loads(after.body) == json.loads(before.body)


def case_stats(path_template):
    def run(w):
        path = path_template.format(
            year=w.today.year,
            month=w.today.month,
            start=w.today.replace(day=1).isoformat(),
            end=w.today.replace(day=28).isoformat(),
        )
        _stats_unchanged_by_alice(w, path)

    return run


def case_backup_export(w):
    for query in ("", "?format=spa-v1"):
        response = w.bob_call("get", f"/backup/export{query}")
        assert response.status_code == 200
        assert b"BOB" in response.body


def case_backup_import(w):
    # Bob's file reuses Alice's transaction ids and category name, in both modes
    rows = [
        {
            "id": str(pk),
            "description": "bob import",
            "amount": 100,
            "type": "expense",
            "date": "2025-07-24T15:00:00.000Z",
            "category": f"{ALICE_MARK} 카테고리",
            "status": "confirmed",
            "recurring_id": None,
        }
        for pk in w.a["transactions"]
    ] + [
        {
            "id": f"{ALICE_MARK}-legacy-1",
            "description": "bob import",
            "amount": 100,
            "type": "expense",
            "date": "2025-07-24T15:00:00.000Z",
            "category": "식비",
        }
    ]
    document = {"version": 1, "exportDate": "2025-08-02T00:00:00.000Z", "transactions": rows}
    for mode in ("merge", "replace"):
        response = w.bob_call("post", f"/backup/import?mode={mode}", json.dumps(document).encode())
        assert response.status_code == 200, response.body[:500]
    assert Transaction.objects.filter(
        ledger__personal_for=w.bob, description="bob import"
    ).count() == len(rows)


def case_sync(w):
    """Bob's snapshot and deltas hold only Bob's rows, whatever Alice writes or deletes."""
    snapshot = w.bob_call("get", "/sync?since=0")
    assert snapshot.status_code == 200
    assert ALICE_MARK.encode() not in snapshot.body and b"BOB" in snapshot.body
    since = json.loads(snapshot.body)["revision"]
    created = w.alice_client.post(
        "/transactions",
        {"date": "2025-07-25", "description": ALICE_MARK, "amount": 1, "type": "expense"},
        format="json",
    ).json()
    w.alice_client.delete(f"/transactions/{created['id']}")
    w.alice_client.delete(f"/transactions/{w.a['transactions'][0]}")
    w.alice_before = _snapshot(w.alice)  # Alice's own changes, made above
    delta = json.loads(w.bob_call("get", f"/sync?since={since}").body)
    assert delta["transactions"] == [] and delta["deleted"]["transactions"] == []


def _months_with_budgets(w):
    start = Budget.objects.get(ledger__personal_for=w.alice).month
    return [f"{start:%Y-%m}", f"{w.today:%Y-%m}"]


def case_budget_get(w):
    for month in _months_with_budgets(w):
        response = w.bob_call("get", f"/budgets/{month}")
        assert response.status_code == 200
        assert str(w.b["category"]) in response.body.decode()  # Bob's own budget


def case_budget_put(w):
    month = _months_with_budgets(w)[0]
    body = {"total": 1000, "categories": [{"category": str(w.a["category"]), "amount": 1000}]}
    _error(w.bob_call("put", f"/budgets/{month}", body), 400, "categories[0].category")
    body = {"total": 1000, "categories": [], "user": str(w.alice.pk)}
    assert w.bob_call("put", f"/budgets/{month}", body).status_code == 200
    assert Budget.objects.get(ledger__personal_for=w.bob, month=month + "-01").total == 1000


def case_budget_delete(w):
    months = _months_with_budgets(w)
    # Bob deletes his own change of the month Alice also set; hers stays (the snapshot)
    assert w.bob_call("delete", f"/budgets/{months[0]}").status_code == 200
    _error(w.bob_call("delete", f"/budgets/{months[0]}"), 404)
    _error(w.bob_call("delete", f"/budgets/{months[1]}"), 404)


def _alice_ledgers(w):
    """Alice's personal and shared ledgers (with a member and a pending invitation), their ids
    and codes added to what must never reach Bob; the state to compare after the case."""
    personal = personal_ledger(user=w.alice)
    shared = ledger_create(user=w.alice, name=f"{ALICE_MARK} 우리집")
    Membership.objects.create(ledger=shared, user=UserFactory(), role="editor")
    invitation = invitation_create(
        ledger=shared, created_by=w.alice, role="owner", email="carol-secret@example.com"
    )
    w.a.update(personal_ledger=personal.pk, shared_ledger=shared.pk, code=invitation.code)

    def state():
        return (
            sorted(Ledger.objects.filter(pk__in=[personal.pk, shared.pk]).values_list()),
            sorted(Membership.objects.filter(ledger__in=[personal, shared]).values_list()),
            sorted(Invitation.objects.filter(ledger=shared).values_list()),
        )

    return state


def case_ledgers(method, suffix="", body=None):
    """Every /ledgers/{id}/… answers 404 to Bob for Alice's ledgers, as for an unknown id."""

    def case(w):
        state = _alice_ledgers(w)
        before = state()
        path = "/ledgers/{id}" + suffix.format(user=w.alice.pk, code=w.a["code"])
        for ledger_id in (w.a["personal_ledger"], w.a["shared_ledger"]):
            response = w.bob_call(method, path.replace("{id}", str(ledger_id)), body)
            _error(response, 404)
        unknown = w.bob_call(method, path.replace("{id}", str(uuid.uuid4())), body)
        assert (unknown.status_code, json.loads(unknown.body)) == (404, json.loads(response.body))
        assert state() == before

    return case


def case_ledgers_list(w):
    state = _alice_ledgers(w)
    before = state()
    rows = json.loads(w.bob_call("get", "/ledgers").body)
    assert [(row["is_personal"], row["member_count"]) for row in rows] == [(True, 1)]
    assert state() == before


def case_ledgers_create(w):
    state = _alice_ledgers(w)
    before = state()
    body = {"name": "bob", "id": str(w.a["shared_ledger"]), "personal_for": str(w.alice.pk)}
    response = w.bob_call("post", "/ledgers", body)
    assert response.status_code == 201 and json.loads(response.body)["member_count"] == 1
    assert Membership.objects.get(ledger_id=json.loads(response.body)["id"]).user == w.bob
    assert state() == before


def case_invitation_accept(w):
    """Bob cannot accept an invitation bound to another email, nor guess a code."""
    state = _alice_ledgers(w)
    before = state()
    _error(w.bob_call("post", f"/invitations/{w.a['code']}/accept"), 403)
    _error(w.bob_call("post", f"/invitations/{w.a['code'][:-1]}x/accept"), 404)
    assert state() == before


def case_auth_me(w):
    response = w.bob_call("get", "/auth/me")
    assert response.status_code == 200
    assert json.loads(response.body)["id"] == str(w.bob.pk)


CASES = {
    "GET /transactions": case_transactions_list,
    "POST /transactions": case_transactions_create,
    "GET /transactions/by-date/{date}": case_transactions_by_date,
    "GET /transactions/by-month/{year}/{month}": case_transactions_by_month,
    **{
        f"{m.upper()} /transactions/{{pk}}": case_transaction_detail(m)
        for m in ("get", "put", "patch", "delete")
    },
    "GET /categories": case_categories_list,
    "POST /categories": case_categories_create,
    **{
        f"{m.upper()} /categories/{{pk}}": case_category_detail(m)
        for m in ("get", "put", "patch", "delete")
    },
    "GET /categories/suggest": case_categories_suggest,
    "GET /recurring": case_recurring_list,
    "POST /recurring": case_recurring_create,
    **{
        f"{m.upper()} /recurring/{{pk}}": case_recurring_detail(m)
        for m in ("get", "put", "patch", "delete")
    },
    "POST /recurring/{pk}/generate": case_recurring_generate,
    "GET /stats/summary": case_stats("/stats/summary"),
    "GET /stats/monthly/{year}/{month}": case_stats("/stats/monthly/{year}/{month}"),
    "GET /stats/category": case_stats("/stats/category"),
    "GET /stats/assets": case_stats("/stats/assets"),
    "GET /stats/trend": case_stats("/stats/trend"),
    "GET /stats/budget/{year}/{month}": case_stats("/stats/budget/{year}/{month}"),
    "GET /budgets/{month}": case_budget_get,
    "PUT /budgets/{month}": case_budget_put,
    "DELETE /budgets/{month}": case_budget_delete,
    "GET /backup/export": case_backup_export,
    "POST /backup/import": case_backup_import,
    "GET /auth/me": case_auth_me,
    "GET /sync": case_sync,
    "GET /ledgers": case_ledgers_list,
    "POST /ledgers": case_ledgers_create,
    "GET /ledgers/{ledger_id}": case_ledgers("get"),
    "PATCH /ledgers/{ledger_id}": case_ledgers("patch", body={"name": "bob"}),
    "DELETE /ledgers/{ledger_id}": case_ledgers("delete"),
    "GET /ledgers/{ledger_id}/members": case_ledgers("get", "/members"),
    "PATCH /ledgers/{ledger_id}/members/{user_id}": case_ledgers(
        "patch", "/members/{user}", {"role": "viewer"}
    ),
    "DELETE /ledgers/{ledger_id}/members/{user_id}": case_ledgers("delete", "/members/{user}"),
    "GET /ledgers/{ledger_id}/invitations": case_ledgers("get", "/invitations"),
    "POST /ledgers/{ledger_id}/invitations": case_ledgers(
        "post", "/invitations", {"role": "owner"}
    ),
    "DELETE /ledgers/{ledger_id}/invitations/{code}": case_ledgers("delete", "/invitations/{code}"),
    "POST /invitations/{code}/accept": case_invitation_accept,
}


@pytest.mark.parametrize("endpoint", sorted(api_routes()))
def test_isolation(world, endpoint):
    case = CASES.get(endpoint)
    assert case is not None, (
        f"{endpoint} has no isolation case: add one to CASES in {__name__} "
        "(or, if it holds no user data, a reason to NOT_USER_DATA)"
    )
    world.alice_before = _snapshot(world.alice)

    case(world)

    assert world.answers, "the case must call the endpoint as Bob"
    leaks = [
        (method, path, secret)
        for method, path, _, body in world.answers
        for secret in world.secrets()
        if secret.encode() in body
    ]
    assert not leaks, f"Alice's data in answers to Bob: {leaks}"
    assert _snapshot(world.alice) == world.alice_before, "Alice's data changed"


def test_every_case_is_a_real_route():
    """No stale entries: each case names a route the URL conf still serves."""
    assert set(CASES) <= set(api_routes())
