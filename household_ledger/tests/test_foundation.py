"""The project's base: migrations, probes, admin, OpenAPI docs, error format."""

import json
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import httpx
import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from household_ledger.testing import (
    child_process_env,
    embedded_dev_env,
    embedded_postgres_stop,
    running_dev_server,
)
from ledger.models import Category

ROOT = Path(__file__).resolve().parents[2]


def test_makemigrations_is_clean(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_migrations_apply_from_zero_and_again():
    call_command("migrate", "ledger", "zero", verbosity=0)
    assert Category._meta.db_table not in _tables()
    call_command("migrate", verbosity=0)
    call_command("migrate", verbosity=0)  # a second run changes nothing
    assert Category.objects.filter(ledger=None).count() == 18


def _tables():
    from django.db import connection

    return connection.introspection.table_names()


def test_healthz_answers_without_io(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_with_postgres_and_redis_up(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


def _readyz_in_subprocess(**env):
    """Ask /readyz from a fresh process whose settings point somewhere else."""
    code = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/readyz');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        # The test's database unless `env` names another (DATABASE_URL's own need not exist).
        env=child_process_env("household_ledger.settings_test", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_readyz_names_the_database_when_it_is_down(db):
    answer = _readyz_in_subprocess(DATABASE_URL="postgres://postgres@127.0.0.1:1/household_ledger")
    assert answer["status"] == 503
    assert answer["body"]["checks"]["database"] == "unavailable"
    assert answer["body"]["checks"]["redis"] == "ok"
    assert "database" in answer["body"]["error"]["message"]


def test_readyz_names_redis_when_it_is_down(db):
    answer = _readyz_in_subprocess(REDIS_URL="redis://127.0.0.1:1/0")
    assert answer["status"] == 503
    assert answer["body"]["checks"] == {"database": "ok", "redis": "unavailable"}


ADMIN_MODELS = [
    "accounts/user",
    "ledger/category",
    "ledger/recurringtransaction",
    "ledger/transaction",
]


@pytest.mark.django_db
@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_admin_changelist_renders_for_a_superuser(client, admin_user, model):
    client.force_login(admin_user)
    response = client.get(f"/admin/{model}/")
    assert response.status_code == 200
    assert b"household_ledger support" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_admin_changelist_redirects_anonymous_to_login(client, model):
    response = client.get(f"/admin/{model}/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_openapi_schema_is_valid_openapi_3(client):
    from drf_spectacular.validation import validate_schema

    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)


@pytest.mark.django_db
def test_api_docs_use_no_external_url(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    external = re.findall(r"""(?:src|href)=["'](https?:)?//""", html)
    assert external == [], f"external assets referenced: {external}"


@pytest.mark.django_db
def test_unknown_url_answers_the_json_error_format(client):
    response = client.get("/no-such-endpoint")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_missing_secret_key_in_production_is_a_clear_error():
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "DJANGO_DEBUG")}
    env.update(DJANGO_SETTINGS_MODULE="household_ledger.settings", DJANGO_DEBUG="false")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_without_database_url_is_a_clear_error(tmp_path):
    """DEBUG off and no DATABASE_URL: start-up fails naming it; no embedded server starts."""
    env = embedded_dev_env(tmp_path / "pgdata", DJANGO_DEBUG="false", DJANGO_SECRET_KEY="x" * 50)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: DATABASE_URL is not set" in result.stderr
    assert not (tmp_path / "pgdata").exists()


def test_a_database_url_that_is_not_postgresql_is_refused(tmp_path):
    env = embedded_dev_env(tmp_path / "pgdata", DATABASE_URL=f"sqlite:///{tmp_path / 'db'}")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DATABASE_URL must name a PostgreSQL database" in result.stderr


@pytest.fixture
def embedded_data_dir(tmp_path):
    """A data folder for the embedded PostgreSQL; its server is stopped if a test left it up."""
    data_dir = tmp_path / "pgdata"
    yield data_dir
    embedded_postgres_stop(data_dir)


@pytest.mark.slow
def test_the_run_command_migrates_and_serves_on_the_embedded_postgres(embedded_data_dir):
    """`make run` on a plain clone: no DATABASE_URL, DEBUG on. Every migration applies on the
    embedded PostgreSQL, the server answers what needs PostgreSQL (the calendar's projection),
    and `dev_token` prints only a token, which that server accepts."""
    data_dir = embedded_data_dir
    env = embedded_dev_env(data_dir)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert "WARNINGS" not in migrate.stderr
    with running_dev_server(env) as url:
        token = subprocess.run(
            [sys.executable, "manage.py", "dev_token", "--user", "user_dev"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert token.returncode == 0, token.stderr
        assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+\n", token.stdout), token.stdout
        bearer = {"Authorization": f"Bearer {token.stdout.strip()}"}
        me = httpx.get(f"{url}/auth/me", headers=bearer, timeout=30)
        assert me.status_code == 200, me.text
        assert me.json()["clerk_user_id"] == "user_dev"
        month = httpx.get(
            f"{url}/transactions/by-month/2025/7?include_projected=true",
            headers=bearer,
            timeout=30,
        )
        assert month.status_code == 200, month.text
        ready = httpx.get(f"{url}/readyz", timeout=30)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "redis": "not configured"}
    # The server is stopped, and the embedded PostgreSQL with it (the last process left).
    holders = (data_dir / ".handle_pids.json").read_text()
    assert not (data_dir / "postmaster.pid").exists(), holders


def test_pre_commit_runs_the_ruff_that_the_tests_pin():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    (ruff,) = [repo for repo in config["repos"] if repo["repo"].endswith("/ruff-pre-commit")]
    assert [hook["id"] for hook in ruff["hooks"]] == ["ruff-check", "ruff-format"]
    (pin,) = re.findall(r"^ruff==(\S+)$", (ROOT / "requirements/test.txt").read_text(), re.M)
    assert ruff["rev"] == f"v{pin}"
