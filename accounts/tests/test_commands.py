"""`dev_token`, `purge_deleted_accounts` and its Celery task."""

import stat
from datetime import timedelta
from io import StringIO

import jwt
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User, WebhookEvent
from accounts.tests.factories import UserFactory
from ledger.models import Category, Ledger, Transaction
from ledger.tests.factories import CategoryFactory, TransactionFactory, shared_ledger_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def dev_mode(settings, tmp_path):
    """DEBUG on, no Clerk key configured, the key pair in a temporary folder."""
    settings.DEBUG = True
    settings.CLERK_JWT_KEY = ""
    settings.CLERK_JWKS_URL = ""
    settings.CLERK_SECRET_KEY = ""
    settings.DEV_KEYS_DIR = tmp_path / ".dev-keys"
    return settings


def dev_token(*args):
    out, err = StringIO(), StringIO()
    call_command("dev_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


# --- dev_token --------------------------------------------------------------------------------


def test_dev_token_is_accepted_through_the_normal_verification(api_client, dev_mode):
    token, err = dev_token("--user", "user_dev")

    response = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert response.json()["clerk_user_id"] == "user_dev"
    assert "Created the development key pair" in err
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["cat"] == "cl_B7d4PD111AAA"


def test_dev_key_pair_is_generated_once_and_kept_private(dev_mode):
    dev_token("--user", "user_dev")
    folder = dev_mode.DEV_KEYS_DIR
    private_before = (folder / "private.pem").read_bytes()

    _, err = dev_token("--user", "user_dev")

    assert (folder / "private.pem").read_bytes() == private_before
    assert "Created" not in err
    assert stat.S_IMODE((folder / "private.pem").stat().st_mode) == 0o600
    assert (folder / ".gitignore").read_text() == "*\n"


def test_dev_token_lifetime_follows_minutes(dev_mode):
    token, _ = dev_token("--user", "user_dev", "--minutes", "5")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 300
    assert claims["azp"] == "http://localhost:5173"


def test_dev_token_by_email_uses_the_users_clerk_id(api_client, dev_mode):
    user = UserFactory(email="dev@example.com")
    token, _ = dev_token("--user", "DEV@example.com")
    response = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.json()["id"] == str(user.id)


def test_dev_token_for_an_unknown_email_is_an_error(dev_mode):
    with pytest.raises(CommandError, match="No Clerk user"):
        dev_token("--user", "nobody@example.com")


def test_dev_token_refuses_without_debug(dev_mode):
    dev_mode.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        dev_token("--user", "user_dev")


def test_dev_token_refuses_when_a_clerk_key_is_configured(dev_mode):
    dev_mode.CLERK_JWKS_URL = "https://clerk.example/.well-known/jwks.json"
    with pytest.raises(CommandError, match="Clerk key is configured"):
        dev_token("--user", "user_dev")


def test_dev_key_is_not_trusted_without_debug(api_client, dev_mode):
    token, _ = dev_token("--user", "user_dev")
    dev_mode.DEBUG = False

    response = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "jwk_local_missing"


def test_dev_key_is_not_trusted_when_a_clerk_key_is_configured(api_client, dev_mode):
    from accounts.tests.keys import SESSION_KEYS

    token, _ = dev_token("--user", "user_dev")
    dev_mode.CLERK_JWT_KEY = SESSION_KEYS.public_pem

    response = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid_signature"


def test_dev_keys_folder_is_git_ignored():
    from django.conf import settings

    gitignore = (settings.BASE_DIR / ".gitignore").read_text().splitlines()
    assert ".dev-keys/" in gitignore
    assert settings.DEV_KEYS_DIR == settings.BASE_DIR / ".dev-keys"


# --- purge ------------------------------------------------------------------------------------


def _deleted_user(days_ago):
    user = UserFactory(is_active=False, deleted_at=timezone.now() - timedelta(days=days_ago))
    category = CategoryFactory(user=user)
    TransactionFactory(user=user, category=category)
    return user


def test_purge_deletes_users_deleted_long_ago_with_their_data():
    old = _deleted_user(31)
    recent = _deleted_user(29)
    active = UserFactory()
    TransactionFactory(user=active)
    out = StringIO()

    call_command("purge_deleted_accounts", stdout=out)

    assert "Purged 1 user(s)" in out.getvalue()
    assert not User.objects.filter(pk=old.pk).exists()
    assert not Transaction.objects.filter(ledger__personal_for_id=old.pk).exists()
    assert not Category.objects.filter(ledger__personal_for_id=old.pk).exists()
    assert User.objects.filter(pk=recent.pk).exists()
    assert Transaction.objects.filter(ledger__personal_for=recent).count() == 1
    assert Transaction.objects.filter(ledger__personal_for=active).count() == 1


def test_purge_dry_run_deletes_nothing():
    old = _deleted_user(40)
    out = StringIO()
    call_command("purge_deleted_accounts", "--dry-run", stdout=out)
    assert "Would purge 1 user(s)" in out.getvalue()
    assert User.objects.filter(pk=old.pk).exists()


def test_purge_follows_account_purge_days(settings):
    settings.ACCOUNT_PURGE_DAYS = 7
    old = _deleted_user(8)
    call_command("purge_deleted_accounts", stdout=StringIO())
    assert not User.objects.filter(pk=old.pk).exists()


def test_purge_forgets_old_webhook_deliveries():
    old = WebhookEvent.objects.create(svix_id="msg_old", event_type="user.updated", outcome="x")
    WebhookEvent.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=31))
    WebhookEvent.objects.create(svix_id="msg_new", event_type="user.updated", outcome="x")

    call_command("purge_deleted_accounts", stdout=StringIO())

    assert list(WebhookEvent.objects.values_list("svix_id", flat=True)) == ["msg_new"]


