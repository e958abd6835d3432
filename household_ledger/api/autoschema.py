"""The API's drf-spectacular AutoSchema: each operation documents the headers and statuses its
view really has (the mixins of `household_ledger.api.preconditions` and
`ledger.api.idempotency`), and no internal docstring becomes a client's description.

The statuses every operation can answer (400, 401, 403, 404, 413, 415, 429, 503) are added by
`schema_hooks.add_error_responses`; this class adds what depends on the view:

- a read with a revision ETag: the `ETag` response header, `If-None-Match` and its 304;
- a write that honours `If-Match` (and its detail read's `ETag`): the header and its 412;
- a write that takes `Idempotency-Key`: the header, its 409 and 422.
"""

from drf_spectacular.openapi import AutoSchema

ERROR_REFERENCE = {"$ref": "#/components/schemas/Error"}
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
CONDITIONAL_METHODS = ("PUT", "PATCH", "DELETE")

ETAG_HEADER = {
    "ETag": {
        "schema": {"type": "string"},
        "description": "Send it back in `If-None-Match` (304 while nothing changed) or, on "
        "objects, in `If-Match` (412 if the object changed since).",
    }
}
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 0},
        "description": "Seconds to wait before retrying.",
    }
}


def _header_parameter(name: str, description: str, **schema) -> dict:
    return {
        "in": "header",
        "name": name,
        "required": False,
        "schema": {"type": "string", **schema},
        "description": description,
    }


IF_NONE_MATCH = _header_parameter(
    "If-None-Match",
    "The `ETag` of an earlier answer to the same URL: 304 with no body while nothing it "
    "shows has changed.",
)
IF_MATCH = _header_parameter(
    "If-Match",
    "The `ETag` you read. If the object changed since, the answer is 412 and nothing is "
    "written. Without it the last write wins.",
)
IDEMPOTENCY_KEY = _header_parameter(
    "Idempotency-Key",
    "A unique string per intended write: a retry with the same key and request gets the "
    "first answer back (`Idempotent-Replayed: true`) and writes nothing. Empty = none.",
    maxLength=255,
)


def _error(description: str, headers: dict | None = None) -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": ERROR_REFERENCE}},
    }
    if headers:
        response["headers"] = headers
    return response


class ApiAutoSchema(AutoSchema):
    def get_description(self):
        # Docstrings are written for maintainers; a client sees only extend_schema(description=)
        # (which replaces this method on the operation's own schema class).
        return ""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        # The same view under `/ledgers/{ledger_id}/`: its explicit operation id gets the
        # ledgers' prefix, as generated ids of those paths have, so ids stay unique.
        nested = path.lstrip("/").startswith("ledgers/{ledger_id}/")
        if nested and not operation["operationId"].startswith("ledgers_"):
            operation["operationId"] = f"ledgers_{operation['operationId']}"
        method = method.upper()
        responses = operation.setdefault("responses", {})
        for response in responses.values():
            for content in response.get("content", {}).values():
                self._unwrap_array_examples(content)
        if method == "GET" and self._has_revision_etag():
            self._add_parameter(operation, IF_NONE_MATCH)
            self._add_headers(responses, "200", ETAG_HEADER)
            responses.setdefault(
                "304",
                {
                    "description": "Nothing this answer shows changed since the `ETag` sent in "
                    "`If-None-Match`; no body.",
                    "headers": ETAG_HEADER,
                },
            )
        if self._has_conditional_writes():
            if method == "GET" and "{" in path:
                self._add_headers(responses, "200", ETAG_HEADER)
            if method in CONDITIONAL_METHODS:
                self._add_parameter(operation, IF_MATCH)
                self._add_headers(responses, "200", ETAG_HEADER)
                responses.setdefault(
                    "412",
                    _error(
                        "`precondition_failed`: If-Match does not match the object's ETag; "
                        "nothing was written. `error.current` is the object as it is now, "
                        "`ETag` its tag.",
                        ETAG_HEADER,
                    ),
                )
        if method in WRITE_METHODS and self._has_idempotency_keys():
            self._add_parameter(operation, IDEMPOTENCY_KEY)
            responses.setdefault(
                "409",
                _error("`idempotency_key_in_use`: the first request with this key still runs."),
            )
            responses.setdefault(
                "422",
                _error("`idempotency_key_reused`: this key was used for another request."),
            )
        return operation

    def _has_revision_etag(self) -> bool:
        if not hasattr(self.view, "revision_etag_actions"):
            return False
        actions = self.view.revision_etag_actions
        return actions is None or getattr(self.view, "action", None) in actions

    def _has_conditional_writes(self) -> bool:
        return hasattr(self.view, "render_current")

    def _has_idempotency_keys(self) -> bool:
        return hasattr(self.view, "_idempotency")

    @staticmethod
    def _unwrap_array_examples(content: dict) -> None:
        """drf-spectacular wraps the example of a bare-array answer in a list of its own; ours
        are written whole (several rows), so they are taken as they are."""
        if content.get("schema", {}).get("type") != "array":
            return
        for example in content.get("examples", {}).values():
            value = example.get("value")
            if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
                example["value"] = value[0]

    @staticmethod
    def _add_parameter(operation: dict, parameter: dict) -> None:
        parameters = operation.setdefault("parameters", [])
        if not any(
            p.get("in") == "header" and p.get("name") == parameter["name"] for p in parameters
        ):
            parameters.append(parameter)

    @staticmethod
    def _add_headers(responses: dict, code: str, headers: dict) -> None:
        if code in responses:
            responses[code].setdefault("headers", {}).update(headers)
