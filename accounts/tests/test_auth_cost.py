"""What token authentication costs a normal request: no network, no database write."""

from unittest import mock

import pytest

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
    with mock.patch("jwt.PyJWKClient.fetch_data", side_effect=AssertionError("network")), \
            mock.patch("urllib.request.urlopen", side_effect=AssertionError("network")):
        response = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
