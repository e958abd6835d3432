"""Deployment artefacts: Dockerfile, docker-compose.yml, k8s/ and the production settings.

Docker is not needed: the files are parsed and validated offline (kubernetes-validate ships the
Kubernetes JSON schemas), and the image's command runs here as it would in the container.
"""

import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import kubernetes_validate
import pytest
import yaml
from celery import Celery
from django.conf import settings

from accounts.tests.factories import UserFactory
from accounts.tests.keys import SESSION_KEYS, generate_key_pair
from accounts.tests.tokens import SPA_ORIGIN, mint_token
from household_ledger.testing import child_process_database_url, child_process_env
from ledger.tests.factories import TransactionFactory

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
# The oldest Kubernetes we claim to support; newer ones accept the same manifests.
KUBERNETES_VERSION = "1.30"
TEST_ISSUER = "https://clerk.test.example"  # the `iss` of accounts/tests/tokens.py's tokens
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _all_k8s_objects() -> dict[tuple[str, str], dict]:
    objects = {}
    for path in MANIFESTS:
        for doc in _documents(path):
            objects[(doc["kind"], doc["metadata"]["name"])] = doc
    return objects


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def _image_command() -> list[str]:
    (cmd,) = [rest for keyword, rest in _dockerfile_instructions() if keyword == "CMD"]
    return yaml.safe_load(cmd)  # the exec form is a JSON array


# --- Dockerfile ---------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_slim_non_root_with_collectstatic_and_healthcheck():
    instructions = _dockerfile_instructions()
    bases = [rest for keyword, rest in instructions if keyword == "FROM"]
    assert len(bases) >= 2 and all(base.startswith("python:3.11-slim") for base in bases)
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert "pip install --no-deps -r /tmp/requirements/base.txt" in runs
    assert "collectstatic" in runs
    (user,) = [rest for keyword, rest in instructions if keyword == "USER"]
    assert user.split(":")[0] not in {"root", "0"}
    assert any(keyword == "HEALTHCHECK" and "/healthz" in rest for keyword, rest in instructions)
    assert _image_command() == [
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "household_ledger.wsgi:application",
    ]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".env", ".venv"} <= set(ignored)


def test_the_images_collectstatic_runs_with_the_environment_the_dockerfile_gives_it(tmp_path):
    """The build's collectstatic: DEBUG off, so its settings must load with no services."""
    (run,) = [
        rest
        for keyword, rest in _dockerfile_instructions()
        if keyword == "RUN" and "collectstatic" in rest
    ]
    words = run.split()
    assignments = dict(word.split("=", 1) for word in words[: words.index("python")])
    assert assignments["DJANGO_DEBUG"] == "false"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "CLERK_"))
    }
    env.update(
        assignments,
        DJANGO_SETTINGS_MODULE="household_ledger.settings",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
    )
    result = _manage("collectstatic", "--noinput", "--verbosity", "0", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "static" / "staticfiles.json").is_file()


# --- docker-compose.yml -------------------------------------------------------------------------


def test_compose_defines_the_development_stack():
    services = _compose()["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "beat"}
    assert services["db"]["image"] == "postgres:15"
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["db"]["volumes"])
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert "ping" in services["redis"]["healthcheck"]["test"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }
    # One beat only: never scaled.
    assert "deploy" not in services["beat"] and "scale" not in services["beat"]
    # The stack needs no .env to start.
    assert all(entry["required"] is False for entry in services["web"]["env_file"])


def _published_host_ports(service: dict) -> set[int]:
    """Host ports a service publishes, from the short ("[ip:]host:container") or long syntax."""
    ports = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            published = entry.get("published")
        else:
            parts = str(entry).split("/")[0].split(":")
            published = parts[-2] if len(parts) > 1 else None
        if published:
            ports.add(int(published))
    return ports


def test_compose_publishes_no_database_or_redis_port_on_the_host_by_default():
    services = _compose()["services"]
    for name, service in services.items():
        assert not _published_host_ports(service) & {5432, 6379}, name
    assert "ports" not in services["db"] and "ports" not in services["redis"]
    assert _published_host_ports(services["web"]) == {8000}
    # The override example publishes both, on the loopback only, and is never committed.
    override = yaml.safe_load((ROOT / "docker-compose.override.example.yml").read_text())
    assert override["services"]["db"]["ports"] == ["127.0.0.1:5432:5432"]
    assert override["services"]["redis"]["ports"] == ["127.0.0.1:6379:6379"]
    assert "docker-compose.override.yml" in (ROOT / ".gitignore").read_text().split()


