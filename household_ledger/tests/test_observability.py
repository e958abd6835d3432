"""JSON request logs with a request id, the protected /metrics, Celery task counters."""

import io
import json
import logging

import pytest

from household_ledger.celery import app as celery_app
from household_ledger.request_log import JsonFormatter, RedactTaskDataFilter, RequestIdFilter

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log():
    """Every record of every logger, formatted as production formats it; returns the lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactTaskDataFilter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield lines
    root.removeHandler(handler)
    root.setLevel(previous_level)


def _request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "household_ledger.request"]


def test_request_id_from_the_client_is_returned_and_logged(client, json_log):
    response = client.get("/healthz", headers={"X-Request-ID": "spa-42.retry-1"})

    assert response["X-Request-ID"] == "spa-42.retry-1"
    (line,) = _request_lines(json_log())
    assert line["request_id"] == "spa-42.retry-1"
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["user_id"] is None
    assert line["level"] == "INFO"
    assert line["time"].endswith("Z")


def test_a_malformed_request_id_is_replaced_by_a_generated_one(client, json_log):
    response = client.get("/healthz", headers={"X-Request-ID": "bad id\n{injected}"})

    generated = response["X-Request-ID"]
    assert len(generated) == 32 and generated.isalnum()
    (line,) = _request_lines(json_log())
    assert line["request_id"] == generated
    assert "injected" not in json.dumps(json_log())


def test_each_request_gets_its_own_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert first != second


def test_records_logged_during_the_request_carry_its_id(client, json_log):
    # django.request logs the 404 after the middleware chain; it still carries the id.
    client.get("/no-such-page", headers={"X-Request-ID": "trace-404"})

    lines = json_log()
    django_line = next(line for line in lines if line["logger"] == "django.request")
    assert django_line["request_id"] == "trace-404"
    assert django_line["request"] == "GET /no-such-page"
    assert _request_lines(lines)[0]["status"] == 404


def test_authenticated_requests_log_the_user_id_and_never_the_credentials(
    auth_client, user, json_log
):
    client = auth_client(user)

    client.get("/api/schema/?token=secret-query-token")

    (line,) = _request_lines(json_log())
    assert line["user_id"] == str(user.pk)
    assert line["path"] == "/api/schema/"
    text = json.dumps(json_log())
    assert "secret-query-token" not in text
    # Whatever credentials the client sends (a signed session token once Clerk auth is on).
    sent = client._credentials.get("HTTP_AUTHORIZATION", "")
    if sent:
        assert sent.split()[-1] not in text


def test_task_arguments_and_results_never_reach_the_log(json_log):
    @celery_app.task(name="tests.observability.amounts")
    def amounts(user_id):
        # A marker no runtime float or id can contain by chance (digits alone could).
        return ["₩amount-list-marker", 32000]

    amounts.apply(args=["user-1"])

    traced = [line for line in json_log() if line["logger"] == "celery.app.trace"]
    assert traced
    text = json.dumps(traced)
    assert "amount-list-marker" not in text and "user-1" not in text
    assert "tests.observability.amounts" in text


# --- /metrics -----------------------------------------------------------------------------------


def test_metrics_are_off_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", "Basic c2NyYXBlOnRva2Vu", "Bearer", "right"]
)
def test_metrics_are_refused_without_the_token(client, settings, authorization):
    settings.METRICS_TOKEN = "right"
    headers = {"Authorization": authorization} if authorization else {}

    response = client.get("/metrics", headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "django_http" not in response.content.decode()


def test_metrics_answer_prometheus_text_with_the_token(client, settings):
    settings.METRICS_TOKEN = "right"
    client.get("/readyz")  # one request through a named view, with database queries

    response = client.get("/metrics", headers={"Authorization": "Bearer right"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    assert 'django_http_requests_latency_seconds_by_view_method_bucket{le="0.01",' in text
    assert 'view="readyz"' in text
    assert 'django_db_execute_total{alias="default",vendor="postgresql"}' in text


def _sample(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_celery_task_successes_and_failures_are_counted(client, settings):
    settings.METRICS_TOKEN = "right"

    @celery_app.task(name="tests.observability.ok")
    def ok():
        return None

    @celery_app.task(name="tests.observability.boom")
    def boom():
        raise RuntimeError("boom")

    def scrape() -> str:
        return client.get("/metrics", headers={"Authorization": "Bearer right"}).content.decode()

    name = "household_ledger_celery_tasks_total"
    before = scrape()
    ok.apply()
    ok.apply()
    boom.apply(throw=False)
    after = scrape()

    def delta(task, state):
        return _sample(after, name, task=task, state=state) - _sample(
            before, name, task=task, state=state
        )

    assert delta("tests.observability.ok", "started") == 2
    assert delta("tests.observability.ok", "succeeded") == 2
    assert delta("tests.observability.ok", "failed") == 0
    assert delta("tests.observability.boom", "failed") == 1
    assert delta("tests.observability.boom", "succeeded") == 0
    duration = "household_ledger_celery_task_duration_seconds_count"
    assert _sample(after, duration, task="tests.observability.ok") >= 2
