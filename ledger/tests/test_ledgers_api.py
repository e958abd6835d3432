"""/ledgers, members, invitations and acceptance: the rules of docs/ledgers.md."""

import datetime
import threading
import uuid

import pytest
import time_machine
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ledger.models import Invitation, Ledger, LedgerRole, Membership
from ledger.services.invitations import code_digest, invitation_accept, invitation_create
from ledger.services.ledger_errors import LedgerRuleError
from ledger.services.ledgers import personal_ledger
from ledger.services.memberships import member_role_set
from ledger.services.shared_ledgers import ledger_create

pytestmark = pytest.mark.django_db


def _code(response, status, code=None):
    assert response.status_code == status, response.content[:400]
    if code is not None:
        assert response.json()["error"]["code"] == code, response.json()


@pytest.fixture
def owner():
    return UserFactory(email="owner@example.com")


@pytest.fixture
def shared(owner):
    return ledger_create(user=owner, name="우리집")


def _member(ledger, user, role):
    Membership.objects.create(ledger=ledger, user=user, role=role)
    return user


def test_list_includes_personal_and_shared(
    auth_client, owner, shared, django_assert_max_num_queries
):
    client = auth_client(owner)
    other = UserFactory()
    _member(shared, other, LedgerRole.VIEWER)
    ledger_create(user=other, name="남의 가계부")
    body = client.get("/ledgers").json()
    assert [
        (row["name"], row["is_personal"], row["role"], row["member_count"]) for row in body
    ] == [
        ("내 가계부", True, "owner", 1),
        ("우리집", False, "owner", 2),
    ]
    assert set(body[1]) == {"id", "name", "role", "member_count", "is_personal", "created_at"}
    # the list itself is one query (plus authentication and the personal ledger's lookup)
    with django_assert_max_num_queries(4):
        assert client.get("/ledgers").status_code == 200


def test_create_rename_delete(auth_client, owner):
    client = auth_client(owner)
    response = client.post("/ledgers", {"name": "  가족  "}, format="json")
    _code(response, 201)
    ledger_id = response.json()["id"]
    assert response.json()["role"] == "owner" and response.json()["member_count"] == 1
    assert client.get(f"/ledgers/{ledger_id}").json()["name"] == "가족"
    _code(client.patch(f"/ledgers/{ledger_id}", {"name": ""}, format="json"), 400)
    renamed = client.patch(f"/ledgers/{ledger_id}", {"name": "새 이름"}, format="json")
    assert renamed.json()["name"] == "새 이름"
    _code(client.delete(f"/ledgers/{ledger_id}"), 204)
    assert not Ledger.objects.filter(pk=ledger_id).exists()


def test_personal_ledger_cannot_be_deleted_or_shared(auth_client, owner):
    client = auth_client(owner)
    personal = personal_ledger(user=owner)
    _code(client.delete(f"/ledgers/{personal.pk}"), 400, "personal_ledger")
    _code(
        client.post(f"/ledgers/{personal.pk}/invitations", {"role": "viewer"}, format="json"),
        400,
        "personal_ledger",
    )
    assert Ledger.objects.filter(pk=personal.pk).exists()


@pytest.mark.parametrize("role", [LedgerRole.EDITOR, LedgerRole.VIEWER])
def test_non_owner_writes_are_403(auth_client, shared, role):
    member = _member(shared, UserFactory(), role)
    client = auth_client(member)
    base = f"/ledgers/{shared.pk}"
    assert client.get(base).json()["role"] == role
    assert client.get(f"{base}/members").status_code == 200
    _code(client.patch(base, {"name": "x"}, format="json"), 403, "permission_denied")
    _code(client.delete(base), 403)
    _code(client.post(f"{base}/invitations", {"role": "viewer"}, format="json"), 403)
    _code(client.get(f"{base}/invitations"), 403)
    owner_id = Membership.objects.get(ledger=shared, role="owner").user_id
    _code(client.patch(f"{base}/members/{owner_id}", {"role": "viewer"}, format="json"), 403)
    _code(client.delete(f"{base}/members/{owner_id}"), 403)
    assert Ledger.objects.get(pk=shared.pk).name == "우리집"


def test_outsider_gets_404_everywhere(auth_client, owner, shared):
    client = auth_client(UserFactory())
    invitation = invitation_create(ledger=shared, created_by=owner, role="viewer")
    base = f"/ledgers/{shared.pk}"
    for method, path, body in [
        ("get", base, None),
        ("patch", base, {"name": "x"}),
        ("delete", base, None),
        ("get", f"{base}/members", None),
        ("patch", f"{base}/members/{owner.pk}", {"role": "viewer"}),
        ("delete", f"{base}/members/{owner.pk}", None),
        ("get", f"{base}/invitations", None),
        ("post", f"{base}/invitations", {"role": "owner"}),
        ("delete", f"{base}/invitations/{invitation.code}", None),
        ("get", f"/ledgers/{uuid.uuid4()}", None),
    ]:
        response = getattr(client, method)(path, body, format="json")
        _code(response, 404, "ledger_not_found")
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None


