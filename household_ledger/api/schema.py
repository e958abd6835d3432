"""OpenAPI pieces shared by the API's views: the one error format, as drf-spectacular sees it."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()),
                    required=False,
                    help_text="Present when specific input fields are at fault: field → messages.",
                ),
                "non_field_errors": serializers.ListField(
                    child=serializers.CharField(),
                    required=False,
                    help_text="Messages about the input as a whole, when fields are named too.",
                ),
                "current": serializers.JSONField(
                    required=False,
                    help_text="412 `precondition_failed` only: the object as it is now.",
                ),
            },
        )
    },
)


def error_response(description: str, *, example: dict | None = None) -> OpenApiResponse:
    examples = [OpenApiExample(description, value=example, response_only=True)] if example else []
    return OpenApiResponse(ErrorSerializer, description=description, examples=examples)


NOT_FOUND = error_response(
    "Not found — also the answer for another user's id.",
    example={"error": {"code": "not_found", "message": "Not found."}},
)
VALIDATION_ERROR = error_response(
    "Invalid input; `fields` names each field at fault.",
    example={
        "error": {
            "code": "validation_error",
            "message": "amount: Ensure this value is greater than 0.",
            "fields": {"amount": ["Ensure this value is greater than 0."]},
        }
    },
)
