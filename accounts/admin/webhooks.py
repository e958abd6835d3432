"""Clerk webhook deliveries in the admin: read-only, the record that makes them idempotent."""

from django.contrib import admin

from accounts.models import WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    """Clerk webhook deliveries already applied (read-only: the idempotency record)."""

    list_display = ("received_at", "event_type", "clerk_user_id", "outcome", "svix_id")
    list_filter = ("event_type", "outcome")
    search_fields = ("svix_id", "clerk_user_id")
    ordering = ("-received_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
