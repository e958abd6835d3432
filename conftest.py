"""Fixtures shared by every app's tests."""

import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings
from rest_framework.test import APIClient

# The admin tests' staff fixtures (superuser/support clients).
pytest_plugins = ["accounts.tests.admin_support"]


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        address = (parsed.hostname or "127.0.0.1", parsed.port or default_port)
        with socket.create_connection(address, timeout=2):
            return True
    except OSError:
        return False


# docker-compose.yml publishes no port on the host; its override example does.
START_SERVICES = (
    "`cp docker-compose.override.example.yml docker-compose.override.yml && "
    "docker compose up -d db redis`"
)


def pytest_sessionstart(session):
    database = settings.DATABASES["default"]
    host, port = database.get("HOST") or "127.0.0.1", database.get("PORT") or 5432
    if not _reachable(f"postgres://{host}:{port}", 5432):
        pytest.exit(
            f"PostgreSQL is not reachable at {host}:{port}. Start it "
            f"(e.g. {START_SERVICES}) or set DATABASE_URL.",
            returncode=2,
        )
    if not _reachable(settings.REDIS_URL, 6379):
        pytest.exit(
            f"Redis is not reachable at {settings.REDIS_URL}. Start it "
            f"(e.g. {START_SERVICES}) or set REDIS_URL.",
            returncode=2,
        )


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty shared cache (throttles, JWKS, last_seen marks)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def user(db):
    from accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def other_user(db):
    from accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def auth_client():
    """`auth_client(user)` → an APIClient that acts as `user` with real signed Clerk tokens.

    Every request carries a freshly minted RS256 session token for `user.clerk_user_id`,
    verified by the real authentication class (accounts/tests/tokens.py). The user counts as
    seen just now, so the once-a-minute `last_seen` write does not show in query counts.
    """
    from accounts.services.users import user_mark_seen
    from accounts.tests.tokens import ClerkTokenClient

    def make(for_user):
        user_mark_seen(user=for_user)
        return ClerkTokenClient(clerk_user_id=for_user.clerk_user_id)

    return make