def test_members_roles_and_last_owner(auth_client, owner, shared):
    editor = _member(shared, UserFactory(email="e@example.com"), LedgerRole.EDITOR)
    client = auth_client(owner)
    base = f"/ledgers/{shared.pk}"
    rows = client.get(f"{base}/members").json()
    assert [(r["user_id"], r["email"], r["role"]) for r in rows] == [
        (str(owner.pk), "owner@example.com", "owner"),
        (str(editor.pk), "e@example.com", "editor"),
    ]
    assert set(rows[0]) == {"user_id", "email", "role", "joined_at"}
    # the last owner can neither be demoted nor leave
    _code(
        client.patch(f"{base}/members/{owner.pk}", {"role": "editor"}, format="json"),
        409,
        "last_owner",
    )
    _code(client.delete(f"{base}/members/{owner.pk}"), 409, "last_owner")
    _code(client.patch(f"{base}/members/{editor.pk}", {"role": "boss"}, format="json"), 400)
    _code(client.patch(f"{base}/members/{uuid.uuid4()}", {"role": "viewer"}, format="json"), 404)
    # with a second owner, the first may step down
    promoted = client.patch(f"{base}/members/{editor.pk}", {"role": "owner"}, format="json")
    assert promoted.json()["role"] == "owner"
    _code(client.patch(f"{base}/members/{owner.pk}", {"role": "viewer"}, format="json"), 200)
    assert Membership.objects.get(ledger=shared, user=owner).role == "viewer"


def test_member_leaves_and_owner_removes(auth_client, owner, shared):
    viewer = _member(shared, UserFactory(), LedgerRole.VIEWER)
    editor = _member(shared, UserFactory(), LedgerRole.EDITOR)
    base = f"/ledgers/{shared.pk}"
    _code(auth_client(viewer).delete(f"{base}/members/{viewer.pk}"), 204)
    _code(auth_client(viewer).get(base), 404)  # access lost at once
    _code(auth_client(owner).delete(f"{base}/members/{editor.pk}"), 204)
    assert list(Membership.objects.filter(ledger=shared).values_list("user_id", flat=True)) == [
        owner.pk
    ]


def test_invitation_lifecycle(auth_client, owner, shared):
    client = auth_client(owner)
    base = f"/ledgers/{shared.pk}"
    response = client.post(f"{base}/invitations", {"role": "editor"}, format="json")
    _code(response, 201)
    body = response.json()
    assert set(body) == {"code", "role", "email", "expires_at", "created_at"}
    assert len(body["code"]) >= 43 and body["role"] == "editor" and body["email"] == ""
    invitation = Invitation.objects.get(code_digest=code_digest(body["code"]))
    lifetime = invitation.expires_at - invitation.created_at
    assert abs(lifetime - datetime.timedelta(days=7)) < datetime.timedelta(seconds=1)
    assert [row["code"] for row in client.get(f"{base}/invitations").json()] == [body["code"]]

    guest = UserFactory()
    accepted = auth_client(guest).post(f"/invitations/{body['code']}/accept")
    _code(accepted, 200)
    assert accepted.json()["id"] == str(shared.pk) and accepted.json()["role"] == "editor"
    assert accepted.json() == auth_client(guest).get(base).json()
    assert client.get(f"{base}/invitations").json() == []  # pending only
    # single use
    _code(
        auth_client(UserFactory()).post(f"/invitations/{body['code']}/accept"),
        410,
        "invitation_used",
    )
    _code(client.delete(f"{base}/invitations/{body['code']}"), 404)


def test_revoked_invitation(auth_client, owner, shared):
    invitation = invitation_create(ledger=shared, created_by=owner, role="viewer")
    _code(auth_client(owner).delete(f"/ledgers/{shared.pk}/invitations/{invitation.code}"), 204)
    _code(
        auth_client(UserFactory()).post(f"/invitations/{invitation.code}/accept"),
        410,
        "invitation_revoked",
    )
    _code(auth_client(owner).delete(f"/ledgers/{shared.pk}/invitations/{invitation.code}"), 404)


