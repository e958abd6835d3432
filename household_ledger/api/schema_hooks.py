"""OpenAPI: document the API's error answers on every operation.

drf-spectacular documents what the views declare, usually only the success response. Every
operation can also answer the one error format (`household_ledger.api.exceptions`) with the
codes below; documenting them keeps clients (and schemathesis' status-code conformance check)
honest. Codes an operation already documents are left as they are.
"""

from household_ledger.api.autoschema import RETRY_AFTER_HEADER

# The same component as `household_ledger.api.schema.ErrorSerializer` (views that declare
# their errors use it); defined here too for schemas where no view does.
ERROR_COMPONENT = "Error"

ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error format of the API.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "example": "validation_error"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "Messages per input field at fault.",
                    "additionalProperties": {},
                },
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}

ALWAYS = {
    "400": "Invalid input (`validation_error`, `parse_error`, …).",
    "401": "Missing, invalid or expired token.",
    "403": "Not allowed.",
    "429": "Rate limited; see the `Retry-After` header.",
    "503": "A dependency (the database) is unavailable; see the `Retry-After` header.",
}
WITH_PATH_PARAMETERS = {"404": "No such object (or another user's)."}
PAGINATED = {"404": "No such page (past the last one)."}
WITH_BODY = {
    "413": "The request body is too large.",
    "415": "Unsupported content type: send `application/json`.",
}


RETRY_AFTER_CODES = ("429", "503")


def add_error_responses(result, generator, request, public):
    """POSTPROCESSING_HOOK: add the error responses to every operation."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(ERROR_COMPONENT, ERROR_SCHEMA)
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}

    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "put", "patch", "post", "delete"):
                continue
            codes = dict(ALWAYS)
            if "{" in path:
                codes.update(WITH_PATH_PARAMETERS)
            elif any(p.get("name") == "page" for p in operation.get("parameters", [])):
                codes.update(PAGINATED)
            if "requestBody" in operation:
                codes.update(WITH_BODY)
            responses = operation.setdefault("responses", {})
            for code, description in codes.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
            for code in RETRY_AFTER_CODES:
                responses[code].setdefault("headers", {}).update(RETRY_AFTER_HEADER)
    return result
