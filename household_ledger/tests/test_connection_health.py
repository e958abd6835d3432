"""The connection health check needs no round trip, and still finds a dead connection.

Each test uses a DatabaseWrapper of its own (not the test's connection), against the real
PostgreSQL; the restart of a whole server under gunicorn is in test_database_faults.py.
"""

import select
import time

import psycopg
import pytest
from django.db import connections
from django.db.backends.postgresql import base as postgresql_base

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def wrapper():
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


@pytest.fixture
def other(wrapper):
    """A second session, to act on the wrapper's backend from outside."""
    params = wrapper.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as connection:
        yield connection


def _readable(wrapper) -> bool:
    return bool(select.select([wrapper.connection.fileno()], [], [], 0)[0])


def _until(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)
    return predicate()


def test_an_idle_healthy_connection_is_usable_without_a_query(wrapper, monkeypatch):
    sent = []
    monkeypatch.setattr(postgresql_base.DatabaseWrapper, "is_usable",
                        lambda self: sent.append("SELECT 1"))

    assert wrapper.is_usable() is True
    assert sent == []  # no SELECT 1


def test_a_terminated_backend_is_found_and_the_next_query_reconnects(wrapper, other):
    backend = wrapper.connection.info.backend_pid
    other.execute("SELECT pg_terminate_backend(%s)", [backend])

    assert _until(lambda: not wrapper.is_usable())
    wrapper.health_check_done = False
    wrapper.close_if_health_check_failed()  # what Django does before a request's first query
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != backend


def test_something_to_read_on_a_live_connection_goes_on_to_select_1(wrapper, other):
    with wrapper.cursor() as cursor:
        cursor.execute("LISTEN health_check_test")
    other.execute("NOTIFY health_check_test")

    assert _until(lambda: _readable(wrapper))
    assert wrapper.is_usable() is True  # SELECT 1 read the notification and answered


def test_a_connection_on_a_descriptor_above_select_s_limit_is_still_checked_without_a_query(
    monkeypatch,
):
    """select() refuses descriptors >= FD_SETSIZE (1024): a busy process (gthread workers,
    client sockets, Redis) would find every connection unusable and reconnect on each request."""
    import os
    import resource

    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 1200:
        pytest.skip("needs more than 1,200 open files")
    fillers = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    wrapper = connections.create_connection("default")
    try:
        wrapper.ensure_connection()
        assert wrapper.connection.fileno() >= 1024
        sent = []
        monkeypatch.setattr(postgresql_base.DatabaseWrapper, "is_usable",
                            lambda self: sent.append("SELECT 1") or True)

        assert wrapper.is_usable() is True
        assert sent == []  # no SELECT 1 either
    finally:
        wrapper.close()
        for fd in fillers:
            os.close(fd)