def test_expired_invitation(auth_client, owner, shared, settings):
    settings.INVITATION_DAYS = 2
    invitation = invitation_create(ledger=shared, created_by=owner, role="viewer")
    guest = UserFactory()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2, seconds=1)):
        _code(
            auth_client(guest).post(f"/invitations/{invitation.code}/accept"),
            410,
            "invitation_expired",
        )
        assert auth_client(owner).get(f"/ledgers/{shared.pk}/invitations").json() == []
    assert not Membership.objects.filter(ledger=shared, user=guest).exists()


def test_email_bound_invitation(auth_client, owner, shared):
    invitation = invitation_create(
        ledger=shared, created_by=owner, role="owner", email="Kim@Example.com"
    )
    wrong = UserFactory(email="lee@example.com")
    _code(
        auth_client(wrong).post(f"/invitations/{invitation.code}/accept"),
        403,
        "invitation_email_mismatch",
    )
    right = UserFactory(email="kim@example.COM")
    _code(auth_client(right).post(f"/invitations/{invitation.code}/accept"), 200)
    assert Membership.objects.get(ledger=shared, user=right).role == "owner"


def test_already_member_and_unknown_code(auth_client, owner, shared):
    invitation = invitation_create(ledger=shared, created_by=owner, role="viewer")
    _code(auth_client(owner).post(f"/invitations/{invitation.code}/accept"), 409, "already_member")
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is None
    _code(auth_client(owner).post("/invitations/not-a-code/accept"), 404, "not_found")


def test_invitation_to_a_ledger_awaiting_purge(auth_client, owner, shared):
    invitation = invitation_create(ledger=shared, created_by=owner, role="viewer")
    Ledger.objects.filter(pk=shared.pk).update(deleted_at=timezone.now())
    _code(auth_client(UserFactory()).post(f"/invitations/{invitation.code}/accept"), 404)
    assert Membership.objects.filter(ledger=shared).count() == 1


def test_invitation_input_is_validated(auth_client, owner, shared):
    client = auth_client(owner)
    response = client.post(f"/ledgers/{shared.pk}/invitations", {"role": "admin"}, format="json")
    _code(response, 400, "validation_error")
    assert "role" in response.json()["error"]["fields"]
    response = client.post(
        f"/ledgers/{shared.pk}/invitations", {"role": "viewer", "email": "nope"}, format="json"
    )
    assert "email" in response.json()["error"]["fields"]
    assert not Invitation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_acceptance_makes_one_member(owner):
    shared = ledger_create(user=owner, name="동시")
    invitation = invitation_create(ledger=shared, created_by=owner, role="editor")
    guests = [UserFactory(), UserFactory()]
    barrier = threading.Barrier(2)
    outcomes = []

    def accept(user):
        try:
            barrier.wait()
            invitation_accept(user=user, code=invitation.code)
            outcomes.append("accepted")
        except LedgerRuleError as error:
            outcomes.append(error.code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=accept, args=(guest,)) for guest in guests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted", "invitation_used"]
    assert Membership.objects.filter(ledger=shared).exclude(user=owner).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_owners_stepping_down_keep_one_owner(owner):
    shared = ledger_create(user=owner, name="둘")
    second = _member(shared, UserFactory(), LedgerRole.OWNER)
    barrier = threading.Barrier(2)
    outcomes = []

    def step_down(user):
        try:
            barrier.wait()
            member_role_set(ledger=shared, user_id=user.pk, role=LedgerRole.EDITOR)
            outcomes.append("demoted")
        except LedgerRuleError as error:
            outcomes.append(error.code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=step_down, args=(user,)) for user in (owner, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["demoted", "last_owner"]
    assert Membership.objects.filter(ledger=shared, role=LedgerRole.OWNER).count() == 1


def test_the_ledger_check_costs_one_indexed_query_at_most(auth_client, owner, shared):
    # The floor (/auth/me) reads the user; a top-level path's personal ledger comes with that
    # same query, a shared ledger with the caller's membership costs one more.
    client = auth_client(owner)
    client.get("/auth/me")  # first sight: the user and the personal ledger are created
    # a write to each, so `since` names a revision with nothing after it
    for prefix in ("", f"/ledgers/{shared.pk}"):
        created = client.post(f"{prefix}/categories", {"name": "간식"}, format="json")
        assert created.status_code == 201, created.content
    shared.refresh_from_db()

    def queries(path):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    floor = queries("/auth/me")
    personal = personal_ledger(user=owner).revision
    top_level = queries(f"/sync?since={personal}")
    nested = queries(f"/ledgers/{shared.pk}/sync?since={shared.revision}")

    assert len(top_level) == len(floor)
    assert len(nested) == len(floor) + 1
    membership = [sql for sql in nested if '"ledger_membership"' in sql]
    assert len(membership) == 1 and '"ledger_ledger"' in membership[0]
