"""HTTP endpoints of the accounts app: `GET /auth/me` and the Clerk webhook."""

from __future__ import annotations

import logging

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.services.webhooks import (
    WebhookPayloadError,
    WebhookSignatureError,
    webhook_event_process,
    webhook_verify,
)
from household_ledger.api.exceptions import ServiceUnavailable
from household_ledger.api.schema import ErrorSerializer

logger = logging.getLogger(__name__)


class MeOutputSerializer(serializers.Serializer):
    """`GET /auth/me`: the answer and its OpenAPI schema, one and the same."""

    id = serializers.UUIDField()
    clerk_user_id = serializers.CharField()
    # A plain string: "" until Clerk's webhook has told the address (a user is created on the
    # first request with a token, which carries no email), so it is not `format: email`.
    email = serializers.CharField(
        help_text='The primary email address Clerk reported, or "" while none is known.'
    )
    created_at = serializers.DateTimeField()
    time_zone = serializers.CharField()


class MeView(APIView):
    @extend_schema(responses=MeOutputSerializer, summary="The signed-in user")
    def get(self, request):
        return Response(MeOutputSerializer(request.user).data)


class WebhookSignatureInvalid(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The webhook signature is missing, invalid or too old."
    default_code = "webhook_signature_invalid"


class ClerkWebhookView(APIView):
    """Clerk's Svix-signed webhook. No token authentication; CSRF-exempt (APIView)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "webhook"  # per client IP (household_ledger.api.throttles)

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("WebhookResult", {"status": serializers.CharField()}),
            400: OpenApiResponse(
                ErrorSerializer, description="bad, missing, malformed or stale signature"
            ),
        },
        summary="Clerk webhook (user.created / user.updated / user.deleted)",
    )
    def post(self, request):
        secret = settings.CLERK_WEBHOOK_SIGNING_SECRET
        if not secret:
            raise ServiceUnavailable(
                "The webhook is not configured: set CLERK_WEBHOOK_SIGNING_SECRET.",
                code="webhook_not_configured",
            )
        # The signature covers the exact bytes: read them before anything parses the body.
        body = request._request.body
        headers = {
            name: request.headers.get(name, "")
            for name in ("svix-id", "svix-timestamp", "svix-signature")
        }
        try:
            event = webhook_verify(secret=secret, body=body, headers=headers)
        except WebhookSignatureError as exc:
            logger.warning("clerk webhook refused: signature check failed (%s)", exc)
            raise WebhookSignatureInvalid() from None
        except WebhookPayloadError as exc:
            raise exceptions.ValidationError({"body": [str(exc)]}) from None
        outcome = webhook_event_process(svix_id=headers["svix-id"], event=event)
        return Response({"status": outcome})
