"""Failing dependencies under a running app, against real services: a private PostgreSQL
cluster, a private redis-server and gunicorn, with real signed session tokens.

- PostgreSQL down: API and non-API requests answer a 503 JSON error, /readyz says so, and the
  same process serves again once it is back; a restart between requests is invisible.
- Redis down: reading and writing transactions goes on (the cache degrades, with a warning).
"""

import json
import uuid

import pytest

from bench.soak import ISSUER, SPA_ORIGIN, make_signing_keys, session_token
from household_ledger.tests.live import (
    Gunicorn,
    PostgresCluster,
    RedisServer,
    app_environment,
    http,
    manage,
)

pytestmark = pytest.mark.slow

# A session cookie makes every request load the session from the database (django_session),
# through SessionMiddleware/AuthenticationMiddleware, outside any DRF view.
SESSION = {"Cookie": "sessionid=0123456789abcdefghijklmnopqrstuv"}


@pytest.fixture(scope="module")
def cluster():
    cluster = PostgresCluster().init().start()
    cluster.createdb()
    yield cluster
    cluster.remove()


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer().start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def keys():
    return make_signing_keys()


@pytest.fixture(scope="module")
def app(cluster, redis_server, keys):
    env = app_environment(
        DATABASE_URL=cluster.url(),
        DATABASE_CONN_MAX_AGE=600,
        REDIS_URL=redis_server.url,
        CLERK_JWT_KEY=keys[1],
        CLERK_ISSUER=ISSUER,
        CLERK_AUTHORIZED_PARTIES=SPA_ORIGIN,
        LOG_LEVEL="WARNING",
    )
    manage("migrate", "--noinput", env=env)
    server = Gunicorn(env, workers=1, threads=2).start()
    yield server
    server.stop()


@pytest.fixture
def api(app, keys):
    """`api(method, path, body=None)` → (status, headers, json) as one user of the ledger."""
    sub = f"user_fault_{uuid.uuid4().hex[:8]}"

    def call(method, path, body=None):
        headers = {"Authorization": f"Bearer {session_token(keys[0], sub)}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        status, response_headers, content = http(
            method, app.base_url + path, body=data, headers=headers
        )
        return status, response_headers, json.loads(content) if content else None

    return call


def _get(app, path, headers=None):
    return http("GET", app.base_url + path, headers=headers)


LUNCH = {"date": "2025-07-25", "description": "점심", "amount": 5400, "type": "expense"}


def test_ready_and_serving_with_everything_up(app, api):
    status, _, body = _get(app, "/readyz")
    assert status == 200, body
    assert json.loads(body)["checks"] == {"database": "ok", "redis": "ok"}
    assert _get(app, "/admin/", SESSION)[0] == 302
    assert api("POST", "/transactions", LUNCH)[0] == 201
    assert api("GET", "/transactions")[0] == 200


def test_database_restart_between_requests_is_invisible(app, cluster, api):
    # given the worker holds persistent connections (CONN_MAX_AGE)
    assert api("POST", "/transactions", LUNCH)[0] == 201

    # when PostgreSQL restarts, killing them
    cluster.restart()

    # then the next requests succeed: CONN_HEALTH_CHECKS reconnects, no app restart
    for _ in range(3):
        assert api("GET", "/transactions")[0] == 200
        assert _get(app, "/admin/", SESSION)[0] == 302
    status, _, created = api("POST", "/transactions", LUNCH)
    assert status == 201
    assert api("GET", f"/transactions/{created['id']}")[0] == 200


def test_database_down_is_a_503_json_and_recovers_when_it_is_back(app, cluster, api):
    status, _, created = api("POST", "/transactions", LUNCH)
    assert status == 201
    cluster.stop()
    try:
        # readiness reports the database
        status, _, body = _get(app, "/readyz")
        assert status == 503
        ready = json.loads(body)
        assert ready["checks"]["database"] == "unavailable"
        assert ready["error"]["code"] == "not_ready"

        # the API: reads and writes answer 503 JSON with Retry-After, no stack trace
        for method, path, body in [
            ("GET", "/transactions", None),
            ("GET", f"/transactions/{created['id']}", None),
            ("POST", "/transactions", LUNCH),
            ("PATCH", f"/transactions/{created['id']}", {"amount": 1}),
            ("GET", "/stats/summary", None),
            ("GET", "/auth/me", None),
        ]:
            status, headers, answer = api(method, path, body)
            assert status == 503, (method, path, answer)
            assert answer["error"]["code"] == "service_unavailable"
            assert headers["Retry-After"] == "5"

        # outside DRF (the session middleware of the admin): 503 JSON too
        status, headers, body = _get(app, "/admin/", SESSION)
        assert status == 503, body[:500]
        assert headers["Content-Type"].startswith("application/json")
        assert json.loads(body)["error"]["code"] == "service_unavailable"
        assert b"Traceback" not in body and b"psycopg" not in body

        # what needs no database still answers
        assert _get(app, "/healthz")[0] == 200
    finally:
        cluster.start()

    # then, with the database back, the same process serves again; nothing was half-written
    assert _get(app, "/readyz")[0] == 200
    assert _get(app, "/admin/", SESSION)[0] == 302
    status, _, row = api("GET", f"/transactions/{created['id']}")
    assert status == 200 and row["amount"] == 5400
    assert api("POST", "/transactions", LUNCH)[0] == 201


def test_redis_down_reads_and_writes_go_on_and_readyz_names_it(app, redis_server, api):
    status, _, created = api("POST", "/transactions", LUNCH)
    assert status == 201
    redis_server.kill()
    try:
        status, _, body = _get(app, "/readyz")
        assert status == 503
        assert json.loads(body)["checks"] == {"database": "ok", "redis": "unavailable"}

        # every transaction operation still works (throttles fail open, cache misses)
        assert api("GET", "/transactions")[0] == 200
        status, _, other = api("POST", "/transactions", LUNCH)
        assert status == 201
        assert api("PATCH", f"/transactions/{created['id']}", {"amount": 7000})[0] == 200
        assert api("DELETE", f"/transactions/{other['id']}")[0] == 204
        assert api("GET", "/stats/summary")[0] == 200
        assert "cache unavailable" in app.log()
    finally:
        redis_server.start()

    assert _get(app, "/readyz")[0] == 200
    status, _, row = api("GET", f"/transactions/{created['id']}")
    assert status == 200 and row["amount"] == 7000
