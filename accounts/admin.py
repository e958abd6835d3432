from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("email", "clerk_user_id", "date_joined", "last_seen", "is_active", "is_staff")
    search_fields = ("email", "clerk_user_id", "username")
    ordering = ("-date_joined",)
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("Clerk", {"fields": ("clerk_user_id", "time_zone", "last_seen", "deleted_at")}),
    )
    readonly_fields = ("last_seen", "deleted_at")