def test_purge_task_runs_the_same_service():
    from accounts.tasks import purge_deleted_accounts

    old = _deleted_user(31)
    result = purge_deleted_accounts.delay()
    assert result.get() == {"users": 1, "webhook_events": 0, "ledgers": 0}
    assert not User.objects.filter(pk=old.pk).exists()


def test_purge_task_is_on_the_beat_schedule():
    from django.conf import settings

    from household_ledger.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["accounts-purge-deleted-accounts"]
    assert entry["task"] == "accounts.tasks.purge_deleted_accounts"
    app.loader.import_default_modules()
    assert "accounts.tasks.purge_deleted_accounts" in app.tasks


def test_webhook_events_admin_is_read_only(client, admin_user):
    WebhookEvent.objects.create(svix_id="msg_admin", event_type="user.created", outcome="created")
    client.force_login(admin_user)
    response = client.get("/admin/accounts/webhookevent/")
    assert response.status_code == 200
    assert b"msg_admin" in response.content
    assert client.get("/admin/accounts/webhookevent/add/").status_code == 403


def test_purge_deletes_shared_ledgers_orphaned_long_ago_with_their_data():
    owner = UserFactory()
    orphaned = shared_ledger_with(owner=owner, name="옛집")
    TransactionFactory(ledger=orphaned)
    orphaned.deleted_at = timezone.now() - timedelta(days=31)
    orphaned.save(update_fields=["deleted_at"])
    recent = shared_ledger_with(owner=owner, name="새집")
    recent.deleted_at = timezone.now() - timedelta(days=29)
    recent.save(update_fields=["deleted_at"])
    live = shared_ledger_with(owner=owner, name="우리집")
    out = StringIO()

    call_command("purge_deleted_accounts", stdout=out)

    assert "1 shared ledger(s)" in out.getvalue()
    assert not Ledger.objects.filter(pk=orphaned.pk).exists()
    assert not Transaction.objects.filter(ledger_id=orphaned.pk).exists()
    assert set(
        Ledger.objects.filter(pk__in=[recent.pk, live.pk]).values_list("name", flat=True)
    ) == {
        "새집",
        "우리집",
    }
