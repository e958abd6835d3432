"""Reads of ledgers, their members and invitations — always through the caller's membership:
a ledger the user is not a member of does not exist for them (404)."""

from django.db.models import BooleanField as BooleanOutput
from django.db.models import Count, ExpressionWrapper, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ledger.models import Invitation, Ledger, Membership
from ledger.services.ledger_errors import LedgerRuleError

LEDGER_NOT_FOUND = "No ledger matches the given id."


def _not_found():
    return LedgerRuleError("ledger_not_found", LEDGER_NOT_FOUND, status=404)


def _ledger_rows(*, user):
    member_count = (
        Membership.objects.filter(ledger=OuterRef("pk"))
        .order_by()
        .values("ledger")
        .annotate(n=Count("pk"))
        .values("n")
    )
    mine = Membership.objects.filter(ledger=OuterRef("pk"), user=user)
    return (
        Ledger.objects.filter(memberships__user=user, deleted_at__isnull=True)
        .annotate(
            role=Subquery(mine.values("role")[:1]),
            member_count=Coalesce(Subquery(member_count, output_field=IntegerField()), 0),
            is_personal=ExpressionWrapper(
                Q(personal_for__isnull=False), output_field=BooleanOutput()
            ),
        )
        .values("id", "name", "role", "member_count", "is_personal", "created_at")
    )


def ledger_list(*, user):
    """The user's ledgers with their role and member count, in one query: personal first."""
    return _ledger_rows(user=user).order_by(F("personal_for").asc(nulls_last=True), "created_at")


def ledger_row(*, user, ledger_id) -> dict:
    row = _ledger_rows(user=user).filter(pk=ledger_id).first()
    if row is None:
        raise _not_found()
    return row


def ledger_membership(*, user, ledger_id) -> tuple[Ledger, str] | None:
    """The ledger `ledger_id` with `user`'s role in it, or None when `user` is no member of a
    live ledger: one query, by the unique (ledger, user) index."""
    membership = (
        Membership.objects.select_related("ledger")
        .filter(ledger_id=ledger_id, user=user, ledger__deleted_at__isnull=True)
        .only("role", "ledger")
        .first()
    )
    if membership is None:
        return None
    return membership.ledger, membership.role


def ledger_has_member(*, ledger, user_id) -> bool:
    """Whether `user_id` is a member of `ledger` now (one query, by the unique index)."""
    return Membership.objects.filter(ledger=ledger, user_id=user_id).exists()


def ledger_member_ids(*, ledger) -> set:
    """The ids of the users who are members of `ledger` now."""
    return set(Membership.objects.filter(ledger=ledger).values_list("user_id", flat=True))


def ledger_for_member(*, user, ledger_id) -> tuple[Ledger, str]:
    """The ledger and the user's role in it; 404 for a non-member as for a missing ledger."""
    found = ledger_membership(user=user, ledger_id=ledger_id)
    if found is None:
        raise _not_found()
    return found


def member_list(*, ledger):
    return (
        Membership.objects.filter(ledger=ledger)
        .order_by("created_at", "pk")
        .values("user_id", "user__email", "role", "created_at")
    )


def invitation_pending_list(*, ledger):
    return (
        Invitation.objects.filter(
            ledger=ledger,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .values("code", "role", "email", "expires_at", "created_at")
    )
