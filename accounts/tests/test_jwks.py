"""Keys fetched from a JWKS URL: fetch once, share through the cache, rotation, outages."""

import hashlib

import pytest
from django.core.cache import cache

from accounts.tests.keys import SESSION_KEYS, generate_key_pair
from accounts.tests.tokens import mint_token

pytestmark = pytest.mark.django_db

ME = "/auth/me"


def get_me(client, token):
    return client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")


def jwks_cache_key(url):
    return f"clerk:jwks:{hashlib.sha256(url.encode()).hexdigest()[:16]}"


def redis_ttl(key):
    client = cache._cache.get_client(key)
    return client.ttl(cache.make_and_validate_key(key))


def test_jwks_is_fetched_once_for_many_requests(api_client, user, jwks_server):
    jwks_server.keys = [SESSION_KEYS]

    statuses = [
        get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code for _ in range(20)
    ]

    assert statuses == [200] * 20
    assert jwks_server.count == 1
    assert jwks_server.requests[0] == ("/.well-known/jwks.json", None)


def test_key_set_is_shared_through_redis_for_five_minutes(api_client, user, jwks_server):
    jwks_server.keys = [SESSION_KEYS]
    assert get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code == 200

    key = jwks_cache_key(jwks_server.url)
    assert cache.get(key)["keys"][0]["kid"] == SESSION_KEYS.kid
    assert 290 <= redis_ttl(key) <= 300


def test_expired_cache_entry_is_fetched_again(api_client, user, jwks_server):
    jwks_server.keys = [SESSION_KEYS]
    assert get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code == 200

    cache.delete(jwks_cache_key(jwks_server.url))  # as after five minutes
    # a new token (a verified one is remembered by the process and needs no key)
    new_token = mint_token(sub=user.clerk_user_id, claims={"sid": "sess_next"})
    assert get_me(api_client, new_token).status_code == 200

    assert jwks_server.count == 2


def test_unknown_kid_refetches_once_then_refuses(api_client, user, jwks_server):
    jwks_server.keys = [SESSION_KEYS]
    assert get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code == 200
    assert jwks_server.count == 1

    first = get_me(api_client, mint_token(sub=user.clerk_user_id, kid="ins_unknown_1"))
    assert first.status_code == 401
    assert first.json()["error"]["code"] == "jwk_kid_mismatch"
    assert first["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert jwks_server.count == 2  # one refetch

    # a flood of random kids does not become a flood of fetches
    for n in range(10):
        response = get_me(api_client, mint_token(sub=user.clerk_user_id, kid=f"ins_random_{n}"))
        assert response.json()["error"]["code"] == "jwk_kid_mismatch"
    assert jwks_server.count == 2


def test_rotated_key_is_accepted_after_the_jwks_changes(api_client, user, jwks_server):
    new_keys = generate_key_pair("ins_rotated_key")
    jwks_server.keys = [SESSION_KEYS]
    assert get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code == 200

    jwks_server.keys = [SESSION_KEYS, new_keys]  # Clerk rotates: the new key is published
    response = get_me(api_client, mint_token(sub=user.clerk_user_id, keys=new_keys))

    assert response.status_code == 200
    assert response.json()["id"] == str(user.id)
    assert jwks_server.count == 2
    # both keys are now cached: neither needs another fetch
    assert get_me(api_client, mint_token(sub=user.clerk_user_id, keys=new_keys)).status_code == 200
    assert get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code == 200
    assert jwks_server.count == 2


def test_token_without_kid_is_refused_with_a_jwks(api_client, user, jwks_server):
    jwks_server.keys = [SESSION_KEYS]
    response = get_me(api_client, mint_token(sub=user.clerk_user_id, kid=None))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_signature_is_still_checked_against_the_fetched_key(api_client, user, jwks_server):
    jwks_server.keys = [SESSION_KEYS]
    impostor = generate_key_pair(SESSION_KEYS.kid)
    response = get_me(api_client, mint_token(sub=user.clerk_user_id, keys=impostor))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid_signature"


def test_jwks_down_with_nothing_cached_answers_503(api_client, user, jwks_server):
    jwks_server.stop()

    response = get_me(api_client, mint_token(sub=user.clerk_user_id))

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "jwk_remote_failed_to_load"
    assert "CLERK_JWKS_URL" in error["message"]


def test_jwks_error_status_with_nothing_cached_answers_503(api_client, user, jwks_server):
    jwks_server.status = 500
    response = get_me(api_client, mint_token(sub=user.clerk_user_id))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "jwk_remote_failed_to_load"


def test_empty_key_set_answers_503(api_client, user, jwks_server):
    jwks_server.keys = []
    response = get_me(api_client, mint_token(sub=user.clerk_user_id))
    assert response.status_code == 503
    assert cache.get(jwks_cache_key(jwks_server.url)) is None  # nothing bad is cached


def test_outage_backs_off_instead_of_refetching_every_request(api_client, user, jwks_server):
    jwks_server.status = 500
    for _ in range(5):
        assert get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code == 503
    assert jwks_server.count == 1


def test_cached_keys_keep_working_while_the_jwks_is_down(api_client, user, jwks_server):
    jwks_server.keys = [SESSION_KEYS]
    assert get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code == 200
    jwks_server.stop()

    assert get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code == 200
    unknown = get_me(api_client, mint_token(sub=user.clerk_user_id, kid="ins_unknown"))
    assert unknown.status_code == 401
    assert unknown.json()["error"]["code"] == "jwk_kid_mismatch"


def test_secret_key_fetches_the_backend_api_jwks_with_it(api_client, user, jwks_server, settings):
    settings.CLERK_JWKS_URL = ""
    settings.CLERK_SECRET_KEY = "sk_test_0123456789abcdef"
    settings.CLERK_API_URL = jwks_server.base_url
    jwks_server.keys = [SESSION_KEYS]

    assert get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code == 200
    assert get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code == 200

    assert jwks_server.requests == [("/v1/jwks", "Bearer sk_test_0123456789abcdef")]


def test_configured_pem_takes_precedence_over_urls(api_client, user, jwks_server, settings):
    settings.CLERK_JWT_KEY = SESSION_KEYS.public_pem
    assert get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code == 200
    assert jwks_server.count == 0  # networkless
