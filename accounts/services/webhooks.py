"""The Clerk webhook: verified Svix deliveries applied once each."""

from __future__ import annotations

import json
import logging

from django.db import IntegrityError, transaction
from svix.webhooks import Webhook, WebhookVerificationError

from accounts.models import WebhookEvent
from accounts.services.users import user_deactivate_from_clerk, user_sync_from_clerk

logger = logging.getLogger(__name__)


class WebhookSignatureError(Exception):
    """The delivery is not signed by Clerk (bad, missing or malformed signature, stale)."""


class WebhookPayloadError(Exception):
    """The delivery is signed but its body is not an event this endpoint understands."""


def webhook_verify(*, secret: str, body: bytes, headers: dict[str, str]) -> dict:
    """Check the Svix signature over the raw body and return the parsed event.

    svix 2.x's `verify()` returns None, so the body is parsed here. A malformed signature
    header raises ValueError (not WebhookVerificationError) inside svix: both are refusals.
    Timestamps more than five minutes old (or ahead) are refused by svix.
    """
    try:
        Webhook(secret).verify(body, headers)
    except (WebhookVerificationError, ValueError) as exc:
        raise WebhookSignatureError(exc.__class__.__name__) from None
    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookPayloadError("The body is not JSON.") from None
    except RecursionError:
        raise WebhookPayloadError("The body is nested too deeply.") from None
    if _has_nul(event):
        # PostgreSQL text cannot hold it; refused here, so Svix does not retry it for days.
        raise WebhookPayloadError("The event contains a NUL (\\u0000) character.")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise WebhookPayloadError("The event has no type.")
    data = event.get("data")
    if event["type"].startswith("user.") and (
        not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]
    ):
        raise WebhookPayloadError("The user event has no data.id.")
    return event


def _has_nul(value) -> bool:
    """Whether any string (key or value) in the parsed JSON holds a NUL. Iterative: json.loads
    already bounded the depth, and this walk adds no recursion of its own."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


HANDLED_TYPES = ("user.created", "user.updated", "user.deleted")


def webhook_event_process(*, svix_id: str, event: dict) -> str:
    """Apply one verified event at most once (by `svix-id`); returns the outcome."""
    event_type = event["type"]
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    clerk_user_id = str(data.get("id") or "")[:255] if event_type in HANDLED_TYPES else ""
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                svix_id=svix_id[:255],
                event_type=event_type[:100],
                clerk_user_id=clerk_user_id,
                outcome="pending",
            )
            if event_type in ("user.created", "user.updated"):
                outcome = user_sync_from_clerk(data=data)
            elif event_type == "user.deleted":
                outcome = user_deactivate_from_clerk(clerk_user_id=clerk_user_id)
            else:
                outcome = "ignored_type"
            record.outcome = outcome
            record.save(update_fields=["outcome"])
    except IntegrityError:
        if WebhookEvent.objects.filter(svix_id=svix_id[:255]).exists():
            return "duplicate"
        raise
    logger.info("clerk webhook %s: %s", event_type, outcome)
    return outcome
