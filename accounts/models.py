import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


def default_time_zone() -> str:
    return settings.TIME_ZONE


class User(AbstractUser):
    """A person who signs in with Clerk, or a staff account that exists only for the admin.

    Clerk users are found by `clerk_user_id` (the session token's `sub`); their `username`
    mirrors it because Django's auth requires one. Staff-only accounts leave it empty.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clerk_user_id = models.CharField(max_length=255, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    time_zone = models.CharField(max_length=64, default=default_time_zone)
    last_seen = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when Clerk reports the user deleted; their data is purged later.",
    )
    clerk_updated_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Clerk's `updated_at` of the last user.created/updated event applied.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clerk_user_id"],
                condition=~Q(clerk_user_id=""),
                name="user_clerk_user_id_unique",
            ),
        ]
        indexes = [models.Index(fields=["email"], name="user_email_idx")]

    def __str__(self):
        return self.email or self.clerk_user_id or self.username


class WebhookEvent(models.Model):
    """A Clerk webhook delivery already processed, by its Svix message id (idempotency)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    svix_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=100)
    clerk_user_id = models.CharField(max_length=255, blank=True, default="")
    outcome = models.CharField(max_length=32)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["received_at"], name="webhookevent_received_idx")]

    def __str__(self):
        return f"{self.event_type} {self.svix_id}"
