"""Members of a ledger: change a role, remove a member (or leave).

A ledger always keeps an owner: every change that could remove the last one runs under a row
lock on the ledger (SELECT … FOR UPDATE), so two concurrent demotions or departures are
serialized and the second sees the first's result.
"""

from django.db import transaction
from django.utils import timezone

from ledger.models import Ledger, LedgerRole, Membership
from ledger.services.ledger_errors import LAST_OWNER, LedgerRuleError

NOT_A_MEMBER = "This user is not a member of the ledger."


def _locked_membership(*, ledger: Ledger, user_id) -> Membership:
    Ledger.objects.select_for_update().filter(pk=ledger.pk).first()
    membership = Membership.objects.filter(ledger=ledger, user_id=user_id).first()
    if membership is None:
        raise LedgerRuleError("not_found", NOT_A_MEMBER, status=404)
    return membership


def _is_last_owner(membership: Membership) -> bool:
    if membership.role != LedgerRole.OWNER:
        return False
    others = Membership.objects.filter(ledger_id=membership.ledger_id, role=LedgerRole.OWNER)
    return not others.exclude(pk=membership.pk).exists()


def member_role_set(*, ledger: Ledger, user_id, role: str) -> Membership:
    with transaction.atomic():
        membership = _locked_membership(ledger=ledger, user_id=user_id)
        if role != LedgerRole.OWNER and _is_last_owner(membership):
            raise LedgerRuleError("last_owner", LAST_OWNER, status=409)
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def member_remove(*, ledger: Ledger, user_id) -> None:
    """Remove a member (an owner's act) or leave (the member's own)."""
    with transaction.atomic():
        membership = _locked_membership(ledger=ledger, user_id=user_id)
        if _is_last_owner(membership):
            raise LedgerRuleError("last_owner", LAST_OWNER, status=409)
        membership.delete()


def member_depart_everywhere(*, user) -> dict[str, int]:
    """A deleted account leaves every shared ledger at once (their transactions stay).

    Where they were the last owner, ownership passes to the longest-standing editor; with no
    editor, the ledger is marked deleted — gone for its viewers at once, purged with its data
    after ACCOUNT_PURGE_DAYS (`ledger_purge_orphaned`). Each ledger under its own row lock, as
    every other change of its members.
    """
    counts = {"left": 0, "handed_over": 0, "orphaned": 0}
    ledger_ids = Membership.objects.filter(user=user, ledger__personal_for__isnull=True)
    for ledger_id in sorted(ledger_ids.values_list("ledger_id", flat=True)):
        with transaction.atomic():
            ledger = Ledger.objects.select_for_update().get(pk=ledger_id)
            membership = Membership.objects.filter(ledger=ledger, user=user).first()
            if membership is None:  # removed meanwhile
                continue
            if _is_last_owner(membership):
                heir = (
                    Membership.objects.filter(ledger=ledger, role=LedgerRole.EDITOR)
                    .order_by("created_at", "pk")
                    .first()
                )
                if heir is not None:
                    heir.role = LedgerRole.OWNER
                    heir.save(update_fields=["role"])
                    counts["handed_over"] += 1
                else:
                    ledger.deleted_at = timezone.now()
                    ledger.save(update_fields=["deleted_at"])
                    counts["orphaned"] += 1
            membership.delete()
            counts["left"] += 1
    return counts
