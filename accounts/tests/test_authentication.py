"""Clerk session tokens through the real API (`/auth/me`), verified with a configured PEM key."""

import base64
import hashlib
import hmac
import json
import time

import jsonschema
import jwt
import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.keys import SESSION_KEYS, generate_key_pair
from accounts.tests.tokens import mint_token

pytestmark = pytest.mark.django_db

ME = "/auth/me"


def get_me(client, token):
    return client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")


def assert_rejected(response, code):
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert set(body) == {"error"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_made(header: dict, payload: dict, sign) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{sign(signing_input.encode())}"


def _claims(sub="user_handmade"):
    now = int(time.time())
    return {"sub": sub, "iat": now, "nbf": now, "exp": now + 60, "azp": "http://localhost:5173"}


# --- accepted -------------------------------------------------------------------------------


def test_valid_token_maps_to_the_user_of_its_sub(api_client, user, other_user):
    response = get_me(api_client, mint_token(sub=user.clerk_user_id))

    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.id),
        "clerk_user_id": user.clerk_user_id,
        "email": user.email,
        "created_at": response.json()["created_at"],
        "time_zone": "Asia/Seoul",
    }
    assert response.json()["created_at"].startswith(str(user.created_at.year))


def test_auth_client_fixture_uses_real_tokens(auth_client, user):
    client = auth_client(user)
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["id"] == str(user.id)
    # an explicit bad credential still wins over the minted one: no bypass
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert_rejected(client.get(ME), "token_invalid")


def test_first_sight_creates_the_user_once(api_client):
    token = mint_token(sub="user_2newcomer")

    first = get_me(api_client, token)
    second = get_me(api_client, token)

    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    user = User.objects.get(clerk_user_id="user_2newcomer")
    assert user.username == "user_2newcomer"
    assert user.is_active and user.deleted_at is None
    assert user.last_seen is not None
    assert User.objects.filter(clerk_user_id="user_2newcomer").count() == 1


@pytest.mark.parametrize("algorithm", ["RS256", "RS384", "RS512"])
def test_rsa_algorithms_are_accepted(api_client, user, algorithm):
    response = get_me(api_client, mint_token(sub=user.clerk_user_id, algorithm=algorithm))
    assert response.status_code == 200


def test_unknown_claims_and_header_fields_are_ignored(api_client, user):
    token = mint_token(
        sub=user.clerk_user_id,
        claims={"org_id": "org_1", "fea": "u:x", "custom": {"nested": [1, 2]}},
        headers={"x-extra": "whatever"},
    )
    assert get_me(api_client, token).status_code == 200


def test_token_without_typ_and_cat_headers_is_accepted(api_client, user):
    token = mint_token(sub=user.clerk_user_id, headers={"typ": None, "cat": None})
    assert jwt.get_unverified_header(token).keys() == {"alg", "kid"}
    assert get_me(api_client, token).status_code == 200


def test_nbf_within_the_clock_skew_is_accepted(api_client, user):
    token = mint_token(sub=user.clerk_user_id, claims={"nbf": int(time.time()) + 3})
    assert get_me(api_client, token).status_code == 200


def test_expiry_within_the_clock_skew_is_accepted(api_client, user):
    token = mint_token(sub=user.clerk_user_id, claims={"exp": int(time.time()) - 2})
    assert get_me(api_client, token).status_code == 200


def test_iat_within_the_clock_skew_is_accepted(api_client, user):
    token = mint_token(sub=user.clerk_user_id, claims={"iat": int(time.time()) + 3})
    assert get_me(api_client, token).status_code == 200


def test_clock_skew_is_configurable(api_client, user, settings):
    settings.CLERK_CLOCK_SKEW_SECONDS = 120
    token = mint_token(sub=user.clerk_user_id, claims={"nbf": int(time.time()) + 60})
    assert get_me(api_client, token).status_code == 200


def test_authorized_parties_check_can_be_turned_off(api_client, user, settings):
    settings.CLERK_AUTHORIZED_PARTIES = []
    assert get_me(api_client, mint_token(sub=user.clerk_user_id, drop=("azp",))).status_code == 200


def test_matching_issuer_is_accepted_when_configured(api_client, user, settings):
    settings.CLERK_ISSUER = "https://clerk.test.example"
    assert get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code == 200


