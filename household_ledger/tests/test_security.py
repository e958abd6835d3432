"""Security settings: CORS for the SPA's origins only, a token-only API (no CSRF hole), admin
login lockout, no secrets in logs."""

import logging

import pytest
from django.conf import settings as django_settings
from django.test import Client

from accounts.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("household_ledger.tests.echo_urls")]

SPA_ORIGIN = "http://localhost:5173"


# --- CORS -------------------------------------------------------------------------------------


def test_configured_origin_gets_cors_headers(api_client, settings):
    settings.CORS_ALLOWED_ORIGINS = [SPA_ORIGIN]
    response = api_client.get("/_echo", HTTP_ORIGIN=SPA_ORIGIN)
    assert response["Access-Control-Allow-Origin"] == SPA_ORIGIN
    # tokens, not cookies: the browser must not send credentials cross-origin
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://localhost:5174",
        "http://localhost:5173.evil.example",
        "null",
        "https://localhost:5173",
    ],
)
def test_foreign_origin_gets_no_cors_headers(api_client, settings, origin):
    settings.CORS_ALLOWED_ORIGINS = [SPA_ORIGIN]
    response = api_client.get("/_echo", HTTP_ORIGIN=origin)
    assert not any(h.lower().startswith("access-control-") for h in response.headers)

    preflight = api_client.options(
        "/_echo",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )
    assert "Access-Control-Allow-Origin" not in preflight
    assert "Access-Control-Allow-Headers" not in preflight


def test_preflight_from_the_spa_allows_the_authorization_header(api_client, settings):
    settings.CORS_ALLOWED_ORIGINS = [SPA_ORIGIN]
    preflight = api_client.options(
        "/_echo",
        HTTP_ORIGIN=SPA_ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )
    assert preflight["Access-Control-Allow-Origin"] == SPA_ORIGIN
    assert "authorization" in preflight["Access-Control-Allow-Headers"].lower()


def test_cors_never_allows_any_origin():
    assert not getattr(django_settings, "CORS_ALLOW_ALL_ORIGINS", False)
    assert not getattr(django_settings, "CORS_ALLOW_CREDENTIALS", False)
    assert "*" not in django_settings.CORS_ALLOWED_ORIGINS


# --- token-only API -----------------------------------------------------------------------------


def test_api_has_no_cookie_or_password_authentication():
    from django.utils.module_loading import import_string
    from rest_framework.authentication import BasicAuthentication, SessionAuthentication

    classes = [
        import_string(path)
        for path in django_settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
    ]
    assert not any(issubclass(c, (SessionAuthentication, BasicAuthentication)) for c in classes)


def test_an_admin_session_does_not_authenticate_the_api(db):
    staff = UserFactory(is_staff=True, is_superuser=True)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    assert browser.get("/admin/").status_code == 200  # the session works for the admin

    response = browser.get("/_echo/private")

    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] in (
        "not_authenticated",
        "authentication_failed",
        "permission_denied",
    )


def test_basic_auth_with_a_valid_password_does_not_authenticate_the_api(api_client):
    import base64

    _staff("staffer", "correct horse")
    credentials = base64.b64encode(b"staffer:correct horse").decode()
    response = api_client.get("/_echo/private", HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert response.status_code in (401, 403)


def test_an_admin_session_cannot_change_data_without_the_csrf_token(db):
    staff = UserFactory(is_staff=True, is_superuser=True)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    response = browser.post(
        f"/admin/accounts/user/{staff.pk}/delete/",
        {"post": "yes"},
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403
    assert type(staff).objects.filter(pk=staff.pk).exists()


def test_admin_login_post_without_csrf_token_is_refused():
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/admin/login/", {"username": "a", "password": "b"})
    assert response.status_code == 403


# --- admin login lockout (django-axes) -----------------------------------------------------------


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def _staff(username, password):
    staff = UserFactory(username=username, is_staff=True, is_superuser=True)
    staff.set_password(password)
    staff.save()
    return staff


def _login(client, username, password, ip="10.9.9.9"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def test_admin_login_locks_out_after_repeated_failures(axes_on, client, caplog):
    _staff("support", "right-password")

    with caplog.at_level(logging.DEBUG):
        failures = [_login(client, "support", f"wrong-{n}").status_code for n in range(3)]
        locked = _login(client, "support", "right-password")

    assert failures[:2] == [200, 200]  # the form again, with an error
    assert locked.status_code == 429  # even the right password is refused now
    assert not client.session.get("_auth_user_id")
    # the passwords tried are never logged
    assert "wrong-0" not in caplog.text and "right-password" not in caplog.text


def test_lockout_is_per_ip_across_usernames(axes_on, client):
    for n in range(3):
        _login(client, f"user{n}", "guess", ip="10.7.7.7")
    assert _login(client, "someone-else", "guess", ip="10.7.7.7").status_code == 429


def test_a_successful_login_before_the_limit_works_and_resets(axes_on, client):
    _staff("support", "right-password")
    _login(client, "support", "wrong")
    _login(client, "support", "wrong")
    response = _login(client, "support", "right-password")
    assert response.status_code == 302
    assert client.session.get("_auth_user_id")


# --- nothing secret in the logs ---------------------------------------------------------------


SECRET_TOKEN = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyX3NlY3JldCJ9.c2lnbmF0dXJlLXNlY3JldA"
)


@pytest.mark.parametrize("path", ["/_echo/private", "/_echo", "/no/such/path", "/_echo/backup"])
def test_bearer_tokens_never_reach_the_logs(api_client, caplog, path):
    with caplog.at_level(logging.DEBUG):
        api_client.get(f"{path}?token={SECRET_TOKEN}", HTTP_AUTHORIZATION=f"Bearer {SECRET_TOKEN}")
        api_client.post(
            path,
            data=b"{broken",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {SECRET_TOKEN}",
        )
    for part in SECRET_TOKEN.split("."):
        assert part not in caplog.text
