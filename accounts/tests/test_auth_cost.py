"""What token authentication costs a normal request: no network, no database write."""

import time
from unittest import mock

import jwt
import pytest
import time_machine
from django.db import connection

from accounts.models import User
from accounts.services import users
from accounts.tests.tokens import mint_token

pytestmark = pytest.mark.django_db


def test_within_the_minute_a_request_does_not_even_ask_the_shared_cache(api_client, user):
    token = mint_token(sub=user.clerk_user_id)
    with mock.patch.object(users, "cache_add", wraps=users.cache_add) as cache_add:
        for _ in range(3):
            response = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
            assert response.status_code == 200
    assert cache_add.call_count == 1


def test_a_pem_key_needs_no_network(api_client, user):
    token = mint_token(sub=user.clerk_user_id)
    with (
        mock.patch("jwt.PyJWKClient.fetch_data", side_effect=AssertionError("network")),
        mock.patch("urllib.request.urlopen", side_effect=AssertionError("network")),
    ):
        response = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200


def test_a_token_signature_is_checked_once_per_process(api_client, user):
    token = mint_token(sub=user.clerk_user_id)
    with mock.patch("jwt.decode", wraps=jwt.decode) as decode:
        for _ in range(3):
            response = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
            assert response.status_code == 200
        assert decode.call_count == 1
        # another token is verified on its own
        other = mint_token(sub=user.clerk_user_id, claims={"sid": "sess_other"})
        assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 200
        assert decode.call_count == 2


def test_a_remembered_token_is_still_refused_once_it_expires(api_client, user, settings):
    settings.CLERK_CLOCK_SKEW_SECONDS = 5
    token = mint_token(sub=user.clerk_user_id, lifetime=60)
    assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    with time_machine.travel(time.time() + 66, tick=False):
        response = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


def test_a_remembered_token_of_a_deactivated_user_is_refused_at_once(api_client, user):
    token = mint_token(sub=user.clerk_user_id)
    assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    users.user_deactivate_from_clerk(clerk_user_id=user.clerk_user_id)
    response = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "user_deactivated"


def test_changed_clerk_settings_forget_remembered_tokens(api_client, user, settings):
    token = mint_token(sub=user.clerk_user_id)
    assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    settings.CLERK_AUTHORIZED_PARTIES = ["https://another-app.example"]
    response = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid_authorized_parties"


def test_the_per_request_user_lookup_is_one_query_on_the_clerk_id_index(
    user, django_assert_num_queries
):
    with django_assert_num_queries(1) as captured:
        found = users.user_get_or_create_for_session(clerk_user_id=user.clerk_user_id)
    assert found == user
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # can the index serve it at all?
        cursor.execute("EXPLAIN " + captured.captured_queries[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "user_clerk_user_id_unique" in plan, plan


def test_an_unknown_clerk_id_is_created_once(user):
    created = users.user_get_or_create_for_session(clerk_user_id="user_first_sight")
    again = users.user_get_or_create_for_session(clerk_user_id="user_first_sight")
    assert created.pk == again.pk and created.username == "user_first_sight"
    assert User.objects.filter(clerk_user_id="user_first_sight").count() == 1