# --- rejected: the token itself ---------------------------------------------------------------


def test_expired_token_is_refused(api_client, user):
    token = mint_token(sub=user.clerk_user_id, claims={"exp": int(time.time()) - 30})
    assert_rejected(get_me(api_client, token), "token_expired")


def test_token_without_exp_is_refused(api_client, user):
    assert_rejected(
        get_me(api_client, mint_token(sub=user.clerk_user_id, drop=("exp",))), "token_invalid"
    )


@pytest.mark.parametrize("sub", ["user_2abc\x00", "user_\x00", "user_2abc\n", "user_\x7f"])
def test_a_subject_with_a_nul_or_control_character_is_an_invalid_token(api_client, sub):
    # a signed token whose `sub` PostgreSQL could not even look up: 401, not an outage
    assert_rejected(get_me(api_client, mint_token(sub=sub)), "token_invalid")
    assert not User.objects.exists()


def test_token_not_yet_valid_beyond_the_skew_is_refused(api_client, user):
    token = mint_token(sub=user.clerk_user_id, claims={"nbf": int(time.time()) + 60})
    assert_rejected(get_me(api_client, token), "token_not_active_yet")


def test_token_issued_in_the_future_is_refused(api_client, user):
    token = mint_token(sub=user.clerk_user_id, claims={"iat": int(time.time()) + 60})
    assert_rejected(get_me(api_client, token), "token_iat_in_the_future")


def test_alg_none_is_refused(api_client, user):
    token = _hand_made({"alg": "none", "typ": "JWT"}, _claims(user.clerk_user_id), lambda _: "")
    assert_rejected(get_me(api_client, token), "token_invalid_algorithm")


def test_hs256_signed_with_the_public_key_pem_is_refused(api_client, user):
    """The classic key confusion: the verifier's PEM used as an HMAC secret."""
    secret = SESSION_KEYS.public_pem.encode()
    token = _hand_made(
        {"alg": "HS256", "typ": "JWT", "kid": SESSION_KEYS.kid},
        _claims(user.clerk_user_id),
        lambda data: _b64(hmac.new(secret, data, hashlib.sha256).digest()),
    )
    assert_rejected(get_me(api_client, token), "token_invalid_algorithm")


def test_tampered_payload_is_refused(api_client, user, other_user):
    header, _, signature = mint_token(sub=user.clerk_user_id).split(".")
    forged = _b64(json.dumps(_claims(other_user.clerk_user_id)).encode())
    assert_rejected(get_me(api_client, f"{header}.{forged}.{signature}"), "token_invalid_signature")


def test_token_signed_by_another_key_is_refused(api_client, user):
    stranger = generate_key_pair(SESSION_KEYS.kid)  # same kid, different key
    assert_rejected(
        get_me(api_client, mint_token(sub=user.clerk_user_id, keys=stranger)),
        "token_invalid_signature",
    )


def test_wrong_authorized_party_is_refused(api_client, user):
    token = mint_token(sub=user.clerk_user_id, claims={"azp": "https://evil.example"})
    assert_rejected(get_me(api_client, token), "token_invalid_authorized_parties")


def test_missing_authorized_party_is_refused_when_parties_are_configured(api_client, user):
    token = mint_token(sub=user.clerk_user_id, drop=("azp",))
    assert_rejected(get_me(api_client, token), "token_invalid_authorized_parties")


def test_wrong_issuer_is_refused_when_configured(api_client, user, settings):
    settings.CLERK_ISSUER = "https://clerk.ledger.example"
    assert_rejected(get_me(api_client, mint_token(sub=user.clerk_user_id)), "token_invalid_issuer")


def test_missing_issuer_is_refused_when_configured(api_client, user, settings):
    settings.CLERK_ISSUER = "https://clerk.test.example"
    token = mint_token(sub=user.clerk_user_id, drop=("iss",))
    assert_rejected(get_me(api_client, token), "token_invalid_issuer")


def test_token_without_sub_is_refused(api_client):
    assert_rejected(get_me(api_client, mint_token(drop=("sub",))), "token_invalid")
    assert not User.objects.exists()


@pytest.mark.parametrize("sub", [12345, "", None, ["user_1"], "u" * 256])
def test_non_string_or_empty_sub_is_refused(api_client, sub):
    token = mint_token(sub=sub) if sub is not None else mint_token(claims={"sub": None})
    assert_rejected(get_me(api_client, token), "token_invalid")
    assert not User.objects.exists()


