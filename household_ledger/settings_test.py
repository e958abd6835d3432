"""The test suite's small override of `settings`: real PostgreSQL and Redis on localhost."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/household_ledger")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# Throttles stay on in tests, with budgets no functional test reaches; test_throttles lowers them.
for _scope in ("USER", "BACKUP", "WEBHOOK"):
    os.environ.setdefault(f"THROTTLE_RATE_{_scope}", "100000/min")

from household_ledger.settings import *  # noqa: E402,F403
from household_ledger.settings import STORAGES  # noqa: E402

# Unit tests run tasks inline; the Celery integration tests start a real worker instead.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# No collectstatic manifest in unit tests; the gunicorn tests collect static files for real.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# django-axes needs a request in authenticate(); the test client's login() has none. The
# lockout tests turn it on explicitly.
AXES_ENABLED = False

# Clerk: trust a key pair generated for this test session (accounts/tests/keys.py), so every
# API test authenticates with real signed tokens through the real verification code.
from accounts.tests.keys import SESSION_KEYS  # noqa: E402

CLERK_JWT_KEY = SESSION_KEYS.public_pem
CLERK_JWKS_URL = ""
CLERK_SECRET_KEY = ""
CLERK_ISSUER = ""
CLERK_AUTHORIZED_PARTIES = ["http://localhost:5173"]
CLERK_CLOCK_SKEW_SECONDS = 5
CLERK_WEBHOOK_SIGNING_SECRET = "whsec_dGVzdC1vbmx5LXdlYmhvb2stc2lnbmluZy1zZWNyZXQ="
# The test client speaks plain http; test_deployment checks the production values separately
# (`check --deploy` in a subprocess with the k8s ConfigMap's environment).
SECURE_SSL_REDIRECT = False
