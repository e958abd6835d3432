"""The API's authentication: a Clerk session token in `Authorization: Bearer <jwt>`."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from accounts.clerk import MAX_TOKEN_BYTES, KeysUnavailable, TokenError, session_token_verify
from accounts.services.users import (
    user_get_or_create_for_session,
    user_is_signed_in_allowed,
    user_mark_seen,
)

INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'
NO_TOKEN_CHALLENGE = 'Bearer realm="household_ledger"'


class AuthenticationUnavailable(exceptions.APIException):
    """No verification key can be had: 503, not 401 (the client's token may be fine).

    Defined here rather than imported from household_ledger.api.exceptions: DRF imports the
    authentication classes while `rest_framework.views` is still loading.
    """

    status_code = 503
    default_detail = "Token verification is unavailable. Try again shortly."
    default_code = "authentication_unavailable"


class ClerkSessionAuthentication(BaseAuthentication):
    """Verify the Clerk session token locally and map its `sub` to a local user.

    No Authorization header → anonymous (401 from the permission, `not_authenticated`).
    Anything else that is not a valid Bearer session token → 401 with
    `WWW-Authenticate: Bearer error="invalid_token"` and a Clerk-style error code.
    No key obtainable at all → 503.
    """

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        request._clerk_token_rejected = True  # until proven otherwise: picks the challenge
        if len(header) > MAX_TOKEN_BYTES + len("Bearer "):
            raise exceptions.AuthenticationFailed(
                "The bearer token is too large.", code="token_invalid"
            )
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            raise exceptions.AuthenticationFailed(
                "Send the Clerk session token as `Authorization: Bearer <token>`.",
                code="token_invalid",
            )
        token = token.strip()
        if " " in token:
            raise exceptions.AuthenticationFailed(
                "The bearer token is not a well-formed JWT.", code="token_invalid"
            )
        try:
            claims = session_token_verify(token=token)
        except TokenError as exc:
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from None
        except KeysUnavailable as exc:
            raise AuthenticationUnavailable(exc.message, code=exc.code) from None

        user = user_get_or_create_for_session(clerk_user_id=claims["sub"])
        if not user_is_signed_in_allowed(user=user):
            raise exceptions.AuthenticationFailed(
                "This account has been deactivated.", code="user_deactivated"
            )
        user_mark_seen(user=user)
        request._clerk_token_rejected = False
        return user, claims

    def authenticate_header(self, request):
        if getattr(request, "_clerk_token_rejected", False):
            return INVALID_TOKEN_CHALLENGE
        return NO_TOKEN_CHALLENGE
