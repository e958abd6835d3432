"""`/ledgers`, their members and invitations, and `/invitations/{code}/accept`.

Thin views over `ledger.services.{shared_ledgers,memberships,invitations}` and
`ledger.selectors.ledgers`. A non-member gets 404 for anything under `/ledgers/{id}` (as for
a missing ledger); a write that needs an owner is 403 for an editor or viewer.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from household_ledger.api.rows import RowSerializer
from household_ledger.api.schema import VALIDATION_ERROR, error_response
from ledger.api.idempotency import IdempotentWriteMixin
from ledger.models import LedgerRole
from ledger.selectors.ledgers import (
    invitation_pending_list,
    ledger_for_member,
    ledger_list,
    ledger_row,
    member_list,
)
from ledger.services.invitations import invitation_accept, invitation_create, invitation_revoke
from ledger.services.ledger_errors import LedgerRuleError
from ledger.services.ledgers import personal_ledger
from ledger.services.memberships import member_remove, member_role_set
from ledger.services.shared_ledgers import ledger_create, ledger_delete, ledger_rename

FORBIDDEN = error_response(
    "Only an owner of the ledger may do this.",
    example={"error": {"code": "permission_denied", "message": "Only an owner may do this."}},
)
RULE_REFUSED = error_response(
    "A rule refused the change: `personal_ledger`, `last_owner`, `already_member`, "
    "`invitation_expired`, `invitation_used`, `invitation_revoked`, "
    "`invitation_email_mismatch`.",
    example={"error": {"code": "last_owner", "message": "A ledger must keep at least one owner."}},
)
NOT_FOUND = error_response(
    "No such ledger, or you are not a member (`ledger_not_found`); or no such member or "
    "invitation (`not_found`).",
    example={"error": {"code": "ledger_not_found", "message": "No ledger matches the given id."}},
)
ONLY_OWNER = "Only an owner of the ledger may do this."


class RuleRefused(exceptions.APIException):
    def __init__(self, error: LedgerRuleError):
        super().__init__(detail=error.message, code=error.code)
        self.status_code = error.status


class LedgerAPIView(IdempotentWriteMixin, APIView):
    """Renders a service's or selector's LedgerRuleError in the one error format; writes take
    `Idempotency-Key` like every other write."""

    def handle_exception(self, exc):
        if isinstance(exc, LedgerRuleError):
            exc = RuleRefused(exc)
        return super().handle_exception(exc)


def _member_ledger(request, ledger_id, *, owner=False):
    ledger, role = ledger_for_member(user=request.user, ledger_id=ledger_id)
    if owner and role != LedgerRole.OWNER:
        raise exceptions.PermissionDenied(ONLY_OWNER)
    return ledger


# --- renderings ---------------------------------------------------------------------------------


class LedgerSerializer(RowSerializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=LedgerRole.choices, help_text="Your role.")
    member_count = serializers.IntegerField()
    is_personal = serializers.BooleanField(
        help_text="Your personal ledger: the one the top-level paths act on; never shared."
    )
    created_at = serializers.DateTimeField()


class MemberSerializer(RowSerializer):
    user_id = serializers.UUIDField()
    email = serializers.CharField(source="user.email")
    role = serializers.ChoiceField(choices=LedgerRole.choices)
    joined_at = serializers.DateTimeField(source="created_at")


class InvitationSerializer(RowSerializer):
    code = serializers.CharField(
        help_text="The single-use code to share; accept it at POST /invitations/{code}/accept."
    )
    role = serializers.ChoiceField(choices=LedgerRole.choices)
    email = serializers.CharField(help_text="Only a user with this email may accept; '' = anyone.")
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


class LedgerInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, trim_whitespace=True)


class RoleInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=LedgerRole.choices)


class InvitationInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=LedgerRole.choices)
    email = serializers.EmailField(required=False, default="", allow_blank=True)


def _valid(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- views --------------------------------------------------------------------------------------


class LedgerListView(LedgerAPIView):
    @extend_schema(tags=["ledgers"], responses={200: LedgerSerializer(many=True)})
    def get(self, request):
        personal_ledger(user=request.user, loaded_with_user=True)  # created on first sight
        return Response(LedgerSerializer(ledger_list(user=request.user), many=True).data)

    @extend_schema(
        tags=["ledgers"],
        request=LedgerInputSerializer,
        responses={201: LedgerSerializer, 400: VALIDATION_ERROR},
    )
    def post(self, request):
        data = _valid(LedgerInputSerializer, request)
        ledger = ledger_create(user=request.user, name=data["name"])
        row = ledger_row(user=request.user, ledger_id=ledger.pk)
        return Response(LedgerSerializer(row).data, status=status.HTTP_201_CREATED)


class LedgerDetailView(LedgerAPIView):
    @extend_schema(tags=["ledgers"], responses={200: LedgerSerializer, 404: NOT_FOUND})
    def get(self, request, ledger_id):
        return Response(LedgerSerializer(ledger_row(user=request.user, ledger_id=ledger_id)).data)

    @extend_schema(
        tags=["ledgers"],
        request=LedgerInputSerializer,
        responses={200: LedgerSerializer, 400: VALIDATION_ERROR, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def patch(self, request, ledger_id):
        ledger = _member_ledger(request, ledger_id, owner=True)
        ledger_rename(ledger=ledger, name=_valid(LedgerInputSerializer, request)["name"])
        return Response(LedgerSerializer(ledger_row(user=request.user, ledger_id=ledger_id)).data)

    @extend_schema(
        tags=["ledgers"],
        responses={204: None, 400: RULE_REFUSED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def delete(self, request, ledger_id):
        ledger_delete(ledger=_member_ledger(request, ledger_id, owner=True))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberListView(LedgerAPIView):
    @extend_schema(tags=["ledgers"], responses={200: MemberSerializer(many=True), 404: NOT_FOUND})
    def get(self, request, ledger_id):
        ledger = _member_ledger(request, ledger_id)
        return Response(MemberSerializer(member_list(ledger=ledger), many=True).data)


class MemberDetailView(LedgerAPIView):
    @extend_schema(
        tags=["ledgers"],
        request=RoleInputSerializer,
        responses={
            200: MemberSerializer,
            400: VALIDATION_ERROR,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: RULE_REFUSED,
        },
    )
    def patch(self, request, ledger_id, user_id):
        ledger = _member_ledger(request, ledger_id, owner=True)
        role = _valid(RoleInputSerializer, request)["role"]
        member_role_set(ledger=ledger, user_id=user_id, role=role)
        row = member_list(ledger=ledger).get(user_id=user_id)
        return Response(MemberSerializer(row).data)

    @extend_schema(
        tags=["ledgers"],
        description="An owner removes a member; a member removes themself (leaves).",
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND, 409: RULE_REFUSED},
    )
    def delete(self, request, ledger_id, user_id):
        is_self = user_id == request.user.pk
        ledger = _member_ledger(request, ledger_id, owner=not is_self)
        member_remove(ledger=ledger, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListView(LedgerAPIView):
    @extend_schema(
        tags=["ledgers"],
        description="The pending invitations (not accepted, revoked or expired); owners only.",
        responses={200: InvitationSerializer(many=True), 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request, ledger_id):
        ledger = _member_ledger(request, ledger_id, owner=True)
        rows = invitation_pending_list(ledger=ledger)
        return Response(InvitationSerializer(rows, many=True).data)

    @extend_schema(
        tags=["ledgers"],
        request=InvitationInputSerializer,
        responses={
            201: InvitationSerializer,
            400: error_response(
                "Invalid input (naming the field), or a personal ledger (`personal_ledger`)."
            ),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request, ledger_id):
        ledger = _member_ledger(request, ledger_id, owner=True)
        data = _valid(InvitationInputSerializer, request)
        invitation = invitation_create(
            ledger=ledger, created_by=request.user, role=data["role"], email=data["email"]
        )
        row = {key: getattr(invitation, key) for key in InvitationSerializer.row_keys()}
        return Response(InvitationSerializer(row).data, status=status.HTTP_201_CREATED)


class InvitationDetailView(LedgerAPIView):
    @extend_schema(tags=["ledgers"], responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND})
    def delete(self, request, ledger_id, code):
        invitation_revoke(ledger=_member_ledger(request, ledger_id, owner=True), code=code)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptView(LedgerAPIView):
    @extend_schema(
        tags=["ledgers"],
        request=None,
        responses={
            200: LedgerSerializer,
            403: RULE_REFUSED,
            404: NOT_FOUND,
            409: RULE_REFUSED,
            410: RULE_REFUSED,
        },
    )
    def post(self, request, code):
        ledger = invitation_accept(user=request.user, code=code)
        return Response(LedgerSerializer(ledger_row(user=request.user, ledger_id=ledger.pk)).data)
