"""Build and deliver Clerk webhook events signed the way Svix signs them."""

import json
from datetime import UTC, datetime

from django.conf import settings
from svix.webhooks import Webhook

URL = "/auth/webhook"


def user_payload(
    clerk_user_id="user_2hook",
    *,
    event_type="user.created",
    email="first@example.com",
    updated_at=1_722_000_000_000,
):
    return {
        "object": "event",
        "type": event_type,
        "timestamp": updated_at,
        "data": {
            "object": "user",
            "id": clerk_user_id,
            "first_name": "지민",
            "last_name": "김",
            "primary_email_address_id": "idn_primary",
            "email_addresses": [
                {"id": "idn_other", "email_address": "other@example.com"},
                {"id": "idn_primary", "email_address": email},
            ],
            "created_at": 1_721_000_000_000,
            "updated_at": updated_at,
        },
    }


def deleted_payload(clerk_user_id="user_2hook"):
    return {
        "object": "event",
        "type": "user.deleted",
        "data": {"object": "user", "id": clerk_user_id, "deleted": True},
    }


_ids = iter(range(1, 10_000))


def deliver(
    client,
    payload,
    *,
    msg_id=None,
    timestamp=None,
    secret=None,
    body=None,
    signature=None,
    headers=None,
):
    """Sign like Svix does and POST; any part can be replaced to simulate an attack."""
    body = body if body is not None else json.dumps(payload, ensure_ascii=False)
    msg_id = msg_id or f"msg_{next(_ids):06d}"
    timestamp = timestamp or datetime.now(tz=UTC)
    secret = secret or settings.CLERK_WEBHOOK_SIGNING_SECRET
    signed = Webhook(secret).sign(msg_id, timestamp, body)
    sent = {
        "HTTP_SVIX_ID": msg_id,
        "HTTP_SVIX_TIMESTAMP": str(int(timestamp.timestamp())),
        "HTTP_SVIX_SIGNATURE": signature if signature is not None else signed,
    }
    sent.update(headers or {})
    sent = {k: v for k, v in sent.items() if v is not None}
    return client.post(URL, data=body.encode(), content_type="application/json", **sent)