def test_compose_commands_point_at_code_that_exists():
    services = _compose()["services"]
    web = services["web"]["command"]
    assert web == _image_command()
    # gunicorn: the config file and the WSGI callable.
    assert (ROOT / web[web.index("-c") + 1]).is_file()
    module, _, attribute = web[-1].partition(":")
    assert callable(getattr(importlib.import_module(module), attribute))
    # celery -A household_ledger worker|beat: the package exposes the Celery app.
    for name, subcommand in (("worker", "worker"), ("beat", "beat")):
        command = services[name]["command"]
        assert command[:4] == ["celery", "-A", "household_ledger", subcommand]
        app = importlib.import_module(command[2]).celery_app
        assert isinstance(app, Celery) and app.main == "household_ledger"
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
    # The executables are installed beside this interpreter, as in the image's virtualenv.
    for executable in ("gunicorn", "celery"):
        assert (Path(sys.executable).parent / executable).exists()


# --- k8s/ ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_k8s_manifest_validates_against_the_kubernetes_schemas(path):
    documents = _documents(path)
    assert documents
    for document in documents:
        # strict: unknown fields (typos) are errors too.
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        assert document["metadata"].get("namespace", "household-ledger") == "household-ledger"


def test_kustomization_ties_every_manifest_together_except_the_secret_template():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    resources = kustomization["resources"]
    assert all((K8S / name).is_file() for name in resources)
    assert set(resources) == {p.name for p in MANIFESTS} - {"secret.yaml"}
    assert kustomization["namespace"] == "household-ledger"
    images = {
        container["image"]
        for obj in _all_k8s_objects().values()
        for container in _containers(obj)
        if not container["image"].startswith(("postgres:", "redis:"))
    }
    assert images == {image["name"] for image in kustomization["images"]}


def test_kustomize_builds_the_whole_set_and_it_validates():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed here")
    built = subprocess.run(
        [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=60
    )
    assert built.returncode == 0, built.stderr
    documents = [doc for doc in yaml.safe_load_all(built.stdout) if doc]
    assert len(documents) == sum(
        len(_documents(ROOT / "k8s" / name))
        for name in (yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    )
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        assert document["metadata"]["labels"]["app.kubernetes.io/part-of"] == "household-ledger"
    images = {container["image"] for document in documents for container in _containers(document)}
    assert "ghcr.io/example/household-ledger:1.0.0" in images


def _pod_spec(obj: dict) -> dict | None:
    spec = obj.get("spec", {})
    if obj["kind"] == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]["spec"]
    if "template" in spec:
        return spec["template"]["spec"]
    return None


def _containers(obj: dict) -> list[dict]:
    pod = _pod_spec(obj)
    if pod is None:
        return []
    return pod.get("initContainers", []) + pod["containers"]


def test_k8s_has_every_required_object():
    objects = _all_k8s_objects()
    for kind, name in [
        ("Namespace", "household-ledger"),
        ("ConfigMap", "household-ledger-config"),
        ("Secret", "household-ledger-secrets"),
        ("StatefulSet", "postgres"),
        ("Service", "postgres"),
        ("Deployment", "redis"),
        ("Service", "redis"),
        ("Deployment", "household-ledger-api"),
        ("Service", "household-ledger-api"),
        ("Ingress", "household-ledger"),
        ("Deployment", "household-ledger-worker"),
        ("Deployment", "household-ledger-beat"),
        ("Job", "household-ledger-migrate"),
        ("HorizontalPodAutoscaler", "household-ledger-api"),
        ("PodDisruptionBudget", "household-ledger-api"),
        ("CronJob", "household-ledger-backup"),
    ]:
        assert (kind, name) in objects, f"missing {kind}/{name}"
    assert objects[("StatefulSet", "postgres")]["spec"]["volumeClaimTemplates"]


def test_k8s_api_deployment_is_replicated_probed_limited_and_non_root():
    api = _all_k8s_objects()[("Deployment", "household-ledger-api")]
    assert api["spec"]["replicas"] >= 2
    assert api["spec"]["strategy"]["type"] == "RollingUpdate"
    assert api["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = api["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    # gunicorn's default command from the image, and the pod IP for host validation.
    assert "command" not in container and "args" not in container
    assert {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}} in (
        container["env"]
    )
    assert pod["terminationGracePeriodSeconds"] > int(_configmap()["GUNICORN_GRACEFUL_TIMEOUT"]) + 5


def test_k8s_every_container_runs_restricted():
    for (kind, name), obj in _all_k8s_objects().items():
        pod = _pod_spec(obj)
        if pod is None:
            continue
        assert pod["securityContext"]["runAsNonRoot"] is True, f"{kind}/{name}"
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for container in _containers(obj):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, f"{kind}/{name}"
            assert context["capabilities"]["drop"] == ["ALL"], f"{kind}/{name}"
            assert "resources" in container, f"{kind}/{name}"


def test_k8s_beat_runs_exactly_once_and_worker_runs_the_celery_app():
    objects = _all_k8s_objects()
    beat = objects[("Deployment", "household-ledger-beat")]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert beat["spec"]["template"]["spec"]["containers"][0]["command"][:4] == [
        "celery",
        "-A",
        "household_ledger",
        "beat",
    ]
    worker = objects[("Deployment", "household-ledger-worker")]
    assert worker["spec"]["template"]["spec"]["containers"][0]["command"][:4] == [
        "celery",
        "-A",
        "household_ledger",
        "worker",
    ]
    # No autoscaler may ever target beat.
    hpa = objects[("HorizontalPodAutoscaler", "household-ledger-api")]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "household-ledger-api"
    assert hpa["spec"]["minReplicas"] >= 2


def test_k8s_migration_job_runs_migrate_and_app_pods_wait_for_it():
    objects = _all_k8s_objects()
    job = objects[("Job", "household-ledger-migrate")]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "python",
        "manage.py",
        "migrate",
        "--noinput",
    ]
    for name in ("household-ledger-api", "household-ledger-worker", "household-ledger-beat"):
        (init,) = objects[("Deployment", name)]["spec"]["template"]["spec"]["initContainers"]
        assert "migrate --check" in " ".join(init["command"])


