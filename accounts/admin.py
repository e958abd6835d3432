from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User, WebhookEvent


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("email", "clerk_user_id", "date_joined", "last_seen", "is_active", "is_staff")
    search_fields = ("email", "clerk_user_id", "username")
    ordering = ("-date_joined",)
    fieldsets = DjangoUserAdmin.fieldsets + (
        (
            "Clerk",
            {
                "fields": (
                    "clerk_user_id",
                    "time_zone",
                    "last_seen",
                    "deleted_at",
                    "clerk_updated_at",
                )
            },
        ),
    )
    readonly_fields = ("last_seen", "deleted_at", "clerk_updated_at")


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
