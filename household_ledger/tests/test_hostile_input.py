"""Hostile and unlucky input against the production server: gunicorn with `gunicorn.conf.py`,
DEBUG off, a private PostgreSQL cluster, real signed session tokens and webhooks (issue 19).

- Dates: every date outside 1900-01-01 … 2100-12-31 is a 400 naming the field, wherever it
  comes in (body, path, query), and nothing near the edges overflows into a 500; an export
  starting on 1900-01-01 streams completely and imports again.
- The category cap holds under parallel creates.
- Data errors are 4xx, not an outage: a token `sub` with NUL, a webhook with NUL or nested
  too deeply.
- The HTTP edge: what gunicorn answers itself (414, 431, 400) is the API's JSON error, a token
  too long for the application is the application's 401, and an answer given before a large
  body was read says `Connection: close`, so no client reuses a connection gunicorn drops.
"""

import concurrent.futures
import contextlib
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from django.conf import settings
from svix.webhooks import Webhook

from accounts.tests.keys import SESSION_KEYS
from accounts.tests.tokens import SPA_ORIGIN, mint_token
from household_ledger.tests.live import (
    REPO,
    Gunicorn,
    PostgresCluster,
    app_environment,
    manage,
)
from ledger.services.categories import MAX_CATEGORIES_PER_USER
from ledger.tests.backup_support import dexie_document

pytestmark = pytest.mark.slow

TEST_ISSUER = "https://clerk.test.example"  # the `iss` of accounts/tests/tokens.py's tokens
RANGE_MESSAGE = "Enter a date from 1900-01-01 to 2100-12-31."
YEAR_MESSAGE = "Enter a year from 1900 to 2100."


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn as the image runs it (its config file, 2 workers × 4 threads) on a private
    PostgreSQL; the tests' Redis for throttles and the cache."""
    cluster = PostgresCluster().init().start()
    cluster.createdb()
    env = app_environment(
        DATABASE_URL=cluster.url(),
        DATABASE_CONN_MAX_AGE=60,
        PROMETHEUS_MULTIPROC_DIR=tmp_path_factory.mktemp("prometheus"),
        CLERK_JWT_KEY=SESSION_KEYS.public_pem,
        CLERK_ISSUER=TEST_ISSUER,
        CLERK_AUTHORIZED_PARTIES=SPA_ORIGIN,
        CLERK_WEBHOOK_SIGNING_SECRET=settings.CLERK_WEBHOOK_SIGNING_SECRET,
    )
    manage("migrate", "--noinput", env=env)
    gunicorn = Gunicorn(env, workers=2, threads=4, config=REPO / "gunicorn.conf.py").start()
    try:
        _wait_until_ready(gunicorn)
        yield gunicorn
    finally:
        gunicorn.stop()
        cluster.remove()


def _wait_until_ready(gunicorn):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(gunicorn.base_url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn never became ready:\n{gunicorn.log()}")


class Person:
    """One signed-in user of the running server: `person.call(method, path, json=…)`."""

    def __init__(self, server):
        self.base_url = server.base_url
        self.sub = f"user_hostile_{uuid.uuid4().hex[:12]}"

    def headers(self):
        return {"Authorization": f"Bearer {mint_token(sub=self.sub)}"}

    def call(self, method, path, **kwargs) -> httpx.Response:
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        return httpx.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)


@pytest.fixture
def person(server):
    return Person(server)


@pytest.fixture
def person_with_a_rule(person):
    """A user with a monthly rule in effect for ever (projections reach any month)."""
    rule = {
        "template_name": "월세",
        "description": "월세",
        "amount": 550000,
        "type": "expense",
        "frequency": "monthly",
        "start_date": "2025-01",
        "end_date": None,
        "day_of_month": 31,
        "is_active": True,
        "is_variable_amount": False,
    }
    created = person.call("POST", "/recurring", json=rule)
    assert created.status_code == 201, created.text
    return person


