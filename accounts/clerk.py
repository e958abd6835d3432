"""Local verification of Clerk session tokens (RS256 JWTs).

Nothing here calls Clerk on a request path except the JWKS fetch, which is cached in the shared
Django cache (Redis) for five minutes so every gunicorn worker shares one copy. The key comes
from configuration, in this order:

1. `CLERK_JWT_KEY` — the PEM public key from Clerk's dashboard (networkless);
2. `CLERK_JWKS_URL` — `https://<frontend-api>/.well-known/jwks.json`;
3. `CLERK_SECRET_KEY` — the JWKS of Clerk's Backend API (`CLERK_API_URL` + `/v1/jwks`);
4. with `DEBUG` on and none of the above: the local development key of `manage.py dev_token`.

Failures raise `TokenError` (the client's token is bad: 401) or `KeysUnavailable` (no key can
be had: 503). Their `code` is Clerk's error name in the API's snake_case (`token_expired`,
`jwk_kid_mismatch`, …).
Neither the token nor any secret is ever put in a message or a log line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from jwt import PyJWKClient, PyJWKSet
from jwt.exceptions import PyJWKClientError, PyJWKError, PyJWKSetError

from accounts import dev_keys
from accounts.shared_cache import cache_add, cache_get, cache_set

logger = logging.getLogger(__name__)

ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512")
# The `cat` header of Clerk session tokens; machine-to-machine tokens carry another category.
SESSION_TOKEN_CATEGORY = "cl_B7d4PD111AAA"
MAX_TOKEN_BYTES = 8 * 1024

JWKS_CACHE_SECONDS = 5 * 60
# An unknown `kid` forces at most one refetch per this period (a flood of random kids must
# not become a flood of fetches).
JWKS_REFETCH_COOLDOWN_SECONDS = 5 * 60
# After a failed fetch with nothing cached, answer 503 at once for a few seconds instead of
# making every request wait for the fetch timeout again.
JWKS_FAILURE_BACKOFF_SECONDS = 10
JWKS_FETCH_TIMEOUT_SECONDS = 5


class TokenError(Exception):
    """The presented token is not a valid session token (answered 401)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class KeysUnavailable(Exception):
    """No verification key can be had (answered 503)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- keys -------------------------------------------------------------------------------------


class _PemKey:
    def __init__(self, pem: str, *, origin: str):
        self.key = _load_pem_public_key(pem, origin)

    def signing_key(self, kid: str | None) -> RSAPublicKey:
        return self.key


class _RemoteJwks:
    def __init__(self, url: str, *, headers: dict[str, str], origin: str):
        self.url = url
        self.headers = headers
        self.origin = origin
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        self.cache_key = f"clerk:jwks:{digest}"
        self.cooldown_key = f"clerk:jwks-refetch:{digest}"
        self.backoff_key = f"clerk:jwks-down:{digest}"

    def signing_key(self, kid: str | None) -> Any:
        if not kid:
            raise TokenError("token_invalid", "The token header has no key id (kid).")
        data = cache_get(self.cache_key)
        if data is None:
            data = self._fetch_or_unavailable()
        key = _find_key(data, kid)
        if key is None and cache_add(self.cooldown_key, 1, JWKS_REFETCH_COOLDOWN_SECONDS):
            logger.info("clerk: unknown key id, refetching the JWKS once (%s)", self.origin)
            try:
                data = self._fetch()
            except KeysUnavailable:
                data = None  # keep answering with what is cached; this kid stays unknown
            key = _find_key(data, kid) if data is not None else None
        if key is None:
            raise TokenError(
                "jwk_kid_mismatch", "The token was signed with a key this server does not know."
            )
        return key

    def _fetch_or_unavailable(self) -> dict:
        if cache_get(self.backoff_key):
            raise KeysUnavailable(
                "jwk_remote_failed_to_load",
                f"The signing keys could not be loaded from {self.origin} (retrying shortly). "
                "Try again in a few seconds.",
            )
        try:
            return self._fetch()
        except KeysUnavailable:
            cache_set(self.backoff_key, 1, JWKS_FAILURE_BACKOFF_SECONDS)
            raise

    def _fetch(self) -> dict:
        client = PyJWKClient(
            self.url,
            cache_jwk_set=False,
            headers={"User-Agent": "household_ledger", **self.headers},
            timeout=JWKS_FETCH_TIMEOUT_SECONDS,
        )
        try:
            data = client.fetch_data()
            _parse_jwks(json.dumps(data, sort_keys=True))
        except (PyJWKClientError, PyJWKError, PyJWKSetError, ValueError) as exc:
            # The exception text names the URL and the transport error, never the secret key.
            logger.warning(
                "clerk: fetching the JWKS from %s failed: %s", self.origin, exc.__class__.__name__
            )
            raise KeysUnavailable(
                "jwk_remote_failed_to_load",
                f"The signing keys could not be loaded from {self.origin}. "
                "Try again shortly; if it persists, check the Clerk key configuration.",
            ) from None
        cache_set(self.cache_key, data, JWKS_CACHE_SECONDS)
        return data


@lru_cache(maxsize=8)
def _parse_jwks(canonical_json: str) -> PyJWKSet:
    return PyJWKSet.from_json(canonical_json)


def _find_key(data: dict, kid: str) -> Any:
    keyset = _parse_jwks(json.dumps(data, sort_keys=True))
    for jwk in keyset.keys:
        if jwk.key_id == kid and jwk.key_type == "RSA" and jwk.public_key_use in ("sig", None):
            return jwk.key
    return None


@lru_cache(maxsize=8)
def _load_pem_public_key(pem: str, origin: str) -> RSAPublicKey:
    text = pem.strip().replace("\\n", "\n")
    if "-----BEGIN" not in text:
        # The dashboard's key pasted without its armour lines.
        text = f"-----BEGIN PUBLIC KEY-----\n{text}\n-----END PUBLIC KEY-----"
    try:
        key = serialization.load_pem_public_key(text.encode())
    except ValueError:
        key = None
    if not isinstance(key, RSAPublicKey):
        raise KeysUnavailable(
            "jwk_local_invalid", f"{origin} is not a valid PEM-encoded RSA public key."
        )
    return key


def _key_source() -> _PemKey | _RemoteJwks:
    if settings.CLERK_JWT_KEY:
        return _PemKey(settings.CLERK_JWT_KEY, origin="CLERK_JWT_KEY")
    if settings.CLERK_JWKS_URL:
        return _RemoteJwks(settings.CLERK_JWKS_URL, headers={}, origin="CLERK_JWKS_URL")
    if settings.CLERK_SECRET_KEY:
        return _RemoteJwks(
            settings.CLERK_API_URL.rstrip("/") + "/v1/jwks",
            headers={"Authorization": f"Bearer {settings.CLERK_SECRET_KEY}"},
            origin="Clerk's Backend API (CLERK_SECRET_KEY)",
        )
    if _dev_key_trusted():
        return _PemKey(dev_keys.public_key_pem(), origin="the local development key")
    raise KeysUnavailable(
        "jwk_local_missing",
        "Token verification is not configured: set CLERK_JWT_KEY, CLERK_JWKS_URL or "
        "CLERK_SECRET_KEY (or, for local development, run `manage.py dev_token` with DEBUG on).",
    )


def clerk_keys_configured() -> bool:
    """True when a real Clerk key source is configured (not the local development key)."""
    return bool(settings.CLERK_JWT_KEY or settings.CLERK_JWKS_URL or settings.CLERK_SECRET_KEY)


def _dev_key_trusted() -> bool:
    """The key of `manage.py dev_token`: only with DEBUG on, no Clerk key, and the key made."""
    return bool(settings.DEBUG) and not clerk_keys_configured() and dev_keys.public_key_pem_exists()


# --- tokens -----------------------------------------------------------------------------------

# SHA-256 of a token this process verified → (its claims, when they stop being accepted).
# The SPA sends the same session token with every request of its ~60 s life, so the signature
# is checked once per token and process, not once per request. Only fully verified tokens go
# in; a hit is still refused once `exp` (+ leeway) has passed. Whether the *user* may sign in
# is not cached: the authentication class reads the user row on every request.
_verified: dict[bytes, tuple[dict[str, Any], float]] = {}
_VERIFIED_MAX = 10_000


@receiver(setting_changed)
def _forget_verified_tokens(*, setting, **kwargs):
    # The checks depend on settings (key, parties, issuer, leeway, DEBUG for the dev key).
    if setting.startswith("CLERK_") or setting == "DEBUG":
        _verified.clear()


def session_token_verify(*, token: str) -> dict[str, Any]:
    """Verify a Clerk session token and return its claims; raise TokenError/KeysUnavailable."""
    if not token:
        raise TokenError("token_invalid", "The bearer token is empty.")
    encoded = token.encode()
    if len(encoded) > MAX_TOKEN_BYTES:
        raise TokenError("token_invalid", "The bearer token is too large.")

    digest = hashlib.sha256(encoded).digest()
    known = _verified.get(digest)
    if known is not None:
        claims, accepted_until = known
        if time.time() <= accepted_until:
            return dict(claims)
        _verified.pop(digest, None)  # expired: verify again, which says so

    claims = _verify_signed_token(token)
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    # int(): PyJWT accepted `exp` as something int() takes (it may be a numeric string).
    _verified[digest] = (claims, int(claims["exp"]) + settings.CLERK_CLOCK_SKEW_SECONDS)
    return dict(claims)


def _verify_signed_token(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise TokenError("token_invalid", "The bearer token is not a well-formed JWT.") from None

    algorithm = header.get("alg")
    if algorithm not in ALLOWED_ALGORITHMS:
        raise TokenError(
            "token_invalid_algorithm", "The token must be signed with RS256, RS384 or RS512."
        )
    if "typ" in header and header["typ"] != "JWT":
        raise TokenError("token_invalid", "The token's type (typ) must be JWT.")
    if "cat" in header and header["cat"] != SESSION_TOKEN_CATEGORY:
        raise TokenError("token_type_mismatch", "Only Clerk session tokens are accepted here.")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise TokenError("token_invalid", "The token's key id (kid) must be a string.")

    key = _key_source().signing_key(kid)
    skew = settings.CLERK_CLOCK_SKEW_SECONDS
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[algorithm],
            leeway=skew,
            options={
                "require": ["exp"],
                "verify_exp": True,
                # Checked below, each with its own error code.
                "verify_nbf": False,
                "verify_iat": False,
                "verify_iss": False,
                "verify_aud": False,
                "verify_sub": False,
                "verify_jti": False,
            },
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token_expired", "The token has expired.") from None
    except jwt.InvalidSignatureError:
        raise TokenError("token_invalid_signature", "The token's signature is invalid.") from None
    except jwt.MissingRequiredClaimError:
        raise TokenError("token_invalid", "The token has no expiry (exp).") from None
    except (jwt.InvalidAlgorithmError, jwt.InvalidKeyError):
        raise TokenError(
            "token_invalid_algorithm", "The token must be signed with RS256, RS384 or RS512."
        ) from None
    except jwt.InvalidTokenError:
        raise TokenError("token_invalid", "The token could not be decoded.") from None

    _check_time_claims(claims, skew)
    _check_identity_claims(claims)
    return claims


def _numeric(claims: dict, name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenError("token_invalid", f"The token's {name} claim must be a number.")
    return value


def _check_time_claims(claims: dict, skew: int) -> None:
    now = time.time()
    not_before = _numeric(claims, "nbf")
    if not_before is not None and not_before > now + skew:
        raise TokenError("token_not_active_yet", "The token is not valid yet (nbf).")
    issued_at = _numeric(claims, "iat")
    if issued_at is not None and issued_at > now + skew:
        raise TokenError("token_iat_in_the_future", "The token was issued in the future (iat).")


def _check_identity_claims(claims: dict) -> None:
    subject = claims.get("sub")
    # isprintable(): no NUL or other control character, which no Clerk id has (and PostgreSQL
    # text cannot hold NUL).
    if (
        not isinstance(subject, str)
        or not subject
        or len(subject) > 255
        or not subject.isprintable()
    ):
        raise TokenError("token_invalid", "The token's subject (sub) must be a Clerk user id.")

    parties = [party for party in settings.CLERK_AUTHORIZED_PARTIES if party]
    if parties and claims.get("azp") not in parties:
        raise TokenError(
            "token_invalid_authorized_parties",
            "The token's authorized party (azp) is not one of the allowed origins.",
        )
    issuer = settings.CLERK_ISSUER
    if issuer and claims.get("iss") != issuer:
        raise TokenError(
            "token_invalid_issuer", "The token's issuer (iss) is not the expected one."
        )
    if claims.get("sts") == "pending":
        raise TokenError(
            "session_token_pending",
            "The session is pending (sign-in is not complete), so it is not signed in.",
        )
