"""PostgreSQL unreachable or restarted under a running app: 503 JSON, /readyz says so, and the
app recovers by itself. Against a private PostgreSQL cluster and a real gunicorn."""

import json

import pytest

from household_ledger.tests.live import Gunicorn, PostgresCluster, app_environment, http, manage

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
def app(cluster):
    env = app_environment(DATABASE_URL=cluster.url(), DATABASE_CONN_MAX_AGE=600)
    manage("migrate", "--noinput", env=env)
    server = Gunicorn(env, workers=1, threads=1).start()
    yield server
    server.stop()


def _get(app, path, headers=None):
    status, headers, body = http("GET", app.base_url + path, headers=headers)
    return status, headers, body


def _json(body):
    return json.loads(body)


def test_ready_and_serving_with_the_database_up(app):
    status, _, body = _get(app, "/readyz")
    assert status == 200, body
    assert _json(body)["checks"]["database"] == "ok"
    status, headers, _ = _get(app, "/admin/", SESSION)
    assert status == 302  # to the login page: the session was looked up, none found


def test_database_restart_between_requests_is_invisible(app, cluster):
    # given the worker holds a persistent connection (CONN_MAX_AGE)
    assert _get(app, "/admin/", SESSION)[0] == 302

    # when PostgreSQL restarts, killing that connection
    cluster.restart()

    # then the very next requests succeed: CONN_HEALTH_CHECKS reconnects, no app restart
    assert [_get(app, "/admin/", SESSION)[0] for _ in range(3)] == [302, 302, 302]
    assert _get(app, "/readyz")[0] == 200


def test_database_down_is_a_503_json_and_recovers_when_it_is_back(app, cluster):
    assert _get(app, "/admin/", SESSION)[0] == 302
    cluster.stop()
    try:
        # readiness reports the database
        status, _, body = _get(app, "/readyz")
        assert status == 503
        ready = _json(body)
        assert ready["checks"]["database"] == "unavailable"
        assert ready["error"]["code"] == "not_ready"

        # a request that needs the database outside DRF (session middleware): 503 JSON
        for _ in range(2):
            status, headers, body = _get(app, "/admin/", SESSION)
            assert status == 503, body[:500]
            assert headers["Content-Type"].startswith("application/json")
            assert _json(body)["error"]["code"] == "service_unavailable"
            assert headers["Retry-After"] == "5"
            assert b"Traceback" not in body and b"psycopg" not in body

        # what needs no database still answers
        assert _get(app, "/healthz")[0] == 200
    finally:
        cluster.start()

    # then, with the database back, the same process serves again
    assert _get(app, "/readyz")[0] == 200
    assert _get(app, "/admin/", SESSION)[0] == 302
