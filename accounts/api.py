"""HTTP endpoints of the accounts app: `GET /auth/me` and the Clerk webhook."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone
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
from household_ledger.api.rendering import iso_datetime

logger = logging.getLogger(__name__)


class MeOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    clerk_user_id = serializers.CharField()
    email = serializers.EmailField()
    created_at = serializers.DateTimeField()
    time_zone = serializers.CharField()


class MeView(APIView):
    @extend_schema(responses=MeOutputSerializer, summary="The signed-in user")
    def get(self, request):
        # MeOutputSerializer's output, built directly: this is the API's cheapest endpoint
        # (the benchmark's floor) and DRF's generic rendering was ~8 % of it. A test holds
        # the two equal.
        user = request.user
        return Response({
            "id": str(user.id),
            "clerk_user_id": user.clerk_user_id,
            "email": user.email,
            "created_at": iso_datetime(user.created_at, timezone.get_current_timezone()),
            "time_zone": user.time_zone,
        })


class WebhookSignatureInvalid(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The webhook signature is missing, invalid or too old."
    default_code = "webhook-signature-invalid"


class ClerkWebhookView(APIView):
    """Clerk's Svix-signed webhook. No token authentication; CSRF-exempt (APIView)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "webhook"  # per client IP (household_ledger.api.throttles)

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("WebhookResult", {"status": serializers.CharField()}),
            400: OpenApiResponse(description="bad, missing, malformed or stale signature"),
        },
        summary="Clerk webhook (user.created / user.updated / user.deleted)",
    )
    def post(self, request):
        secret = settings.CLERK_WEBHOOK_SIGNING_SECRET
        if not secret:
            raise ServiceUnavailable(
                "The webhook is not configured: set CLERK_WEBHOOK_SIGNING_SECRET.",
                code="webhook-not-configured",
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