def test_machine_to_machine_token_is_refused(api_client, user):
    token = mint_token(sub=user.clerk_user_id, headers={"cat": "cl_B7d4PD444AAA"})
    assert_rejected(get_me(api_client, token), "token_type_mismatch")


def test_pending_session_is_not_signed_in(api_client):
    token = mint_token(sub="user_pending", claims={"sts": "pending"})
    assert_rejected(get_me(api_client, token), "session_token_pending")
    assert not User.objects.exists()


def test_typ_other_than_jwt_is_refused(api_client, user):
    token = mint_token(sub=user.clerk_user_id, headers={"typ": "at+jwt"})
    assert_rejected(get_me(api_client, token), "token_invalid")


def test_non_numeric_iat_is_refused(api_client, user):
    token = mint_token(sub=user.clerk_user_id, claims={"iat": "yesterday"})
    assert_rejected(get_me(api_client, token), "token_invalid")


# --- rejected: the Authorization header -------------------------------------------------------


def test_basic_scheme_is_refused(api_client, user):
    credentials = base64.b64encode(b"user:password").decode()
    response = api_client.get(ME, HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert_rejected(response, "token_invalid")


def test_scheme_without_token_is_refused(api_client):
    assert_rejected(api_client.get(ME, HTTP_AUTHORIZATION="Bearer"), "token_invalid")


def test_empty_bearer_token_is_refused(api_client):
    assert_rejected(api_client.get(ME, HTTP_AUTHORIZATION="Bearer    "), "token_invalid")


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", "...", "Bearer x", "eyJ.eyJ.sig"])
def test_garbage_token_is_refused(api_client, garbage):
    assert_rejected(get_me(api_client, garbage), "token_invalid")


def test_oversized_token_is_refused_without_parsing(api_client, user, monkeypatch):
    def must_not_parse(*args, **kwargs):
        raise AssertionError("an oversized token was parsed")

    monkeypatch.setattr(jwt, "get_unverified_header", must_not_parse)
    token = mint_token(sub=user.clerk_user_id, claims={"pad": "x" * 10 * 1024})
    assert len(token) > 10 * 1024
    assert_rejected(get_me(api_client, token), "token_invalid")


def test_missing_header_is_not_authenticated(api_client):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "invalid_token" not in response["WWW-Authenticate"]


# --- the user ---------------------------------------------------------------------------------


def test_deactivated_user_is_refused_with_a_valid_token(api_client):
    user = UserFactory(is_active=False)
    assert_rejected(get_me(api_client, mint_token(sub=user.clerk_user_id)), "user_deactivated")


def test_user_deleted_in_clerk_is_refused_with_a_valid_token(api_client):
    from django.utils import timezone

    user = UserFactory(deleted_at=timezone.now())
    assert_rejected(get_me(api_client, mint_token(sub=user.clerk_user_id)), "user_deactivated")


def test_a_normal_request_makes_no_write(api_client, user, django_assert_num_queries):
    token = mint_token(sub=user.clerk_user_id)

    with django_assert_num_queries(2) as first:  # the user, then last_seen once a minute
        assert get_me(api_client, token).status_code == 200
    with django_assert_num_queries(1) as second:  # the user only
        assert get_me(api_client, token).status_code == 200

    assert "UPDATE" in first.captured_queries[1]["sql"]
    assert all(q["sql"].startswith("SELECT") for q in second.captured_queries)
    user.refresh_from_db()
    assert user.last_seen is not None


def test_last_seen_is_written_again_after_a_minute(api_client, user):
    import time_machine
    from django.utils import timezone

    token_now = mint_token(sub=user.clerk_user_id)
    assert get_me(api_client, token_now).status_code == 200
    user.refresh_from_db()
    first_seen = user.last_seen

    # the once-a-minute mark lives in the shared cache with a 60 s expiry: let it lapse
    from django.core.cache import cache

    cache.delete(f"accounts:seen:{user.pk}")
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=2)):
        assert get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code == 200
    user.refresh_from_db()
    assert user.last_seen > first_seen


def test_api_client_stays_anonymous(api_client, user):
    assert api_client.get(ME).status_code == 401