def test_k8s_backup_cronjob_dumps_the_database_once_at_a_time():
    cron = _all_k8s_objects()[("CronJob", "household-ledger-backup")]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    script = " ".join(container["command"])
    assert "pg_dump --format=custom" in script and "pg_restore --list" in script


def test_k8s_secret_is_a_template_of_placeholders():
    secret = _all_k8s_objects()[("Secret", "household-ledger-secrets")]
    assert "data" not in secret
    for key, value in secret["stringData"].items():
        if any(word in key for word in ("SECRET", "PASSWORD", "TOKEN", "DSN")):
            assert value == "" or "CHANGE_ME" in value, key
    assert "CHANGE_ME" in secret["stringData"]["DATABASE_URL"]
    # Clerk: the key that verifies session tokens and the webhook secret are secrets too.
    for key in ("CLERK_JWT_KEY", "CLERK_WEBHOOK_SIGNING_SECRET"):
        assert "CHANGE_ME" in secret["stringData"][key], key
    assert secret["stringData"]["CLERK_SECRET_KEY"] == ""  # optional, without CLERK_JWT_KEY


def test_k8s_clerk_configuration_is_split_between_configmap_and_secret():
    config, secret = _configmap(), _all_k8s_objects()[("Secret", "household-ledger-secrets")]
    # The SPA's origin is the only authorized party; the issuer is a URL.
    assert config["CLERK_AUTHORIZED_PARTIES"] == config["CORS_ALLOWED_ORIGINS"]
    assert config["CLERK_ISSUER"].startswith("https://")
    assert not {"CLERK_JWT_KEY", "CLERK_WEBHOOK_SIGNING_SECRET", "CLERK_SECRET_KEY"} & set(config)
    assert not {"CLERK_AUTHORIZED_PARTIES", "CLERK_ISSUER"} & set(secret["stringData"])
    # Every Clerk setting the code reads from the environment is in one of the two.
    configured = set(config) | set(secret["stringData"])
    assert {
        "CLERK_JWT_KEY",
        "CLERK_WEBHOOK_SIGNING_SECRET",
        "CLERK_AUTHORIZED_PARTIES",
        "CLERK_ISSUER",
    } <= configured


