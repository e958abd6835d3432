"""Bad and oversized input answers a 4xx JSON error, never a 500 or an HTML page."""

import json

import pytest
from django.core.exceptions import RequestDataTooBig
from django.test import RequestFactory

from household_ledger.api.exceptions import handler400

pytestmark = [pytest.mark.django_db, pytest.mark.urls("household_ledger.tests.echo_urls")]


def _error(response, status, code):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body


def test_valid_json_body_is_parsed(api_client):
    response = api_client.post("/_echo", data=b'{"a": [1, 2]}', content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"data": {"a": [1, 2]}}


@pytest.mark.parametrize(
    "body",
    [b"{", b'{"a": 1,}', b"{'a': 1}", b"NaN", b'{"a": NaN}', b"\xff\xfe", b'{"a": 1} trailing'],
)
def test_malformed_json_is_a_400_parse_error(api_client, body):
    response = api_client.post("/_echo", data=body, content_type="application/json")
    _error(response, 400, "parse_error")


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_deeply_nested_json_is_a_400_not_a_recursion_error(api_client, depth):
    response = api_client.post("/_echo", data=b"[" * depth, content_type="application/json")
    body = _error(response, 400, "parse_error")
    assert "nested too deeply" in body["error"]["message"]

    nested = b'{"a":' * depth + b"1" + b"}" * depth
    response = api_client.post("/_echo", data=nested, content_type="application/json")
    _error(response, 400, "parse_error")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/x-msgpack",
    ],
)
def test_unsupported_content_type_is_a_415(api_client, content_type):
    response = api_client.post("/_echo", data=b"a=1", content_type=content_type)
    body = _error(response, 415, "unsupported_media_type")
    assert content_type.split(";")[0] in body["error"]["message"]


def test_body_over_the_limit_is_a_413_before_it_is_read(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload = json.dumps({"description": "x" * 2000}).encode()

    response = api_client.post("/_echo", data=payload, content_type="application/json")

    body = _error(response, 413, "payload_too_large")
    assert "1000 bytes" in body["error"]["message"]


def test_body_at_the_limit_is_accepted(api_client, settings):
    payload = json.dumps({"d": "x" * 980}).encode()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(payload)

    response = api_client.post("/_echo", data=payload, content_type="application/json")

    assert response.status_code == 200


def test_default_limit_rejects_a_huge_json_document(api_client):
    # 3 MB of one valid JSON document: over the default 2.5 MB.
    payload = json.dumps([{"amount": 1000, "description": "x" * 100}] * 25_000).encode()
    assert len(payload) > 3_000_000

    response = api_client.post("/_echo", data=payload, content_type="application/json")

    _error(response, 413, "payload_too_large")


def test_a_view_may_allow_a_larger_body_of_its_own(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    small_enough = json.dumps({"d": "x" * 5000}).encode()
    too_big = json.dumps({"d": "x" * 20_000}).encode()

    assert (
        api_client.post("/_echo", data=small_enough, content_type="application/json").status_code
        == 413
    )
    ok = api_client.post("/_echo/backup", data=small_enough, content_type="application/json")
    assert ok.status_code == 200
    response = api_client.post("/_echo/backup", data=too_big, content_type="application/json")
    body = _error(response, 413, "payload_too_large")
    assert "10000 bytes" in body["error"]["message"]


def test_invalid_content_length_is_a_400_json_error(api_client):
    response = api_client.generic(
        "POST", "/_echo", data=b"{}", content_type="application/json", CONTENT_LENGTH="abc"
    )
    _error(response, 400, "bad_request")


def test_django_request_data_too_big_is_a_json_413():
    # Django raises RequestDataTooBig itself when request.body/POST is read over the limit;
    # its 400 handler must answer the API's 413, not a generic 400.
    request = RequestFactory().post("/x")
    response = handler400(request, RequestDataTooBig("too big"))
    assert response.status_code == 413
    assert json.loads(response.content)["error"]["code"] == "payload_too_large"


def test_form_post_over_the_limit_to_a_django_view_is_a_json_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/admin/login/", data={"username": "a", "password": "b" * 5000})
    _error(response, 413, "payload_too_large")


def test_unknown_url_is_a_json_404(api_client):
    _error(api_client.get("/no/such/path"), 404, "not_found")
