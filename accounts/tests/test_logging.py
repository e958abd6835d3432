"""No token or secret ever reaches the logs."""

import logging

import pytest

from accounts.tests.keys import SESSION_KEYS, generate_key_pair
from accounts.tests.tokens import mint_token
from accounts.tests.webhooks import deliver, user_payload

pytestmark = pytest.mark.django_db


def test_no_token_or_secret_appears_in_logs(api_client, user, jwks_server, settings, caplog):
    caplog.set_level(logging.DEBUG)
    settings.CLERK_JWKS_URL = ""
    settings.CLERK_SECRET_KEY = "sk_test_never_log_me_123456"
    settings.CLERK_API_URL = jwks_server.base_url
    jwks_server.keys = [SESSION_KEYS]
    tokens = [
        mint_token(sub=user.clerk_user_id),
        mint_token(sub=user.clerk_user_id, claims={"exp": 1}),
        mint_token(sub=user.clerk_user_id, kid="ins_unknown"),
        mint_token(sub=user.clerk_user_id, keys=generate_key_pair(SESSION_KEYS.kid)),
        "garbage-token-value-xyz",
    ]
    for token in tokens:
        api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    # an outage is logged, still without the secret key
    jwks_server.status = 500
    from django.core.cache import cache

    cache.clear()
    tokens.append(mint_token(sub=user.clerk_user_id, claims={"sid": "sess_during_outage"}))
    assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {tokens[-1]}").status_code == 503
    # webhooks: good and bad signatures
    deliver(api_client, user_payload())
    bad = deliver(api_client, user_payload(), signature="v1,AAAA")
    assert bad.status_code == 400

    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "fetching the JWKS" in text and "signature check failed" in text  # logs were made
    for token in tokens:
        for part in token.split("."):
            if len(part) > 8:
                assert part not in text
    assert "sk_test_never_log_me_123456" not in text
    assert settings.CLERK_WEBHOOK_SIGNING_SECRET.removeprefix("whsec_") not in text
