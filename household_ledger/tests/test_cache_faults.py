"""Redis down: the shared cache degrades to misses and no-ops, with a logged warning."""

import logging
import time

import pytest
from django.core.cache import caches
from django.test import override_settings

from household_ledger.cache import FaultTolerantRedisCache
from household_ledger.tests.live import RedisServer, free_port


def _cache(url, **options):
    return FaultTolerantRedisCache(
        url, {"KEY_PREFIX": "t", "OPTIONS": {"retry_after": 0.2, **options}}
    )


@pytest.fixture
def redis_server():
    server = RedisServer().start()
    yield server
    server.kill()


def test_unreachable_redis_is_a_miss_and_every_write_a_no_op(caplog):
    # given a cache whose Redis refuses connections
    cache = _cache(f"redis://127.0.0.1:{free_port()}/0")

    # when every operation is used, nothing raises and each answers like an empty cache
    with caplog.at_level(logging.WARNING, logger="household_ledger.cache"):
        assert cache.get("k") is None
        assert cache.get("k", "fallback") == "fallback"
        cache.set("k", 1)
        assert cache.add("k", 1) is False
        assert cache.incr("counter", 3) == 3
        assert cache.get_many(["a", "b"]) == {}
        assert cache.set_many({"a": 1}) == []
        assert cache.has_key("k") is False
        assert cache.touch("k") is False
        cache.delete("k")
        cache.delete_many(["a"])
        cache.clear()
        assert cache.get_or_set("k", 5) == 5

    # then one warning was logged for the outage, not one per call
    warnings = [r for r in caplog.records if r.name == "household_ledger.cache"]
    assert len(warnings) == 1
    assert "cache unavailable" in warnings[0].getMessage()
    assert warnings[0].levelno == logging.WARNING


def test_cache_skips_redis_while_the_breaker_is_open_and_tries_again_after():
    cache = _cache(f"redis://127.0.0.1:{free_port()}/0", retry_after=30)
    cache.get("k")  # fails: the breaker opens

    assert cache.available is False
    started = time.monotonic()
    for _ in range(100):
        cache.get("k")
    assert time.monotonic() - started < 0.5  # no connection attempts while open


def test_cache_degrades_when_redis_dies_and_recovers_when_it_is_back(redis_server, caplog):
    # given a working cache
    cache = _cache(redis_server.url)
    cache.set("kept", "value")
    assert cache.get("kept") == "value"

    # when Redis is killed
    redis_server.kill()
    with caplog.at_level(logging.WARNING, logger="household_ledger.cache"):
        assert cache.get("kept", "miss") == "miss"
        cache.set("new", "value")  # lost, but no error
    assert any("cache unavailable" in r.getMessage() for r in caplog.records)

    # and comes back (empty: it was started with --save '')
    redis_server.start()
    time.sleep(0.3)  # > retry_after

    # then the same cache object works again without a restart
    cache.set("after", "value")
    assert cache.get("after") == "value"


def test_default_cache_in_settings_is_fault_tolerant():
    assert isinstance(caches["default"], FaultTolerantRedisCache)


def test_django_cache_api_keeps_working_when_settings_point_at_a_dead_redis():
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "household_ledger.cache.FaultTolerantRedisCache",
                "LOCATION": dead,
            }
        }
    ):
        from django.core.cache import cache

        cache.set("x", 1)
        assert cache.get("x") is None


def test_the_cache_reuses_one_redis_client_per_pool():
    cache = caches["default"]
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client("any-key", write=True) is client
    assert cache._cache.get_client(write=False) is client  # one server: reads use its pool too
