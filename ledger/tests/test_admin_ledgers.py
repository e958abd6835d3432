"""Ledgers in the admin: members and invitations visible to support, searchable by member
email; the revoke action goes through the service; nothing else is changed there."""

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from ledger.models import Invitation, LedgerRole, Membership
from ledger.services.invitations import invitation_accept, invitation_create
from ledger.services.shared_ledgers import ledger_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def household():
    owner = UserFactory(email="mom@family.example")
    ledger = ledger_create(user=owner, name="우리집 가계부")
    Membership.objects.create(
        ledger=ledger, user=UserFactory(email="kid@family.example"), role=LedgerRole.VIEWER
    )
    ledger_create(user=UserFactory(email="stranger@else.example"), name="남의 가계부")
    return ledger


def test_changelist_searches_by_member_email(staff_client, household):
    url = reverse("admin:ledger_ledger_changelist")
    response = staff_client.get(url, {"q": "kid@family"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "우리집 가계부" in body and "남의 가계부" not in body


def test_change_page_shows_members_and_invitations(staff_client, household):
    owner = Membership.objects.get(ledger=household, role="owner").user
    invitation_create(ledger=household, created_by=owner, role="editor", email="dad@family.example")
    response = staff_client.get(reverse("admin:ledger_ledger_change", args=[household.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("mom@family.example", "kid@family.example", "dad@family.example", "pending"):
        assert text in body
    assert Invitation.objects.get().code not in body  # codes are never shown


def test_revoke_action_revokes_pending_only(staff_client, household):
    owner = Membership.objects.get(ledger=household, role="owner").user
    pending = invitation_create(ledger=household, created_by=owner, role="viewer")
    used = invitation_create(ledger=household, created_by=owner, role="viewer")
    invitation_accept(user=UserFactory(), code=used.code)
    response = staff_client.post(
        reverse("admin:ledger_invitation_changelist"),
        {"action": "revoke", "_selected_action": [str(pending.pk), str(used.pk)]},
        follow=True,
    )
    assert "1 invitation(s) revoked." in response.content.decode()
    pending.refresh_from_db()
    used.refresh_from_db()
    assert pending.revoked_at is not None and used.revoked_at is None


def test_ledgers_cannot_be_changed_in_the_admin(staff_client, household):
    url = reverse("admin:ledger_ledger_change", args=[household.pk])
    staff_client.post(url, {"name": "바뀜"})
    household.refresh_from_db()
    assert household.name == "우리집 가계부"
    response = staff_client.get(reverse("admin:ledger_ledger_delete", args=[household.pk]))
    assert response.status_code == 403
