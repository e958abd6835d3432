"""The API contract, read from the generated OpenAPI schema: one vocabulary (docs/api.md
"Vocabulary"), every example valid against its own schema, the real statuses and headers on
every operation, and JSON errors whatever raises them."""

import copy
import json
import re
from collections import Counter

import pytest
from django.test import Client, override_settings
from jsonschema import Draft4Validator, FormatChecker
from rest_framework import exceptions

from household_ledger.api import exceptions as api_exceptions  # noqa: F401 - its subclasses
from ledger.api import backup, idempotency, sync  # noqa: F401 - their APIException subclasses
from ledger.tests.factories import RecurringTransactionFactory

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
HEADER = re.compile(r"^[A-Z][A-Za-z]*(-[A-Z][A-Za-z]*)*$")
# Names outside snake_case, each with its reason.
NOT_SNAKE = {
    ("SpaExport", "exportDate"): "the SPA's own backup format spa-v1, kept as the SPA writes it",
}
OPERATIONS = ("get", "put", "patch", "post", "delete")


@pytest.fixture(scope="module")
def schema():
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in OPERATIONS:
                yield path, method, operation


# --- One vocabulary ---------------------------------------------------------------------------


def _property_names(node, owner=""):
    if isinstance(node, dict):
        for name in node.get("properties", {}):
            yield owner, name
        for key, value in node.items():
            yield from _property_names(value, owner)
    elif isinstance(node, list):
        for value in node:
            yield from _property_names(value, owner)


def test_every_property_and_parameter_name_is_snake_case(schema):
    bad = []
    for component, body in schema["components"]["schemas"].items():
        for _, name in _property_names(body):
            if not SNAKE.match(name) and (component, name) not in NOT_SNAKE:
                bad.append(f"{component}.{name}")
    for path, method, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            pattern = HEADER if parameter["in"] == "header" else SNAKE
            if not pattern.match(parameter["name"]):
                bad.append(f"{method} {path} ?{parameter['name']}")
    assert bad == []


def _examples(schema):
    """(where, example value, schema of the value) for every example in the document."""
    for path, method, operation in _operations(schema):
        where = f"{method.upper()} {path}"
        for content_type, content in operation.get("requestBody", {}).get("content", {}).items():
            for name, example in content.get("examples", {}).items():
                yield f"{where} request {content_type} {name}", example["value"], content["schema"]
        for code, response in operation["responses"].items():
            for content in response.get("content", {}).values():
                for name, example in content.get("examples", {}).items():
                    yield f"{where} {code} {name}", example["value"], content["schema"]
        for parameter in operation.get("parameters", []):
            for name, example in parameter.get("examples", {}).items():
                yield f"{where} ?{parameter['name']} {name}", example["value"], parameter["schema"]


def test_every_error_code_in_the_examples_is_snake_case(schema):
    codes = {
        value["error"]["code"]
        for _, value, _ in _examples(schema)
        if isinstance(value, dict) and isinstance(value.get("error"), dict)
    }
    assert codes and all(SNAKE.match(code) for code in codes), codes


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_api_exception_of_ours_has_a_snake_case_code():
    ours = [
        cls
        for cls in _all_subclasses(exceptions.APIException)
        if cls.__module__.split(".")[0] in ("accounts", "ledger", "household_ledger")
    ]
    assert ours
    assert [cls.__name__ for cls in ours if not SNAKE.match(cls.default_code)] == []


# --- Every example validates against its schema ---------------------------------------------


