"""Mint Clerk-shaped session tokens for tests, signed with the session's test key."""

from __future__ import annotations

import time
from typing import Any

import jwt
from rest_framework.test import APIClient

from accounts.tests.keys import SESSION_KEYS, KeyPair

SPA_ORIGIN = "http://localhost:5173"
SESSION_TOKEN_CATEGORY = "cl_B7d4PD111AAA"
_UNSET: Any = object()


def mint_token(
    *,
    sub: Any = "user_test_default",
    keys: KeyPair = SESSION_KEYS,
    algorithm: str = "RS256",
    lifetime: int = 60,
    issued_offset: int = 0,
    claims: dict | None = None,
    drop: tuple[str, ...] = (),
    headers: dict | None = None,
    kid: Any = _UNSET,
) -> str:
    """A token like Clerk's v2 session token; override or `drop` any claim or header field."""
    now = int(time.time()) + issued_offset
    payload = {
        "sub": sub,
        "iat": now,
        "nbf": now - 5,
        "exp": now + lifetime,
        "azp": SPA_ORIGIN,
        "iss": "https://clerk.test.example",
        "sid": "sess_test",
        "v": 2,
        "fva": [0, -1],
        "sts": "active",
    }
    payload.update(claims or {})
    for name in drop:
        payload.pop(name, None)
    header = {
        "typ": "JWT",
        "cat": SESSION_TOKEN_CATEGORY,
        "kid": keys.kid if kid is _UNSET else kid,
    }
    header.update(headers or {})
    # None drops a field (PyJWT itself drops `typ` when it is None)
    header = {k: v for k, v in header.items() if v is not None or k == "typ"}
    return jwt.encode(payload, keys.private_key, algorithm=algorithm, headers=header)


class ClerkTokenClient(APIClient):
    """An APIClient that sends a freshly minted session token with every request.

    Minting per request keeps the token valid under time-travel (time-machine) in tests.
    An explicit `credentials(HTTP_AUTHORIZATION=...)` still wins.
    """

    def __init__(self, *, clerk_user_id: str, **kwargs):
        super().__init__(**kwargs)
        if not clerk_user_id:
            raise ValueError("auth_client needs a user with a clerk_user_id")
        self.clerk_user_id = clerk_user_id

    def request(self, **kwargs):
        kwargs.setdefault("HTTP_AUTHORIZATION", f"Bearer {mint_token(sub=self.clerk_user_id)}")
        return super().request(**kwargs)
