"""Rate limits: per user, stricter scopes for backup and the webhook; 429 with Retry-After."""

import logging

import pytest
from django.core.cache import cache
from django.test import override_settings

from household_ledger.api.throttles import UserRateThrottle
from household_ledger.tests.live import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.urls("household_ledger.tests.echo_urls")]


@pytest.fixture
def rates(settings):
    """Low rates for this test: REST_FRAMEWORK is re-read by the throttles at request time."""

    def set_rates(**scopes):
        framework = {**settings.REST_FRAMEWORK}
        framework["DEFAULT_THROTTLE_RATES"] = {
            "user": "1000/min",
            "backup": "1000/min",
            "webhook": "1000/min",
            **scopes,
        }
        settings.REST_FRAMEWORK = framework

    return set_rates


def _assert_throttled(response):
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "throttled"
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 3600
    return retry_after


def test_user_scope_limits_each_user_separately(rates, user, other_user, auth_client):
    rates(user="3/min")
    alice, bob = auth_client(user), auth_client(other_user)

    assert [alice.get("/_echo").status_code for _ in range(3)] == [200, 200, 200]
    _assert_throttled(alice.get("/_echo"))
    # another user's budget is untouched
    assert bob.get("/_echo").status_code == 200


def test_anonymous_requests_are_limited_per_client_ip(rates, api_client):
    rates(user="2/min")
    for _ in range(2):
        assert api_client.get("/_echo", REMOTE_ADDR="10.0.0.1").status_code == 200
    _assert_throttled(api_client.get("/_echo", REMOTE_ADDR="10.0.0.1"))
    assert api_client.get("/_echo", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_forged_x_forwarded_for_does_not_escape_the_ip_limit(rates, api_client):
    rates(user="2/min")
    for n in range(2):
        api_client.get("/_echo", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"1.1.1.{n}")
    response = api_client.get("/_echo", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="9.9.9.9")
    _assert_throttled(response)


def test_behind_a_trusted_proxy_the_forwarded_client_ip_is_used(rates, api_client, settings):
    rates(user="1/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.9"
    first = api_client.get("/_echo", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="forged, 1.1.1.1")
    assert first.status_code == 200
    _assert_throttled(api_client.get("/_echo", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="1.1.1.1"))
    assert (
        api_client.get("/_echo", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="2.2.2.2").status_code
        == 200
    )


def test_backup_scope_is_stricter_and_separate_from_the_user_budget(rates, user, auth_client):
    rates(user="10/min", backup="2/hour")
    client = auth_client(user)

    assert client.post("/_echo/backup", {}, format="json").status_code == 200
    assert client.get("/_echo/backup").status_code == 200
    retry_after = _assert_throttled(client.get("/_echo/backup"))
    assert retry_after > 60  # an hourly budget
    # other endpoints still answer
    assert client.get("/_echo").status_code == 200


def test_webhook_scope_limits_anonymous_senders_by_ip(rates, api_client):
    rates(webhook="2/min")
    for _ in range(2):
        assert api_client.post("/_echo/webhook", {}, format="json").status_code == 200
    _assert_throttled(api_client.post("/_echo/webhook", {}, format="json"))
    other_ip = api_client.post("/_echo/webhook", {}, format="json", REMOTE_ADDR="10.1.1.1")
    assert other_ip.status_code == 200


def test_counters_live_in_the_shared_redis_cache(rates, user, auth_client):
    rates(user="5/min")
    client = auth_client(user)
    client.get("/_echo")
    client.get("/_echo")
    redis = cache._cache.get_client(write=False)
    keys = redis.keys(f"*throttle_user_{user.pk}:*")
    assert len(keys) == 1  # one counter per one-minute window
    assert int(redis.get(keys[0])) == 2
    assert 0 < redis.ttl(keys[0]) <= 61  # gone once its window is over


def test_retry_after_is_the_rest_of_the_window(rates, user, auth_client, monkeypatch):
    rates(user="3/min")
    client = auth_client(user)
    clock = {"now": 1_000_000 * 60 + 42.5}  # 17.5 s before the window ends
    monkeypatch.setattr(UserRateThrottle, "timer", lambda self: clock["now"])

    assert [client.get("/_echo").status_code for _ in range(3)] == [200] * 3
    assert _assert_throttled(client.get("/_echo")) == 18
    clock["now"] += 18  # the next window: a fresh budget
    assert [client.get("/_echo").status_code for _ in range(3)] == [200] * 3
    _assert_throttled(client.get("/_echo"))


def test_a_refused_request_does_not_use_up_the_budget(rates, user, auth_client, monkeypatch):
    rates(user="2/min")
    client = auth_client(user)
    clock = {"now": 2_000_000 * 60 + 1.0}
    monkeypatch.setattr(UserRateThrottle, "timer", lambda self: clock["now"])

    assert [client.get("/_echo").status_code for _ in range(2)] == [200, 200]
    for _ in range(5):  # hammering while throttled …
        _assert_throttled(client.get("/_echo"))
    redis = cache._cache.get_client(write=False)
    [key] = redis.keys(f"*throttle_user_{user.pk}:*")
    assert int(redis.get(key)) == 2  # … counts only the two allowed requests


def test_throttles_fail_open_with_a_warning_when_redis_is_down(rates, user, auth_client, caplog):
    rates(user="1/min")
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with (
        override_settings(
            CACHES={
                "default": {
                    "BACKEND": "household_ledger.cache.FaultTolerantRedisCache",
                    "LOCATION": dead,
                }
            }
        ),
        caplog.at_level(logging.WARNING),
    ):
        client = auth_client(user)
        statuses = [client.get("/_echo").status_code for _ in range(5)]

    assert statuses == [200] * 5  # not throttled, not failed
    assert any("cache unavailable" in r.getMessage() for r in caplog.records)


def test_a_throttle_whose_cache_raises_fails_open(rates, user, auth_client, caplog, monkeypatch):
    rates(user="1/min")

    def broken(*args, **kwargs):
        raise ConnectionError("cache backend exploded")

    monkeypatch.setattr(cache, "count_hit", broken)
    with caplog.at_level(logging.WARNING, logger="household_ledger.api.throttles"):
        response = auth_client(user).get("/_echo")

    assert response.status_code == 200
    assert "failed open" in caplog.text


def test_default_rates_come_from_the_environment_with_sane_defaults():
    from django.conf import settings

    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert set(rates) >= {"user", "backup", "webhook"}
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "household_ledger.api.throttles.UserRateThrottle",
        "household_ledger.api.throttles.ScopedRateThrottle",
    ]


def test_without_redis_the_local_memory_cache_counts_too(rates, user, auth_client):
    """`make run` without REDIS_URL uses Django's local-memory cache: limits still apply."""
    rates(user="2/min")
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "throttle-test",
            }
        }
    ):
        client = auth_client(user)
        assert [client.get("/_echo").status_code for _ in range(2)] == [200, 200]
        _assert_throttled(client.get("/_echo"))