def test_k8s_ingress_routes_the_api_over_tls():
    ingress = _all_k8s_objects()[("Ingress", "household-ledger")]
    (rule,) = ingress["spec"]["rules"]
    assert ingress["spec"]["tls"][0]["hosts"] == [rule["host"]]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "household-ledger-api"
    assert rule["host"] in _configmap()["DJANGO_ALLOWED_HOSTS"].split(",")


# --- production settings ------------------------------------------------------------------------


def _configmap() -> dict[str, str]:
    return _all_k8s_objects()[("ConfigMap", "household-ledger-config")]["data"]


STRONG_SECRET_KEY = "Zq8v-3kLr_Yw7pN2xT5mB9cH4jD6fG1sA0eU8iO7yR3tV5nM2bQ"


def _production_env(**overrides) -> dict[str, str]:
    """The shipped ConfigMap plus real-looking secrets, and nothing else of ours."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SENTRY_", "METRICS_", "CELERY_", "PROMETHEUS_"))
    }
    return {
        **inherited,
        **_configmap(),
        "DJANGO_SETTINGS_MODULE": "household_ledger.settings",
        "DJANGO_SECRET_KEY": STRONG_SECRET_KEY,
        "DATABASE_URL": child_process_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "METRICS_TOKEN": "metrics-token-for-tests",
        **overrides,
    }


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_production_configuration():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_notices_a_missing_ssl_redirect():
    # The check above would pass vacuously if --deploy checked nothing: here it must warn.
    env = _production_env(DJANGO_SECURE_SSL_REDIRECT="false")
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def test_the_secret_template_key_is_refused_at_start_up():
    env = _production_env(DJANGO_SECRET_KEY="CHANGE_ME-at-least-50-random-characters")
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "CHANGE_ME placeholder" in result.stderr


def test_sentry_is_enabled_only_with_a_dsn():
    code = "import django, sentry_sdk; django.setup(); print(sentry_sdk.get_client().is_active())"

    def active(**env):
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=_production_env(**env),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    assert active() == "False"
    assert active(SENTRY_DSN="https://public@o0.ingest.sentry.io/0") == "True"


@pytest.mark.django_db
def test_probes_stay_plain_http_while_the_api_redirects_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    response = client.get("/api/schema/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    # Behind the ingress: X-Forwarded-Proto says the client used https.
    assert client.get("/api/schema/", headers={"X-Forwarded-Proto": "https"}).status_code == 200


# --- the image's command, run here: gunicorn with the project's config --------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_ready(base_url: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn never became ready:\n{log_path.read_text()}")


@pytest.fixture
def gunicorn_server(transactional_db, tmp_path):
    """`gunicorn -c gunicorn.conf.py household_ledger.wsgi:application` with production
    settings against the test database, as the container runs it; stopped with SIGTERM."""
    port = _free_port()
    env = _production_env(
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        PORT=str(port),
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="2",
        # The server trusts the tests' session key (as production trusts Clerk's), and the
        # tokens' origin and issuer (accounts/tests/tokens.py).
        CLERK_JWT_KEY=SESSION_KEYS.public_pem,
        CLERK_AUTHORIZED_PARTIES=SPA_ORIGIN,
        CLERK_ISSUER=TEST_ISSUER,
        CLERK_WEBHOOK_SIGNING_SECRET=settings.CLERK_WEBHOOK_SIGNING_SECRET,
    )
    collected = _manage("collectstatic", "--noinput", "--verbosity", "0", env=env)
    assert collected.returncode == 0, collected.stderr
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", *_image_command()],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(base_url, server, log_path)
        yield {"url": base_url, "process": server, "log": log_path, "env": env}
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)


def test_gunicorn_serves_the_app_and_stops_cleanly_on_sigterm(gunicorn_server):
    url, server = gunicorn_server["url"], gunicorn_server["process"]
    log_path = gunicorn_server["log"]
    request_id = "deploy-test-0001"

    # Readiness over plain http (the kubelet's view), with our request id echoed.
    ready = httpx.get(f"{url}/readyz", headers={"X-Request-ID": request_id})
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}
    assert ready.headers["X-Request-ID"] == request_id

    # The API: plain http is redirected to https; through the ingress (X-Forwarded-Proto) it
    # answers, with the production security headers.
    assert httpx.get(f"{url}/api/schema/").status_code == 301
    schema = httpx.get(f"{url}/api/schema/", headers={"X-Forwarded-Proto": "https"})
    assert schema.status_code == 200
    assert "openapi" in schema.text
    assert schema.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert len(schema.headers["X-Request-ID"]) == 32  # generated when the client sent none

    # Static files come from the manifest collected with DEBUG off, cached for ever.
    manifest = json.loads(
        (Path(gunicorn_server["env"]["DJANGO_STATIC_ROOT"]) / "staticfiles.json").read_text()
    )
    css = httpx.get(
        f"{url}/static/{manifest['paths']['admin/css/base.css']}",
        headers={"X-Forwarded-Proto": "https"},
    )
    assert css.status_code == 200
    assert "immutable" in css.headers["Cache-Control"]

    # Metrics: refused without the token, Prometheus text with it, summed over both workers.
    assert httpx.get(f"{url}/metrics").status_code == 401
    token = gunicorn_server["env"]["METRICS_TOKEN"]
    metrics = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"})
    assert metrics.status_code == 200
    assert metrics.headers["Content-Type"].startswith("text/plain")
    latency = "django_http_requests_latency_seconds_by_view_method_count"
    assert f'{latency}{{method="GET",view="readyz"}}' in metrics.text
    assert "django_db_execute_total" in metrics.text

    # SIGTERM: a graceful shutdown, exit status 0.
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=40) == 0

    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert not [r for r in records if r["level"] in {"ERROR", "CRITICAL"}], lines
    assert "Traceback" not in log_path.read_text()
    assert any(r["message"] == "Shutting down: Master" for r in records)
    (ready_line,) = [
        r
        for r in records
        if r["logger"] == "household_ledger.request" and r.get("request_id") == request_id
    ]
    assert ready_line["method"] == "GET"
    assert ready_line["path"] == "/readyz"
    assert ready_line["status"] == 200
    assert ready_line["duration_ms"] >= 0
    # The access log carries the same id; the token never appears anywhere.
    assert any(
        r["logger"] == "gunicorn.access" and f"request_id={request_id}" in r["message"]
        for r in records
    )
    assert token not in log_path.read_text()


def test_gunicorn_authenticates_a_real_clerk_token(gunicorn_server):
    """The whole chain in the production process: a signed session token (RS256, verified
    with CLERK_JWT_KEY, azp and iss checked) → the user → their own rows only."""
    url = gunicorn_server["url"]
    person = UserFactory(clerk_user_id="user_deploy_test", email="deploy@example.com")
    stranger = UserFactory(clerk_user_id="user_deploy_stranger")
    TransactionFactory(user=person, description="점심")
    TransactionFactory(user=stranger, description="not yours")
    https = {"X-Forwarded-Proto": "https"}

    def get(path, token=None):
        headers = {**https, **({"Authorization": f"Bearer {token}"} if token else {})}
        return httpx.get(f"{url}{path}", headers=headers, timeout=10)

    me = get("/auth/me", mint_token(sub=person.clerk_user_id))
    assert me.status_code == 200, me.text
    assert (me.json()["id"], me.json()["email"]) == (str(person.pk), "deploy@example.com")
    listed = get("/transactions", mint_token(sub=person.clerk_user_id))
    assert listed.status_code == 200, listed.text
    assert [row["description"] for row in listed.json()["results"]] == ["점심"]
    # No token, or a token the server does not trust (another key, another issuer): 401.
    assert get("/auth/me").status_code == 401
    wrong_issuer = mint_token(sub=person.clerk_user_id, claims={"iss": "https://evil.example"})
    assert get("/auth/me", wrong_issuer).status_code == 401
    other_key = generate_key_pair(SESSION_KEYS.kid)  # same kid, another key: bad signature
    forged = mint_token(sub=person.clerk_user_id, keys=other_key)
    assert get("/auth/me", forged).status_code == 401


def test_gunicorn_workers_load_the_urls_and_freeze_them_before_serving():
    """In a fresh process, as a worker: the views are imported and frozen before a request."""
    script = (
        "import gc, runpy, sys, django\n"
        "django.setup()\n"
        "before = 'accounts.api' in sys.modules\n"
        "runpy.run_path('gunicorn.conf.py')['post_worker_init'](worker=None)\n"
        "print(before, 'accounts.api' in sys.modules, gc.get_freeze_count())\n"
    )
    env = child_process_env(PROMETHEUS_MULTIPROC_DIR="unused")
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    before, after, frozen = result.stdout.split()[-3:]
    assert (before, after) == ("False", "True")
    assert int(frozen) > 10_000
