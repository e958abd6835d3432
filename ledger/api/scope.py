"""Which ledger a request acts on, and whether the caller may: one place for every view.

A top-level path (`/transactions`, `/stats/…`) acts on the caller's personal ledger (created
on first sight); the same view mounted under `/ledgers/<ledger_id>/…` acts on that ledger
when the caller is a member — found with the caller's role by one indexed query. Anyone else
gets 404, as for a missing ledger; a viewer's write is 403.
"""

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from ledger.models import LedgerRole
from ledger.selectors.ledgers import ledger_membership
from ledger.services.ledgers import personal_ledger

LEDGER_KWARG = "ledger_id"


class LedgerNotFound(exceptions.NotFound):
    default_detail = "No such ledger."
    default_code = "ledger_not_found"


class LedgerAccess(BasePermission):
    """Resolves `request.ledger` and `request.ledger_role`; writes need owner or editor."""

    message = "Your role in this ledger (viewer) cannot change its data."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        ledger_id = getattr(view, "ledger_id", None)
        if ledger_id is None:
            # The authentication read the user with its personal ledger (one query for both).
            request.ledger, request.ledger_role = (
                personal_ledger(user=request.user, loaded_with_user=True),
                LedgerRole.OWNER,
            )
        else:
            found = ledger_membership(user=request.user, ledger_id=ledger_id)
            if found is None:
                raise LedgerNotFound
            request.ledger, request.ledger_role = found
        return request.method in SAFE_METHODS or request.ledger_role != LedgerRole.VIEWER


class LedgerScopedMixin:
    """For every view of ledger data: mounted at the top level and under
    `/ledgers/<ledger_id>/`, it reads `ledger_id` off the URL and checks access first."""

    permission_classes = (LedgerAccess,)
    ledger_id = None

    @property
    def ledger(self):
        """The request's ledger; None while drf-spectacular inspects the view (no request)."""
        return getattr(self.request, "ledger", None)

    def dispatch(self, request, *args, **kwargs):
        self.ledger_id = kwargs.pop(LEDGER_KWARG, None)
        return super().dispatch(request, *args, **kwargs)
