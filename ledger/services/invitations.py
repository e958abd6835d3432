"""Invitations to a shared ledger: create, revoke, accept.

The code has 256 bits (`secrets.token_urlsafe(32)`); it is found by its SHA-256 digest (unique
index), so the lookup's timing depends on the digest, not on how much of a guess was right.
Acceptance locks the invitation row, so of two users accepting one code exactly one becomes a
member and the other gets `invitation_used`.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ledger.models import Invitation, Ledger, Membership
from ledger.services.ledger_errors import PERSONAL_NOT_SHARED, LedgerRuleError

INVITATION_NOT_FOUND = "No invitation has this code."


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def invitation_create(*, ledger: Ledger, created_by, role: str, email: str = "") -> Invitation:
    # The personal ledger is what the top-level paths act on: it stays private to its user.
    if ledger.is_personal:
        raise LedgerRuleError("personal_ledger", PERSONAL_NOT_SHARED)
    code = secrets.token_urlsafe(32)
    return Invitation.objects.create(
        ledger=ledger,
        role=role,
        email=email,
        code=code,
        code_digest=code_digest(code),
        created_by=created_by,
        expires_at=timezone.now() + datetime.timedelta(days=settings.INVITATION_DAYS),
    )


def invitation_revoke(*, ledger: Ledger, code: str) -> None:
    """Revoke a pending invitation of `ledger`; an accepted or another ledger's is not found."""
    revoked = Invitation.objects.filter(
        ledger=ledger,
        code_digest=code_digest(code),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).update(revoked_at=timezone.now())
    if not revoked:
        raise LedgerRuleError("not_found", INVITATION_NOT_FOUND, status=404)


def invitation_revoke_by_id(*, invitation_ids) -> int:
    """Support's revoke (the admin action): pending invitations among `invitation_ids`."""
    return Invitation.objects.filter(
        pk__in=invitation_ids, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


def invitation_accept(*, user, code: str) -> Ledger:
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("ledger")
            .filter(code_digest=code_digest(code))
            .first()
        )
        # A shared ledger left without members waits for its purge: nobody joins it.
        if invitation is None or invitation.ledger.deleted_at is not None:
            raise LedgerRuleError("not_found", INVITATION_NOT_FOUND, status=404)
        if invitation.revoked_at is not None:
            raise LedgerRuleError("invitation_revoked", "This invitation was revoked.", status=410)
        if invitation.accepted_at is not None:
            raise LedgerRuleError(
                "invitation_used", "This invitation was already used.", status=410
            )
        if invitation.expires_at <= timezone.now():
            raise LedgerRuleError("invitation_expired", "This invitation expired.", status=410)
        if invitation.email and invitation.email.lower() != (user.email or "").lower():
            raise LedgerRuleError(
                "invitation_email_mismatch",
                "This invitation is for another email address.",
                status=403,
            )
        if Membership.objects.filter(ledger_id=invitation.ledger_id, user=user).exists():
            raise LedgerRuleError(
                "already_member", "You are already a member of this ledger.", status=409
            )
        Membership.objects.create(ledger_id=invitation.ledger_id, user=user, role=invitation.role)
        invitation.accepted_by = user
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_by", "accepted_at"])
    return invitation.ledger
