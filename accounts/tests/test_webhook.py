"""`POST /auth/webhook`: Clerk's Svix-signed user events, applied once each."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from svix.webhooks import Webhook

from accounts.models import User, WebhookEvent
from accounts.tests.factories import UserFactory
from accounts.tests.tokens import mint_token
from accounts.tests.webhooks import URL, deleted_payload, deliver, user_payload
from ledger.models import LedgerRole, Membership, Transaction
from ledger.tests.factories import TransactionFactory, shared_ledger_with

pytestmark = pytest.mark.django_db


def assert_refused(response):
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "webhook_signature_invalid"
    assert not WebhookEvent.objects.exists()


# --- valid events -----------------------------------------------------------------------------


def test_user_created_creates_the_user_with_the_primary_email(api_client):
    response = deliver(api_client, user_payload())

    assert response.status_code == 200
    assert response.json() == {"status": "created"}
    user = User.objects.get(clerk_user_id="user_2hook")
    assert user.email == "first@example.com"
    assert (user.first_name, user.last_name) == ("지민", "김")
    assert user.username == "user_2hook"
    assert user.is_active
    assert user.clerk_updated_at == datetime.fromtimestamp(1_722_000_000, tz=UTC)


def test_user_created_for_a_user_first_seen_through_a_token_fills_them_in(api_client):
    assert (
        api_client.get(
            "/auth/me", HTTP_AUTHORIZATION=f"Bearer {mint_token(sub='user_2hook')}"
        ).status_code
        == 200
    )

    assert deliver(api_client, user_payload()).json() == {"status": "updated"}

    assert User.objects.get(clerk_user_id="user_2hook").email == "first@example.com"
    assert User.objects.count() == 1


def test_user_updated_changes_the_email(api_client):
    deliver(api_client, user_payload())

    response = deliver(
        api_client,
        user_payload(
            event_type="user.updated", email="new@example.com", updated_at=1_722_000_500_000
        ),
    )

    assert response.status_code == 200
    assert response.json() == {"status": "updated"}
    assert User.objects.get(clerk_user_id="user_2hook").email == "new@example.com"


def test_user_updated_before_created_upserts(api_client):
    response = deliver(api_client, user_payload(event_type="user.updated"))
    assert response.json() == {"status": "created"}
    assert User.objects.get(clerk_user_id="user_2hook").email == "first@example.com"


def test_user_deleted_deactivates_at_once(api_client):
    deliver(api_client, user_payload())
    token = mint_token(sub="user_2hook")
    assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    response = deliver(api_client, deleted_payload())

    assert response.status_code == 200
    assert response.json() == {"status": "deactivated"}
    user = User.objects.get(clerk_user_id="user_2hook")
    assert not user.is_active
    assert user.deleted_at is not None
    # the still-valid token is refused from now on
    refused = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "user_deactivated"


def test_user_deleted_for_an_unknown_user_leaves_a_tombstone(api_client):
    deliver(api_client, deleted_payload("user_2never"))
    # a late created event (a retry) does not bring them back
    deliver(api_client, user_payload("user_2never", updated_at=1_722_000_900_000))

    user = User.objects.get(clerk_user_id="user_2never")
    assert not user.is_active and user.deleted_at is not None


def test_late_update_does_not_reactivate_a_deleted_user(api_client):
    deliver(api_client, user_payload())
    deliver(api_client, deleted_payload())

    response = deliver(
        api_client,
        user_payload(
            event_type="user.updated", email="zombie@example.com", updated_at=1_722_009_000_000
        ),
    )

    assert response.json() == {"status": "ignored_deleted"}
    user = User.objects.get(clerk_user_id="user_2hook")
    assert not user.is_active
    assert user.email == "first@example.com"


def test_unknown_event_type_is_acknowledged_and_ignored(api_client):
    payload = {"type": "session.created", "object": "event", "data": {"id": "sess_1"}}

    response = deliver(api_client, payload)

    assert response.status_code == 200
    assert response.json() == {"status": "ignored_type"}
    assert not User.objects.exists()


def test_webhook_needs_no_token_and_no_csrf_token():
    client = APIClient(enforce_csrf_checks=True)
    assert deliver(client, user_payload()).status_code == 200


def test_webhook_ignores_a_bad_bearer_token(api_client):
    response = deliver(api_client, user_payload(), headers={"HTTP_AUTHORIZATION": "Bearer junk"})
    assert response.status_code == 200


# --- idempotency and ordering -----------------------------------------------------------------


def test_replayed_svix_id_is_processed_once(api_client):
    first = deliver(api_client, user_payload(), msg_id="msg_replayed")
    User.objects.filter(clerk_user_id="user_2hook").update(email="changed@example.com")

    again = deliver(api_client, user_payload(), msg_id="msg_replayed")

    assert first.json() == {"status": "created"}
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert User.objects.get(clerk_user_id="user_2hook").email == "changed@example.com"
    assert WebhookEvent.objects.filter(svix_id="msg_replayed").count() == 1


def test_older_update_arriving_late_does_not_overwrite_newer_data(api_client):
    deliver(
        api_client,
        user_payload(
            event_type="user.updated", email="newer@example.com", updated_at=1_722_000_900_000
        ),
    )

    response = deliver(
        api_client,
        user_payload(
            event_type="user.updated", email="older@example.com", updated_at=1_722_000_100_000
        ),
    )

    assert response.status_code == 200
    assert response.json() == {"status": "ignored_stale"}
    user = User.objects.get(clerk_user_id="user_2hook")
    assert user.email == "newer@example.com"
    assert user.clerk_updated_at == datetime.fromtimestamp(1_722_000_900, tz=UTC)


# --- refused deliveries: nothing changes -------------------------------------------------------


def test_bad_signature_is_refused(api_client):
    assert_refused(deliver(api_client, user_payload(), secret="whsec_" + "b3RoZXItc2VjcmV0"))
    assert not User.objects.exists()


def test_body_changed_after_signing_is_refused(api_client):
    body = json.dumps(user_payload())
    signed = Webhook(settings.CLERK_WEBHOOK_SIGNING_SECRET).sign(
        "msg_tamper", datetime.now(tz=UTC), body
    )
    tampered = body.replace("first@example.com", "evil@example.com")
    assert_refused(deliver(api_client, None, body=tampered, msg_id="msg_tamper", signature=signed))
    assert not User.objects.exists()


def test_stale_timestamp_is_refused(api_client):
    stale = datetime.now(tz=UTC) - timedelta(minutes=6)
    assert_refused(deliver(api_client, user_payload(), timestamp=stale))
    assert not User.objects.exists()


def test_timestamp_far_in_the_future_is_refused(api_client):
    ahead = datetime.now(tz=UTC) + timedelta(minutes=6)
    assert_refused(deliver(api_client, user_payload(), timestamp=ahead))


@pytest.mark.parametrize("missing", ["HTTP_SVIX_ID", "HTTP_SVIX_TIMESTAMP", "HTTP_SVIX_SIGNATURE"])
def test_missing_signature_header_is_refused(api_client, missing):
    assert_refused(deliver(api_client, user_payload(), headers={missing: None}))


@pytest.mark.parametrize(
    "signature",
    ["garbage", "v1,%%%not-base64%%%", "v1", "v1,a,b", ",", "v1,abc=="],
)
def test_malformed_signature_header_is_refused(api_client, signature):
    assert_refused(deliver(api_client, user_payload(), signature=signature))
    assert not User.objects.exists()


def test_non_numeric_timestamp_is_refused(api_client):
    assert_refused(deliver(api_client, user_payload(), headers={"HTTP_SVIX_TIMESTAMP": "soon"}))


def test_signed_body_that_is_not_json_is_a_validation_error(api_client):
    response = deliver(api_client, None, body="not json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert not WebhookEvent.objects.exists()


def test_signed_user_event_without_id_is_a_validation_error(api_client):
    payload = user_payload()
    del payload["data"]["id"]
    response = deliver(api_client, payload)
    assert response.status_code == 400
    assert not User.objects.exists()


def test_signed_update_with_a_nul_in_the_email_is_a_validation_error(api_client):
    UserFactory(clerk_user_id="user_2hook", email="kept@example.com")
    payload = user_payload(event_type="user.updated", email="evil\x00@example.com")
    response = deliver(api_client, payload)
    assert response.status_code == 400  # not a 503: Svix would retry it for days
    assert response.json()["error"]["fields"] == {
        "body": ["The event contains a NUL (\\u0000) character."]
    }
    assert User.objects.get(clerk_user_id="user_2hook").email == "kept@example.com"
    assert not WebhookEvent.objects.exists()


def test_signed_body_nested_too_deeply_is_a_validation_error(api_client):
    depth = 100_000
    body = '{"type": "user.updated", "data": ' + "[" * depth + "]" * depth + "}"
    response = deliver(api_client, None, body=body)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"body": ["The body is nested too deeply."]}
    assert not WebhookEvent.objects.exists()


def test_webhook_without_a_configured_secret_answers_503(api_client, settings):
    secret = settings.CLERK_WEBHOOK_SIGNING_SECRET
    settings.CLERK_WEBHOOK_SIGNING_SECRET = ""
    response = deliver(api_client, user_payload(), secret=secret)
    assert response.status_code == 503
    assert "CLERK_WEBHOOK_SIGNING_SECRET" in response.json()["error"]["message"]


def test_get_is_not_allowed(api_client):
    assert api_client.get(URL).status_code == 405


def test_existing_staff_user_is_untouched_by_a_clerk_user_with_the_same_email(api_client):
    staff = UserFactory(clerk_user_id="", username="support", email="first@example.com")
    deliver(api_client, user_payload())
    staff.refresh_from_db()
    assert staff.clerk_user_id == ""
    assert User.objects.filter(email="first@example.com").count() == 2


def test_user_deleted_leaves_shared_ledgers_and_hands_ownership_on(api_client):
    deliver(api_client, user_payload())
    leaving = User.objects.get(clerk_user_id="user_2hook")
    viewer, early_editor, late_editor = UserFactory(), UserFactory(), UserFactory()
    family = shared_ledger_with(owner=leaving, members={viewer: LedgerRole.VIEWER})
    Membership.objects.create(ledger=family, user=early_editor, role=LedgerRole.EDITOR)
    Membership.objects.create(ledger=family, user=late_editor, role=LedgerRole.EDITOR)
    lunch = TransactionFactory(ledger=family, created_by=leaving)
    # a ledger with no editor to take over: orphaned (purged later), gone for its viewer at once
    alone = shared_ledger_with(owner=leaving, members={viewer: LedgerRole.VIEWER})

    response = deliver(api_client, deleted_payload())

    assert response.status_code == 200
    roles = dict(Membership.objects.filter(ledger=family).values_list("user_id", "role"))
    assert roles == {
        viewer.pk: LedgerRole.VIEWER,
        early_editor.pk: LedgerRole.OWNER,  # the longest-standing editor
        late_editor.pk: LedgerRole.EDITOR,
    }
    assert Transaction.objects.filter(pk=lunch.pk, ledger=family).exists()  # their rows stay
    alone.refresh_from_db()
    assert alone.deleted_at is not None
    assert not Membership.objects.filter(user=leaving).exclude(ledger__personal_for=leaving)
