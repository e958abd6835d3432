# syntax=docker/dockerfile:1
# household_ledger: one image for the API (default command), the Celery worker and beat,
# the migration Job and the backup CronJob's restores.
#   docker build -t household-ledger .
#   docker run -p 8000:8000 --env-file .env household-ledger

# --- build: install the pinned requirements into a virtualenv ------------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY requirements/base.txt /tmp/requirements/base.txt
# Every dependency is pinned in base.txt (pip-compile); all of them ship manylinux wheels
# (psycopg[binary]), so no compiler is needed.
RUN /opt/venv/bin/pip install --no-deps -r /tmp/requirements/base.txt \
 && /opt/venv/bin/pip check

# --- runtime: the virtualenv, the code, collected static files; runs as a non-root user -----
FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=household_ledger.settings \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    PORT=8000
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# The code stays owned by root: the app user can read it, never change it.
COPY . /app
# collectstatic needs settings, not services: a throwaway key, no broker, and a database URL
# that is never connected to.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-real-key \
    DJANGO_DEBUG=false \
    DATABASE_URL=postgres://collectstatic@127.0.0.1:1/unused \
    CELERY_TASK_ALWAYS_EAGER=true \
    python manage.py collectstatic --noinput --verbosity 0
USER 10001:10001
EXPOSE 8000
# Liveness of the web process (needs 127.0.0.1 in DJANGO_ALLOWED_HOSTS, as docker-compose.yml
# sets; Kubernetes ignores HEALTHCHECK and uses the probes in k8s/api.yaml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
# gunicorn handles SIGTERM as a graceful shutdown (gunicorn.conf.py: graceful_timeout).
STOPSIGNAL SIGTERM
CMD ["gunicorn", "-c", "gunicorn.conf.py", "household_ledger.wsgi:application"]
