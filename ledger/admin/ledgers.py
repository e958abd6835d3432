"""Ledgers in the admin: who is in a ledger and with which role, its invitations; support can
revoke a pending invitation (`ledger.services.invitations`). Nothing else is changed here:
members and roles are the owners' to manage through the API.

The codes themselves are not shown: support never needs to hand one out.
"""

from django.contrib import admin, messages
from django.db.models import Count
from django.utils import timezone

from ledger.admin.shared import ReadOnlyAdminMixin
from ledger.models import Invitation, Ledger, Membership
from ledger.services.invitations import invitation_revoke_by_id


class _ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False


class MembershipInline(_ReadOnlyInline):
    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    ordering = ("created_at", "pk")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


def invitation_state(invitation: Invitation) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= timezone.now():
        return "expired"
    return "pending"


class InvitationInline(_ReadOnlyInline):
    model = Invitation
    fields = ("role", "email", "state", "created_by", "created_at", "expires_at", "accepted_by")
    readonly_fields = fields
    ordering = ("-created_at",)

    @admin.display(description="state")
    def state(self, obj):
        return invitation_state(obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by", "accepted_by")


@admin.register(Ledger)
class LedgerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "is_personal", "member_count", "personal_for", "created_at")
    list_select_related = ("personal_for",)
    search_fields = ("name", "memberships__user__email")
    fields = (
        "id",
        "name",
        "personal_for",
        "revision",
        "transaction_count",
        "deleted_at",
        "created_at",
    )
    readonly_fields = fields
    ordering = ("-created_at",)
    inlines = (MembershipInline, InvitationInline)
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    @admin.display(description="personal", boolean=True)
    def is_personal(self, obj):
        return obj.is_personal


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("ledger", "role", "email", "state", "created_by", "created_at", "expires_at")
    list_select_related = ("ledger", "created_by")
    search_fields = ("email", "ledger__name", "ledger__memberships__user__email")
    fields = (
        "ledger",
        "role",
        "email",
        "state",
        "created_by",
        "created_at",
        "expires_at",
        "accepted_by",
        "accepted_at",
        "revoked_at",
    )
    readonly_fields = fields
    ordering = ("-created_at",)
    actions = ("revoke",)

    @admin.display(description="state")
    def state(self, obj):
        return invitation_state(obj)

    @admin.action(description="Revoke the selected pending invitations", permissions=["change"])
    def revoke(self, request, queryset):
        count = invitation_revoke_by_id(invitation_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} invitation(s) revoked.", messages.SUCCESS)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