def assert_error(response, status, fields=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    if fields is not None:
        assert error["fields"] == fields
    return error


LUNCH = {"description": "점심", "amount": 5400, "type": "expense"}


# --- dates: one range, enforced at the edge ----------------------------------------------------


@pytest.mark.parametrize(
    "date",
    [
        "9999-12-31T23:59:59.999Z",  # year 10000 in Seoul
        "0001-01-01T00:00:00+14:00",  # year 0 in Seoul
        "0001-01-01",
        "9999-12-31",
    ],
)
def test_a_transaction_dated_outside_the_range_is_a_400_naming_date(person, date):
    response = person.call("POST", "/transactions", json={**LUNCH, "date": date})

    assert_error(response, 400, {"date": [RANGE_MESSAGE]})
    assert person.call("GET", "/transactions").json()["count"] == 0


def test_the_day_9999_12_31_with_an_active_rule_is_a_400_naming_date(person_with_a_rule):
    response = person_with_a_rule.call("GET", "/transactions/by-date/9999-12-31")

    assert_error(response, 400, {"date": [RANGE_MESSAGE]})


def test_the_month_9999_12_with_an_active_rule_is_a_400_naming_year(person_with_a_rule):
    response = person_with_a_rule.call("GET", "/transactions/by-month/9999/12")

    assert_error(response, 400, {"year": [YEAR_MESSAGE]})


def test_monthly_stats_for_9999_12_with_the_projection_are_a_400_naming_year(person_with_a_rule):
    response = person_with_a_rule.call(
        "GET", "/stats/monthly/9999/12", params={"include_projected": "true"}
    )

    assert_error(response, 400, {"year": [YEAR_MESSAGE]})


def test_assets_as_of_the_last_instant_of_9999_are_a_400_naming_as_of(person):
    response = person.call("GET", "/stats/assets", params={"as_of": "9999-12-31T23:59:59Z"})

    assert list(assert_error(response, 400)["fields"]) == ["as_of"]


def test_a_summary_of_9999_is_a_400_naming_both_ends(person):
    params = {"date_from": "9999-01-01", "date_to": "9999-12-31T20:00:00Z"}
    response = person.call("GET", "/stats/summary", params=params)

    assert sorted(assert_error(response, 400)["fields"]) == ["date_from", "date_to"]


def test_a_rule_starting_in_9999_12_is_a_400_naming_start_date(person):
    rule = {
        "template_name": "월세",
        "amount": 550000,
        "type": "expense",
        "frequency": "monthly",
        "start_date": "9999-12",
        "day_of_month": 25,
    }
    response = person.call("POST", "/recurring", json=rule)

    assert list(assert_error(response, 400)["fields"]) == ["start_date"]
    assert person.call("GET", "/recurring").json()["count"] == 0


def test_an_spa_export_streams_completely_and_imports_again_whatever_dates_were_sent(
    server, person
):
    # given rows on the first and the last day of the range, and one sent for 0001-01-01
    # (before the range was enforced it was kept, and the export aborted after 70 bytes)
    sent = [
        person.call("POST", "/transactions", json={**LUNCH, "date": date, "amount": amount})
        for date, amount in (("1900-01-01", 5400), ("2100-12-31", 100), ("0001-01-01", 7))
    ]
    assert [response.status_code for response in sent[:2]] == [201, 201]

    # when the ledger is exported in the SPA's format
    exported = person.call("GET", "/backup/export", params={"format": "spa-v1"})

    # then the stream is whole, and another user imports it into the same ledger
    assert exported.status_code == 200
    document = json.loads(exported.content)
    assert len(document["transactions"]) == 2
    other = Person(server)
    imported = other.call(
        "POST",
        "/backup/import",
        content=exported.content,
        headers={"Content-Type": "application/json"},
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"]["transactions"] == 2
    first_day = other.call("GET", "/transactions/by-date/1900-01-01").json()
    assert [(row["description"], row["amount"]) for row in first_day] == [("점심", 5400)]
    assets = [p.call("GET", "/stats/assets").json() for p in (person, other)]
    assert assets[0] == assets[1]


# --- the category cap under concurrency --------------------------------------------------------


def test_sixteen_parallel_category_creates_at_195_leave_exactly_200(person):
    # given five short of the cap (imported from a browser dump: one request)
    rows = [
        {"id": n, "name": f"분류 {n}", "emoji": "📝"} for n in range(MAX_CATEGORIES_PER_USER - 5)
    ]
    imported = person.call(
        "POST", "/backup/import", json=dexie_document({"categories": rows, "transactions": []})
    )
    assert imported.json()["created"]["categories"] == MAX_CATEGORIES_PER_USER - 5, imported.text
    start = threading.Barrier(16)

    def create_at_once(number):
        start.wait()
        response = person.call("POST", "/categories", json={"name": f"새 분류 {number}"})
        return response.status_code

    # when sixteen arrive at once (8 served in parallel by 2 workers × 4 threads)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(create_at_once, range(16)))

    # then exactly the cap, the rest refused with a 400
    assert sorted(statuses) == [201] * 5 + [400] * 11
    categories = person.call("GET", "/categories").json()  # defaults and own, not paged
    assert len([c for c in categories if not c["is_default"]]) == MAX_CATEGORIES_PER_USER


# --- data errors are not an outage -------------------------------------------------------------


def test_a_token_whose_sub_holds_a_nul_is_a_401_not_a_503(server):
    token = mint_token(sub="user_2abc\x00")
    response = httpx.get(server.base_url + "/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert assert_error(response, 401)["code"] == "token_invalid"


_webhook_ids = iter(range(1, 1_000_000))


def deliver(server, body: str) -> httpx.Response:
    """POST a webhook body signed the way Svix signs it."""
    msg_id = f"msg_hostile_{uuid.uuid4().hex[:8]}_{next(_webhook_ids)}"
    now = datetime.now(tz=UTC)
    signature = Webhook(settings.CLERK_WEBHOOK_SIGNING_SECRET).sign(msg_id, now, body)
    headers = {
        "Content-Type": "application/json",
        "svix-id": msg_id,
        "svix-timestamp": str(int(now.timestamp())),
        "svix-signature": signature,
    }
    return httpx.post(
        server.base_url + "/auth/webhook", content=body.encode(), headers=headers, timeout=30
    )


def user_updated(clerk_user_id, email):
    return {
        "object": "event",
        "type": "user.updated",
        "timestamp": int(time.time() * 1000),
        "data": {
            "object": "user",
            "id": clerk_user_id,
            "primary_email_address_id": "idn_primary",
            "email_addresses": [{"id": "idn_primary", "email_address": email}],
            "created_at": 1_721_000_000_000,
            "updated_at": int(time.time() * 1000),
        },
    }


def test_a_signed_user_updated_with_a_nul_in_the_email_is_a_400_and_changes_nothing(server, person):
    # given the user, with an email the webhook gave
    assert deliver(server, json.dumps(user_updated(person.sub, "kept@example.com"))).is_success
    assert person.call("GET", "/auth/me").json()["email"] == "kept@example.com"

    # when an update carries a NUL
    response = deliver(server, json.dumps(user_updated(person.sub, "evil\x00@example.com")))

    # then a 400 (not a 503 that Svix would retry for days), and the email is kept
    assert_error(response, 400, {"body": ["The event contains a NUL (\\u0000) character."]})
    assert person.call("GET", "/auth/me").json()["email"] == "kept@example.com"


def test_a_signed_webhook_nested_too_deeply_is_a_400(server):
    depth = 100_000
    body = '{"type": "user.updated", "data": ' + "[" * depth + "]" * depth + "}"

    response = deliver(server, body)

    assert_error(response, 400, {"body": ["The body is nested too deeply."]})


# --- the HTTP edge: gunicorn's own answers and connection handling ------------------------------


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def error(self) -> dict:
        assert self.headers["content-type"].startswith("application/json"), self
        return json.loads(self.body)["error"]


def connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.settimeout(10)
    return sock


def read_answer(sock) -> RawAnswer:
    """One HTTP/1.1 answer with a Content-Length, read off the socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a whole answer head: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed within the body: {body!r}")
        body += chunk
    return RawAnswer(int(status_line.split()[1]), headers, body[:length])


def exchange(server, request: bytes) -> RawAnswer:
    with connect(server) as sock:
        sock.sendall(request)
        return read_answer(sock)


def closed_by_server(sock, timeout=5.0) -> bool:
    """Whether the server closes the connection (without sending more) within `timeout`."""
    sock.settimeout(timeout)
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def get(path: str, *headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode()


def post(path: str, body: bytes, *headers: str, length: int | None = None) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {len(body) if length is None else length}",
        *headers,
        "",
        "",
    ]
    return "\r\n".join(lines).encode() + body


def test_a_request_line_over_the_limit_is_a_414_json_error(server):
    answer = exchange(server, get("/healthz?pad=" + "a" * 9000))

    assert answer.status == 414
    assert answer.headers["connection"] == "close"
    assert answer.error() == {
        "code": "uri_too_long",
        "message": "The request line (method, path and query) is longer than 8190 bytes.",
    }


def test_a_query_of_6000_bytes_reaches_the_application(server):
    # over gunicorn's default request line limit (4,094), within the configured maximum
    answer = exchange(server, get("/healthz?pad=" + "a" * 6000))

    assert answer.status == 200
    assert json.loads(answer.body) == {"status": "ok"}


def test_a_header_over_the_limit_is_a_431_json_error(server):
    answer = exchange(server, get("/healthz", "X-Pad: " + "a" * 20_000))

    assert answer.status == 431
    assert answer.headers["connection"] == "close"
    assert answer.error()["code"] == "request_header_fields_too_large"


def test_more_than_100_headers_is_a_431_json_error(server):
    answer = exchange(server, get("/healthz", *(f"X-Pad-{n}: 1" for n in range(120))))

    assert answer.status == 431
    assert answer.error()["code"] == "request_header_fields_too_large"


def test_a_token_over_8_kib_is_the_applications_401_not_a_431(server):
    # the header line is over gunicorn's default field size (8,190): the limit was raised so
    # that the application's own check answers, with its challenge
    token = mint_token(sub="user_hostile_big", claims={"pad": "x" * 10 * 1024})
    answer = exchange(server, get("/auth/me", f"Authorization: Bearer {token}"))

    assert answer.status == 401
    assert answer.error()["code"] == "token_invalid"
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


@pytest.mark.parametrize("length", ["abc", "-1", "1e3"])
def test_a_content_length_that_is_not_a_number_is_a_400_json_error(server, length):
    request = get("/transactions").replace(b"GET", b"POST", 1)
    answer = exchange(server, request[:-2] + f"Content-Length: {length}\r\n\r\n".encode())

    assert answer.status == 400
    assert answer.headers["connection"] == "close"
    assert answer.error() == {
        "code": "bad_request",
        "message": "Invalid HTTP Header: 'CONTENT-LENGTH'",
    }


def test_two_content_lengths_are_a_400_json_error(server):
    answer = exchange(server, post("/transactions", b"{}", "Content-Length: 3"))

    assert answer.status == 400
    assert answer.error()["code"] == "bad_request"


def test_a_malformed_request_line_is_a_400_json_error(server):
    answer = exchange(server, b"GET /healthz HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n")

    assert answer.status == 400
    assert answer.headers["connection"] == "close"
    assert answer.error()["code"] == "bad_request"


def test_an_early_413_says_connection_close_and_closes_the_connection(server, person):
    # given a body declared over the limit, of which only the start has been sent
    declared = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    auth = "Authorization: " + person.headers()["Authorization"]
    with connect(server) as sock:
        sock.sendall(post("/transactions", b"{" * 1024, auth, length=declared))

        # when the application refuses it from its Content-Length
        answer = read_answer(sock)

        # then the answer is the JSON 413 and says the connection ends, and it does
        assert answer.status == 413
        assert answer.error()["code"] == "payload_too_large"
        assert answer.headers["connection"] == "close"
        # a client that writes its next request on the socket anyway gets no answer at all,
        # not part of one
        with contextlib.suppress(OSError):
            sock.sendall(get("/healthz"))
        assert closed_by_server(sock)
    assert exchange(server, get("/healthz")).status == 200


def test_after_an_early_413_the_clients_next_request_works(server, person):
    with httpx.Client(base_url=server.base_url, headers=person.headers(), timeout=30) as client:
        refused = client.post(
            "/transactions",
            content=b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
            headers={"Content-Type": "application/json"},
        )
        assert refused.status_code == 413
        assert refused.headers["Connection"] == "close"

        assert client.get("/healthz").status_code == 200


def test_an_answer_before_a_large_body_is_read_says_connection_close(server):
    # 100 KB the application never reads (no token: a 401 before parsing): more than
    # gunicorn drains before reusing a connection
    with connect(server) as sock:
        sock.sendall(post("/transactions", b" " * 100_000))
        answer = read_answer(sock)

        assert answer.status == 401
        assert answer.headers["connection"] == "close"
        assert closed_by_server(sock)


def test_a_chunked_body_says_connection_close(server):
    # Django does not read a chunked body under WSGI: gunicorn may not drain it either
    chunk = b" " * 50_000
    body = b"%x\r\n%s\r\n" % (len(chunk), chunk) * 2 + b"0\r\n\r\n"
    request = (
        b"POST /transactions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + body
    )
    with connect(server) as sock:
        sock.sendall(request)
        answer = read_answer(sock)

        assert answer.headers["connection"] == "close"
        assert closed_by_server(sock)


def test_a_small_unread_body_keeps_the_connection_for_the_next_request(server):
    # just under what gunicorn drains: the connection stays usable
    with connect(server) as sock:
        sock.sendall(post("/transactions", b" " * (64 * 1024 - 1)))
        answer = read_answer(sock)
        assert answer.status == 401
        assert answer.headers["connection"] == "keep-alive"

        sock.sendall(get("/healthz"))
        assert read_answer(sock).status == 200
