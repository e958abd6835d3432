"""A Redis cache that degrades instead of failing when Redis is unreachable.

The shared cache backs the API throttles, the Clerk JWKS cache and the `last_seen` marks. None of
them is worth failing a request for: when Redis is down (refused, timed out, restarting), reading
and writing transactions must go on. So every cache call that hits a Redis error behaves like a
miss (`get` → default, `get_many` → {}, `has_key` → False) or a no-op (`set`, `delete`, `clear`;
`add` and `touch` answer False; `incr` answers `delta`, i.e. "first hit", so counters allow).

The first error of an outage is logged as a warning, the rest of it at most once every
`WARNING_INTERVAL` seconds. After an error the backend stops talking to Redis for
`RETRY_AFTER` seconds (a small circuit breaker), so a hung Redis costs one socket timeout per
process every few seconds instead of one per cache call.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Errors that mean "Redis is not answering", not "the call was wrong".
REDIS_FAILURES = (RedisError, OSError)

_MISSING = object()


class _Breaker:
    """Process-wide state of one Redis location: open (skip Redis) until a deadline."""

    def __init__(self):
        self.lock = threading.Lock()
        self.open_until = 0.0
        self.last_warning = 0.0
        self.suppressed = 0


_breakers: dict[str, _Breaker] = {}
_breakers_lock = threading.Lock()


def _breaker_for(location: str) -> _Breaker:
    with _breakers_lock:
        return _breakers.setdefault(location, _Breaker())


class _ReusingRedisCacheClient(RedisCacheClient):
    """Django's client, keeping one `redis.Redis` per connection pool.

    Django builds a new `redis.Redis` object on every cache call (~0.1 ms, measured: a third
    of a throttle check); redis-py's clients are thread-safe, so one per pool is enough.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)  # Django's choice of server and its pool
        client = self._clients.get(id(pool))  # pools live as long as this object
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class FaultTolerantRedisCache(RedisCache):
    """Django's RedisCache, but a Redis outage is a logged cache miss, never an exception.

    OPTIONS, besides those of RedisCache (passed to redis-py's connection pool):
    `retry_after` (seconds to skip Redis after an error, default 5) and `warning_interval`
    (seconds between warnings during one outage, default 60).
    """

    RETRY_AFTER = 5.0
    WARNING_INTERVAL = 60.0

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = float(options.pop("retry_after", self.RETRY_AFTER))
        self.warning_interval = float(options.pop("warning_interval", self.WARNING_INTERVAL))
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = _ReusingRedisCacheClient
        # Breaker state is shared by every thread's instance of the same location.
        self._breaker = _breaker_for(f"{server}|{params.get('KEY_PREFIX', '')}")

    # --- the breaker ----------------------------------------------------------------------

    @property
    def available(self) -> bool:
        """False while the breaker is open after a recent Redis error."""
        return time.monotonic() >= self._breaker.open_until

    def _failed(self, operation: str, exc: BaseException) -> None:
        breaker = self._breaker
        now = time.monotonic()
        with breaker.lock:
            first_of_outage = now >= breaker.open_until + self.retry_after
            breaker.open_until = now + self.retry_after
            if first_of_outage or now - breaker.last_warning >= self.warning_interval:
                suppressed, breaker.suppressed = breaker.suppressed, 0
                breaker.last_warning = now
            else:
                breaker.suppressed += 1
                return
        logger.warning(
            "cache unavailable, degrading to no cache for %.0fs: %s failed with %s%s",
            self.retry_after,
            operation,
            exc.__class__.__name__,
            f" ({suppressed} similar errors not logged)" if suppressed else "",
        )

    def _call(self, operation, fallback, func, *args, **kwargs):
        if not self.available:
            self._breaker.suppressed += 1
            return fallback
        try:
            return func(*args, **kwargs)
        except REDIS_FAILURES as exc:
            self._failed(operation, exc)
            return fallback

    # --- the cache API: every call degrades ---------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", False, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        value = self._call("get", _MISSING, super().get, key, _MISSING, version)
        return default if value is _MISSING else value

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._call("set", None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", delta, super().incr, key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", [], super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        self._call("delete_many", None, super().delete_many, keys, version)

    def clear(self):
        return self._call("clear", False, super().clear)

    # --- counters -------------------------------------------------------------------------

    def count_hit(self, key, timeout):
        """Add one to the counter `key` and return its new value, in one round trip.

        None when Redis is unavailable (callers fail open). The counter expires `timeout`
        seconds after its first hit. The rate limits call this on every request: one pipelined
        INCR + EXPIRE NX instead of Django's get/set pair (two round trips, a pickled value).
        """
        return self._call("count_hit", None, self._count_hit, key, timeout)

    def _count_hit(self, key, timeout):
        key = self.make_and_validate_key(key)
        pipe = self._cache.get_client(key, write=True).pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, int(timeout), nx=True)
        count, _ = pipe.execute()
        return int(count)

    def uncount_hit(self, key):
        """Take back one hit of `count_hit` (a refused request does not use up the budget)."""
        self._call("uncount_hit", None, self._uncount_hit, key)

    def _uncount_hit(self, key):
        key = self.make_and_validate_key(key)
        self._cache.get_client(key, write=True).decr(key)