def _json_schema(node):
    """OpenAPI 3.0 → JSON Schema draft 4: `nullable` becomes a null alternative."""
    if isinstance(node, list):
        return [_json_schema(value) for value in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def test_every_example_validates_against_its_schema(schema):
    components = _json_schema(copy.deepcopy(schema["components"]))
    failures = []
    checked = 0
    for where, value, value_schema in _examples(schema):
        root = {**_json_schema(value_schema), "components": components}
        validator = Draft4Validator(root, format_checker=FormatChecker())
        checked += 1
        failures += [f"{where}: {error.message}" for error in validator.iter_errors(value)]
    assert checked > 40
    assert failures == [], "\n".join(failures)


# --- Statuses and headers as the server answers them ------------------------------------------


def test_every_operation_documents_its_errors_in_the_one_format(schema):
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        expected = {"400", "429", "503"}
        if "security" in operation and {} not in operation["security"]:
            expected |= {"401", "403"}
        if "{" in path:
            expected.add("404")
        if "requestBody" in operation:
            expected |= {"413", "415"}
        assert expected <= set(responses), (method, path, expected - set(responses))
        for code in ("429", "503"):
            assert "Retry-After" in responses[code]["headers"], (method, path, code)
        for code, response in responses.items():
            if code.startswith(("4", "5")):
                assert "content" in response, (method, path, code)
                schema_of = response["content"]["application/json"]["schema"]
                assert "$ref" in schema_of, (method, path, code)


def test_reads_with_a_revision_etag_document_it_and_the_304(schema):
    for path in (
        "/transactions",
        "/transactions/by-date/{date}",
        "/transactions/by-month/{year}/{month}",
        "/categories",
        "/recurring",
        "/stats/monthly/{year}/{month}",
        "/stats/trend",
        "/budgets/{month}",
    ):
        operation = schema["paths"][path]["get"]
        assert "ETag" in operation["responses"]["200"]["headers"], path
        assert "304" in operation["responses"], path
        assert "If-None-Match" in {p["name"] for p in operation["parameters"]}, path


def test_conditional_writes_document_if_match_and_the_412(schema):
    item = schema["paths"]["/transactions/{id}"]
    assert "ETag" in item["get"]["responses"]["200"]["headers"]
    for method in ("put", "patch", "delete"):
        operation = item[method]
        assert "If-Match" in {p["name"] for p in operation["parameters"]}, method
        assert "412" in operation["responses"], method


def test_every_idempotent_write_documents_the_key_and_its_conflicts(schema):
    writes = [
        (path, method, operation)
        for path, method, operation in _operations(schema)
        if method != "get" and path != "/auth/webhook"
    ]
    assert len(writes) > 10
    for path, method, operation in writes:
        names = {p["name"] for p in operation.get("parameters", [])}
        assert "Idempotency-Key" in names, (method, path)
        assert {"409", "422"} <= set(operation["responses"]), (method, path)


def test_no_operation_description_is_an_internal_docstring(schema):
    text = json.dumps(schema)
    for leak in ("GenericViewSet", "For a view", "must come before", "dispatch"):
        assert leak not in text, leak


def test_no_component_inherits_a_base_classs_docstring_as_its_description(schema):
    # A component's description is its own class's docstring; one a base class lends its
    # subclasses shows up on many unrelated components (a request and its PATCH twin share one).
    descriptions = Counter(
        component["description"]
        for component in schema["components"]["schemas"].values()
        if component.get("description")
    )
    assert [text for text, count in descriptions.items() if count > 2] == []


def test_the_export_and_the_import_errors_are_typed(schema):
    export = schema["paths"]["/backup/export"]["get"]["responses"]["200"]
    assert export["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BackupExport"
    }
    own = schema["components"]["schemas"]["OwnExport"]["properties"]
    assert {"exported_at", "time_zone", "transactions", "categories"} <= set(own)
    responses = schema["paths"]["/backup/import"]["post"]["responses"]
    invalid = responses["400"]["content"]["application/json"]["schema"]["$ref"]
    detail = schema["components"]["schemas"][invalid.rsplit("/", 1)[1]]["properties"]["error"]
    assert (
        "report" in schema["components"]["schemas"][detail["$ref"].rsplit("/", 1)[1]]["properties"]
    )
    assert "content" in responses["413"]


# --- JSON whatever raises the error ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", ["/transactions/undefined", "/nowhere", "/recurring/1/nope"])
def test_an_unmatched_path_is_the_json_404_with_debug_on_or_off(auth_client, user, debug, path):
    with override_settings(DEBUG=debug):
        response = auth_client(user).get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_the_admin_without_its_slash_still_redirects(client):
    response = client.get("/admin")
    assert (response.status_code, response["Location"]) == (301, "/admin/")


@pytest.mark.django_db
def test_a_method_a_route_does_not_have_is_a_json_405(auth_client, user):
    response = auth_client(user).put("/categories/suggest", {}, content_type="application/json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_a_csrf_failure_is_a_json_403():
    response = Client(enforce_csrf_checks=True).post(
        "/admin/login/", {"username": "a", "password": "b"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "name"),
    [("/stats/summary?status=", "status"), ("/stats/category?type=", "type")],
)
def test_an_empty_stats_parameter_is_a_400_naming_it(auth_client, user, path, name):
    response = auth_client(user).get(path)
    assert response.status_code == 400
    assert name in response.json()["error"]["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize("size", ["abc", "0", "-1", "1.5"])
def test_a_page_size_that_is_not_a_positive_whole_number_is_a_400(auth_client, user, size):
    response = auth_client(user).get("/transactions", {"page_size": size})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"page_size": ["Enter a page size from 1."]}


@pytest.mark.django_db
def test_a_patch_on_a_post_only_route_with_a_key_is_a_405_not_a_422(auth_client, user):
    rule = RecurringTransactionFactory(user=user)
    client = auth_client(user)
    path = f"/recurring/{rule.pk}/generate"
    client.post(path, HTTP_IDEMPOTENCY_KEY="k1")
    response = client.patch(path, {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 405