# --- configuration ----------------------------------------------------------------------------


def test_no_key_configured_answers_503_with_a_clear_message(api_client, user, settings):
    settings.CLERK_JWT_KEY = ""
    response = get_me(api_client, mint_token(sub=user.clerk_user_id))
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "jwk_local_missing"
    assert "CLERK_JWT_KEY" in error["message"]


def test_invalid_pem_configured_answers_503(api_client, user, settings):
    settings.CLERK_JWT_KEY = "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----"
    response = get_me(api_client, mint_token(sub=user.clerk_user_id))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "jwk_local_invalid"


def test_pem_with_escaped_newlines_or_without_armour_is_accepted(api_client, user, settings):
    pem = SESSION_KEYS.public_pem
    settings.CLERK_JWT_KEY = pem.replace("\n", "\\n")
    assert get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code == 200
    body = "".join(line for line in pem.splitlines() if "-----" not in line)
    settings.CLERK_JWT_KEY = body
    assert get_me(api_client, mint_token(sub=user.clerk_user_id)).status_code == 200


def test_authentication_is_the_default_for_the_api():
    from rest_framework.settings import api_settings

    from accounts.authentication import ClerkSessionAuthentication

    classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    assert classes == [ClerkSessionAuthentication]


def test_openapi_schema_documents_bearer_auth(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    assert schema["components"]["securitySchemes"]["ClerkSession"]["scheme"] == "bearer"
    assert "/auth/me" in schema["paths"]


@pytest.mark.parametrize("tick", [True, False])
def test_auth_client_keeps_working_under_time_travel(auth_client, user, tick):
    import datetime as dt

    import time_machine

    client = auth_client(user)  # made in the real present
    with time_machine.travel(dt.datetime(2025, 7, 25, 9, 0, tzinfo=dt.UTC), tick=tick):
        assert client.get(ME).status_code == 200
    with time_machine.travel(dt.datetime(2031, 1, 1, tzinfo=dt.UTC), tick=tick):
        assert client.get(ME).status_code == 200


def test_every_clerk_setting_is_documented():
    from django.conf import settings

    names = [
        "CLERK_JWT_KEY",
        "CLERK_JWKS_URL",
        "CLERK_SECRET_KEY",
        "CLERK_API_URL",
        "CLERK_AUTHORIZED_PARTIES",
        "CLERK_ISSUER",
        "CLERK_CLOCK_SKEW_SECONDS",
        "CLERK_WEBHOOK_SIGNING_SECRET",
        "ACCOUNT_PURGE_DAYS",
    ]
    env_example = (settings.BASE_DIR / ".env.example").read_text()
    reference = (settings.BASE_DIR / "docs" / "configuration.md").read_text()
    for name in names:
        assert f"\n{name}=" in env_example, name
        assert f"| `{name}` |" in reference, name


def test_authentication_survives_a_redis_outage(api_client, user, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    response = get_me(api_client, mint_token(sub=user.clerk_user_id))
    assert response.status_code == 200
    assert get_me(api_client, mint_token(sub="user_2during_outage")).status_code == 200


@pytest.mark.parametrize("zone", ["Asia/Seoul", "UTC"])
def test_me_renders_the_instant_in_the_server_time_zone(api_client, user, settings, zone):
    settings.TIME_ZONE = zone
    response = get_me(api_client, mint_token(sub=user.clerk_user_id))
    assert response.status_code == 200
    assert response.json()["created_at"].endswith("Z" if zone == "UTC" else "+09:00")


@pytest.mark.parametrize("email", ["me@example.com", ""])
def test_me_matches_its_openapi_schema_with_and_without_a_known_email(api_client, user, email):
    # given a user the webhook has described, and one first seen through a token (no email)
    user.email = email
    user.save(update_fields=["email"])

    # when
    answer = get_me(api_client, mint_token(sub=user.clerk_user_id)).json()

    # then the answer is valid against the published schema, formats included
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    me = schema["paths"]["/auth/me"]["get"]["responses"]["200"]["content"]["application/json"]
    resolver = {"components": schema["components"], **me["schema"]}
    jsonschema.validate(answer, resolver, format_checker=jsonschema.FormatChecker())
    assert answer["email"] == email
    assert answer["id"] == str(user.id) and answer["clerk_user_id"] == user.clerk_user_id
