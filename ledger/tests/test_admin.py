"""The ledger's admin, as support staff and superusers use it: through the admin's own URLs."""

import datetime
import socket
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts.tests.admin_support import change_form_data, count_queries
from accounts.tests.factories import UserFactory
from household_ledger.testing import child_process_env
from ledger.models import Category, RecurringOccurrence, RecurringTransaction, Transaction
from ledger.roles import SUPPORT_GROUP, SUPPORT_PERMISSIONS, ensure_support_group
from ledger.services.ledgers import personal_ledger
from ledger.tests.factories import (
    CategoryFactory,
    RecurringTransactionFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db


def changelist(model) -> str:
    return reverse(f"admin:ledger_{model._meta.model_name}_changelist")


def change(obj) -> str:
    return reverse(f"admin:ledger_{obj._meta.model_name}_change", args=[obj.pk])


def default_category(name="식비") -> Category:
    return Category.objects.get(ledger=None, name=name)


def seed_rows(model, count: int) -> None:
    """`count` rows of `model`, each with its own user (and category/rule where it has them),
    so an N+1 over any relation would show in the query count."""
    for _ in range(count):
        owner = UserFactory()
        if model is Transaction:
            rule = RecurringTransactionFactory(user=owner)
            TransactionFactory(
                user=owner,
                category=CategoryFactory(user=owner),
                recurring=rule,
                date=datetime.date(2025, 7, 25),
            )
        elif model is RecurringTransaction:
            RecurringTransactionFactory(user=owner, category=CategoryFactory(user=owner))
        elif model is Category:
            CategoryFactory(user=owner)
        elif model is RecurringOccurrence:
            RecurringOccurrence.objects.create(
                recurring=RecurringTransactionFactory(user=owner), date=datetime.date(2025, 7, 25)
            )


# --- Every page answers, for both roles -------------------------------------------------------


@pytest.mark.parametrize(
    "model", [Transaction, RecurringTransaction, Category, RecurringOccurrence]
)
def test_changelist_and_change_page_answer_for_superuser_and_support(staff_client, model):
    # given
    seed_rows(model, 3)
    obj = model.objects.first()
    # when
    listing = staff_client.get(changelist(model))
    detail = staff_client.get(change(obj))
    # then
    assert listing.status_code == 200
    assert detail.status_code == 200


@pytest.mark.parametrize(
    "model", [Transaction, RecurringTransaction, Category, RecurringOccurrence]
)
def test_changelist_query_count_does_not_grow_with_rows(superuser_client, support_client, model):
    # given 10 rows
    seed_rows(model, 10)
    at_10 = {
        "super": count_queries(superuser_client, changelist(model)),
        "support": count_queries(support_client, changelist(model)),
    }
    # when there are 200
    seed_rows(model, 190)
    at_200 = {
        "super": count_queries(superuser_client, changelist(model)),
        "support": count_queries(support_client, changelist(model)),
    }
    # then
    assert at_200 == at_10


def test_filtered_transaction_changelists_keep_constant_queries(superuser_client):
    seed_rows(Transaction, 10)
    ledger = Transaction.objects.first().ledger
    urls = [
        changelist(Transaction) + f"?ledger__id__exact={ledger.pk}",
        changelist(Transaction) + "?from_rule=yes&type__exact=expense",
        changelist(Transaction) + f"?category={default_category().pk}",
        changelist(Transaction) + "?date__year=2025&date__month=7",
        changelist(Transaction) + "?q=person",
    ]
    before = [count_queries(superuser_client, url) for url in urls]
    seed_rows(Transaction, 190)
    assert [count_queries(superuser_client, url) for url in urls] == before


# --- Transactions -----------------------------------------------------------------------------


def test_transaction_list_shows_won_amount_category_with_emoji_and_rule(superuser_client):
    owner = UserFactory(email="minji@example.com")
    rule = RecurringTransactionFactory(user=owner, template_name="월세 자동이체")
    TransactionFactory(
        user=owner,
        amount=Decimal("1234567"),
        category=default_category("월세"),
        recurring=rule,
        description="7월 월세",
    )

    response = superuser_client.get(changelist(Transaction))

    page = response.content.decode()
    assert "₩1,234,567" in page
    assert "🏠 월세" in page
    assert "월세 자동이체" in page
    assert "minji@example.com" in page
    # No dropdown listing every user anywhere on the page.
    assert 'name="user"' not in page


def test_transaction_filters_by_rule_origin_category_and_user(superuser_client):
    owner, other = UserFactory(), UserFactory()
    from_rule = TransactionFactory(
        user=owner, description="from-rule", recurring=RecurringTransactionFactory(user=owner)
    )
    food = TransactionFactory(user=owner, description="food", category=default_category())
    theirs = TransactionFactory(user=other, description="theirs")

    def listed(query):
        response = superuser_client.get(changelist(Transaction) + query)
        assert response.status_code == 200
        return {row.pk for row in response.context["cl"].result_list}

    assert listed("?from_rule=yes") == {from_rule.pk}
    assert listed("?from_rule=no") == {food.pk, theirs.pk}
    assert listed(f"?category={default_category().pk}") == {food.pk}
    assert listed("?category=none") == {from_rule.pk, theirs.pk}
    assert listed(f"?ledger__id__exact={from_rule.ledger_id}") == {from_rule.pk, food.pk}
    assert listed(f"?q={other.email}") == {theirs.pk}
    assert listed("?q=food") == {food.pk}


def test_category_filter_offers_defaults_and_only_the_filtered_users_own(superuser_client):
    owner, other = UserFactory(), UserFactory()
    mine = CategoryFactory(user=owner, name="쇼핑")
    CategoryFactory(user=other, name="남의것")
    TransactionFactory(user=owner)

    everyone = superuser_client.get(changelist(Transaction)).content.decode()
    one_user = superuser_client.get(
        changelist(Transaction) + f"?ledger__id__exact={mine.ledger_id}"
    ).content.decode()

    assert "🍽️ 식비" in everyone and "쇼핑" not in everyone and "남의것" not in everyone
    assert str(mine) in one_user and "남의것" not in one_user


def test_support_changes_status_and_category_but_not_amount(support_client, support_user):
    # given a scheduled transaction
    owner = UserFactory()
    row = TransactionFactory(user=owner, amount=Decimal("5400"), status="scheduled")
    page = support_client.get(change(row))
    assert page.status_code == 200
    # when support posts a new status, category AND a new amount/description
    data = change_form_data(
        page,
        status="confirmed",
        category=str(default_category("카페").pk),
        amount="999999",
        description="tampered",
    )
    response = support_client.post(change(row), data)
    # then status/category changed, amount/description did not
    assert response.status_code == 302, response.context and response.context["errors"]
    row.refresh_from_db()
    assert row.status == "confirmed"
    assert row.category == default_category("카페")
    assert row.amount == Decimal("5400")
    assert row.description != "tampered"
    # and the change is in the LogEntry and the object's history page
    entry = LogEntry.objects.get(object_id=str(row.pk), action_flag=CHANGE)
    assert entry.user == support_user
    assert "Status" in entry.get_change_message() or "status" in entry.get_change_message()
    history = support_client.get(reverse("admin:ledger_transaction_history", args=[row.pk]))
    assert history.status_code == 200
    assert support_user.username in history.content.decode()


def test_support_change_page_shows_amount_read_only_and_formatted(support_client):
    row = TransactionFactory(amount=Decimal("1234567"))
    page = support_client.get(change(row))
    form = page.context["adminform"].form
    assert set(form.fields) == {"status", "category"}
    assert "₩1,234,567" in page.content.decode()


def test_support_cannot_pick_another_users_category(support_client):
    row = TransactionFactory()
    stranger_category = CategoryFactory()
    page = support_client.get(change(row))
    response = support_client.post(
        change(row), change_form_data(page, category=str(stranger_category.pk))
    )
    assert response.status_code == 200  # the form comes back with an error
    row.refresh_from_db()
    assert row.category is None


def test_pending_variable_amount_cannot_be_confirmed_without_an_amount(support_client):
    rule = RecurringTransactionFactory(is_variable_amount=True, amount=None)
    row = TransactionFactory(ledger=rule.ledger, recurring=rule, amount=None, status="scheduled")
    page = support_client.get(change(row))
    response = support_client.post(change(row), change_form_data(page, status="confirmed"))
    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    row.refresh_from_db()
    assert row.status == "scheduled"


def test_superuser_confirms_a_pending_amount_only_together_with_the_amount(superuser_client):
    # The rule is the transactions service's (as for PATCH /transactions/{id}): the admin
    # shows it on the amount field, where a superuser can fix it.
    rule = RecurringTransactionFactory(is_variable_amount=True, amount=None)
    row = TransactionFactory(ledger=rule.ledger, recurring=rule, amount=None, status="scheduled")
    page = superuser_client.get(change(row))
    rejected = superuser_client.post(change(row), change_form_data(page, status="confirmed"))
    assert rejected.status_code == 200
    assert rejected.context["adminform"].form.errors["amount"] == [
        "Enter the amount to confirm this transaction (its amount is pending)."
    ]
    row.refresh_from_db()
    assert row.status == "scheduled"
    accepted = superuser_client.post(
        change(row), change_form_data(page, status="confirmed", amount="48210")
    )
    assert accepted.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.amount, row.recurring) == ("confirmed", Decimal("48210"), rule)


def test_support_gets_the_services_unknown_category_error(support_client):
    row = TransactionFactory()
    page = support_client.get(change(row))
    response = support_client.post(
        change(row), change_form_data(page, category=str(CategoryFactory().pk))
    )
    assert response.status_code == 200
    # the queryset of the field already refuses it, or the service does: either way an error
    assert response.context["adminform"].form.errors["category"]


def test_a_transaction_never_changes_hands_in_the_admin(superuser_client):
    old_owner, new_owner = UserFactory(), UserFactory()
    rule = RecurringTransactionFactory(user=old_owner)
    row = TransactionFactory(user=old_owner, recurring=rule)
    page = superuser_client.get(change(row))
    assert {"user", "recurring", "legacy_id"}.isdisjoint(page.context["adminform"].form.fields)

    response = superuser_client.post(
        change(row),
        {
            **change_form_data(page, description="고침"),
            "user": str(new_owner.pk),
            "recurring": "",
            "legacy_id": "x",
        },
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.ledger.personal_for, row.recurring, row.description) == (old_owner, rule, "고침")


def test_superuser_deletes_transactions_through_the_service(superuser_client):
    one, two, kept = TransactionFactory(), TransactionFactory(), TransactionFactory()
    delete = reverse("admin:ledger_transaction_delete", args=[one.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 302
    response = superuser_client.post(
        changelist(Transaction),
        {"action": "delete_selected", "_selected_action": [str(two.pk)], "post": "yes"},
    )
    assert response.status_code == 302
    assert list(Transaction.objects.values_list("pk", flat=True)) == [kept.pk]


def test_deleting_a_rule_in_the_admin_keeps_history_and_drops_scheduled_rows(superuser_client):
    rule = RecurringTransactionFactory()
    past = TransactionFactory(
        ledger=rule.ledger,
        recurring=rule,
        status="confirmed",
        date=datetime.date(2025, 6, 25),
    )
    future = TransactionFactory(
        ledger=rule.ledger,
        recurring=rule,
        status="scheduled",
        date=datetime.date(2025, 7, 25),
    )
    delete = reverse("admin:ledger_recurringtransaction_delete", args=[rule.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 302
    assert not RecurringTransaction.objects.filter(pk=rule.pk).exists()
    assert not Transaction.objects.filter(pk=future.pk).exists()
    past.refresh_from_db()
    assert past.recurring is None


def test_superuser_adds_a_transaction_through_the_service(superuser_client):
    owner = UserFactory()
    add = reverse("admin:ledger_transaction_add")
    page = superuser_client.get(add)
    base = change_form_data(
        page,
        ledger=str(personal_ledger(user=owner).pk),
        date="2025-07-03",
        description="점심",
        type="expense",
        status="confirmed",
    )
    missing = superuser_client.post(add, base)
    assert missing.status_code == 200
    assert missing.context["adminform"].form.errors["amount"] == ["This field is required."]
    stranger = superuser_client.post(
        add, {**base, "amount": "9000", "category": str(CategoryFactory().pk)}
    )
    assert stranger.status_code == 200
    assert stranger.context["adminform"].form.errors["category"]
    assert not Transaction.objects.filter(ledger__personal_for=owner).exists()
    created = superuser_client.post(
        add, {**base, "amount": "9000", "category": str(default_category().pk)}
    )
    assert created.status_code == 302
    row = Transaction.objects.get(ledger__personal_for=owner)
    assert (row.date, row.amount, row.category) == (
        datetime.date(2025, 7, 3),
        Decimal("9000"),
        default_category(),
    )


def test_rule_form_shows_the_engines_validation_errors(superuser_client):
    rule = RecurringTransactionFactory(
        start_date=datetime.date(2025, 6, 1), end_date=None, day_of_month=25
    )
    page = superuser_client.get(change(rule))
    # another user's category: the engine's rule, shown on the field (no 500)
    stranger = superuser_client.post(
        change(rule), change_form_data(page, category=str(CategoryFactory().pk))
    )
    assert stranger.status_code == 200
    assert stranger.context["adminform"].form.errors["category"]
    # an end before the start: only the engine knows that rule
    backwards = superuser_client.post(change(rule), change_form_data(page, end_date="2025-01-01"))
    assert backwards.status_code == 200
    assert backwards.context["adminform"].form.errors["end_date"] == [
        "The end must not be before the start."
    ]
    rule.refresh_from_db()
    assert rule.end_date is None


def test_support_cannot_delete_or_add_transactions(support_client):
    row = TransactionFactory()
    delete = reverse("admin:ledger_transaction_delete", args=[row.pk])
    assert support_client.get(delete).status_code == 403
    assert support_client.post(delete, {"post": "yes"}).status_code == 403
    assert support_client.get(reverse("admin:ledger_transaction_add")).status_code == 403
    assert Transaction.objects.filter(pk=row.pk).exists()


def test_superuser_edits_amount_as_an_exact_decimal(superuser_client):
    row = TransactionFactory(amount=Decimal("5400"))
    page = superuser_client.get(change(row))
    field = page.context["adminform"].form.fields["amount"]
    assert field.__class__.__name__ == "DecimalField"
    # 17 significant digits: a float would round this.
    response = superuser_client.post(change(row), change_form_data(page, amount="1234567890123.47"))
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.amount == Decimal("1234567890123.47")
    rejected = superuser_client.post(change(row), change_form_data(page, amount="1e400"))
    assert rejected.status_code == 200
    assert "amount" in rejected.context["adminform"].form.errors


# --- Recurring rules --------------------------------------------------------------------------


def test_rule_list_shows_amount_frequency_day_and_period(superuser_client):
    RecurringTransactionFactory(
        template_name="넷플릭스",
        amount=Decimal("17000"),
        day_of_month=15,
        start_date=datetime.date(2025, 1, 1),
        end_date=datetime.date(2025, 12, 1),
    )
    page = superuser_client.get(changelist(RecurringTransaction)).content.decode()
    assert "넷플릭스" in page
    assert "₩17,000" in page
    assert "2025-01 – 2025-12" in page


def test_rule_page_lists_only_recent_generated_transactions_and_links_all(superuser_client):
    rule = RecurringTransactionFactory()
    for month in range(1, 13):
        for year in (2023, 2024):
            TransactionFactory(
                ledger=rule.ledger, recurring=rule, date=datetime.date(year, month, 25)
            )
    page = superuser_client.get(change(rule))
    assert page.status_code == 200
    inline = page.context["inline_admin_formsets"][0].formset
    assert len(inline.forms) == 20
    assert inline.forms[0].instance.date == datetime.date(2024, 12, 25)
    body = page.content.decode()
    assert f"?recurring__id__exact={rule.pk}" in body
    assert "All 24 transactions" in body
    listed = superuser_client.get(changelist(Transaction) + f"?recurring__id__exact={rule.pk}")
    assert len(listed.context["cl"].result_list) == 24


def test_support_may_only_toggle_a_rules_active_flag(support_client, support_user):
    rule = RecurringTransactionFactory(amount=Decimal("550000"), day_of_month=25)
    page = support_client.get(change(rule))
    assert set(page.context["adminform"].form.fields) == {"is_active"}
    data = change_form_data(page, is_active=None, amount="1", day_of_month="3")
    response = support_client.post(change(rule), data)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.is_active is False
    assert rule.amount == Decimal("550000")
    assert rule.day_of_month == 25
    assert LogEntry.objects.filter(object_id=str(rule.pk), user=support_user).exists()


# --- Categories -------------------------------------------------------------------------------


def test_category_kind_filter(superuser_client):
    own = CategoryFactory()
    defaults = superuser_client.get(changelist(Category) + "?kind=default")
    users = superuser_client.get(changelist(Category) + "?kind=ledger")
    assert {c.pk for c in users.context["cl"].result_list} == {own.pk}
    assert all(c.is_default for c in defaults.context["cl"].result_list)
    assert len(defaults.context["cl"].result_list) == 18


def test_support_cannot_change_or_delete_default_categories(support_client):
    food = default_category()
    page = support_client.get(change(food))
    assert page.status_code == 200
    assert not page.context["adminform"].form.fields  # view only
    assert support_client.post(change(food), {"name": "밥"}).status_code == 403
    delete = reverse("admin:ledger_category_delete", args=[food.pk])
    assert support_client.post(delete, {"post": "yes"}).status_code == 403
    assert Category.objects.filter(pk=food.pk, name="식비").exists()


def test_default_categories_are_read_only_even_for_superusers(superuser_client):
    # the SPA's list, repaired by every migrate: an edit here would not last
    food = default_category()
    page = superuser_client.get(change(food))
    assert page.status_code == 200
    assert not page.context["adminform"].form.fields
    assert superuser_client.post(change(food), {"name": "밥"}).status_code == 403
    delete = reverse("admin:ledger_category_delete", args=[food.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    assert Category.objects.filter(pk=food.pk, name="식비").exists()


def test_superuser_edits_a_users_category_through_the_service(superuser_client, superuser):
    owner = UserFactory()
    own = CategoryFactory(user=owner, name="간식")
    CategoryFactory(user=owner, name="커피")
    page = superuser_client.get(change(own))
    renamed = superuser_client.post(change(own), change_form_data(page, emoji="🍩"))
    assert renamed.status_code == 302
    own.refresh_from_db()
    assert own.emoji == "🍩"
    assert LogEntry.objects.filter(object_id=str(own.pk), user=superuser).exists()

    # the service's rule: a name may not repeat a default's (식비) — refused, nothing written
    clash = superuser_client.post(change(own), change_form_data(page, name="식비"))
    assert clash.status_code == 302
    own.refresh_from_db()
    assert own.name == "간식"
    messages = [str(m) for m in clash.wsgi_request._messages]
    assert any("already exists" in m for m in messages), messages


def test_superuser_adds_and_deletes_a_users_category_through_the_service(superuser_client):
    owner = UserFactory()
    row = TransactionFactory(user=owner)
    add = reverse("admin:ledger_category_add")
    page = superuser_client.get(add)
    added = superuser_client.post(
        add, change_form_data(page, ledger=str(row.ledger_id), name="여행", emoji="✈️")
    )
    assert added.status_code == 302
    trip = Category.objects.get(ledger__personal_for=owner, name="여행")
    assert not trip.is_default
    row.category = trip
    row.save()

    delete = reverse("admin:ledger_category_delete", args=[trip.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 302
    row.refresh_from_db()
    assert row.category is None and not Category.objects.filter(pk=trip.pk).exists()


def test_support_cannot_bulk_delete_categories(support_client):
    CategoryFactory()
    response = support_client.get(changelist(Category))
    assert "delete_selected" not in response.context["cl"].model_admin.get_actions(
        response.wsgi_request
    )


# --- The support role -------------------------------------------------------------------------


def test_support_group_has_view_everywhere_and_change_only_where_needed():
    group = Group.objects.get(name=SUPPORT_GROUP)
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert codenames == {codename for _, _, codename in SUPPORT_PERMISSIONS}
    assert not any(code.startswith(("delete_", "add_")) for code in codenames)
    assert "change_category" not in codenames and "change_user" not in codenames


def test_support_group_creation_is_idempotent():
    from django.apps import apps

    before = set(Group.objects.get(name=SUPPORT_GROUP).permissions.all())
    ensure_support_group(apps=apps)
    ensure_support_group(apps=apps)
    assert Group.objects.filter(name=SUPPORT_GROUP).count() == 1
    assert set(Group.objects.get(name=SUPPORT_GROUP).permissions.all()) == before
    assert Permission.objects.filter(codename="import_user_data").count() == 1


# --- A real browser against a real gunicorn ---------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_env(static_root: Path) -> dict:
    return child_process_env(
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_STATIC_ROOT=static_root,
        # The browser talks plain http to 127.0.0.1: no TLS redirect, no HSTS, and cookies
        # that are not Secure (production keeps all three; test_deployment checks them).
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_HSTS_SECONDS="0",
        DJANGO_SESSION_COOKIE_SECURE="false",
        DJANGO_CSRF_COOKIE_SECURE="false",
    )


@pytest.fixture
def gunicorn_server(transactional_db, tmp_path):
    """The project under a real gunicorn with DEBUG off, its static files collected into a
    temporary STATIC_ROOT and served by whitenoise, on the test database."""
    base_dir = Path(settings.BASE_DIR)
    env = _server_env(tmp_path / "static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=base_dir,
        env=env,
        check=True,
        timeout=120,
    )
    port = _free_port()
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "household_ledger.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "60",
        ],
        cwd=base_dir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base_url + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("gunicorn did not start:\n" + (tmp_path / "gunicorn.log").read_text())
            time.sleep(0.2)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.mark.browser
def test_browser_logs_in_and_sees_the_styled_transaction_changelist(gunicorn_server, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (.ci/run installs it)")
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from playwright.sync_api import sync_playwright

    # given a superuser whose password the server's (default) hashers can check
    hasher = PBKDF2PasswordHasher()
    UserFactory(
        clerk_user_id="",
        username="browser-root",
        email="browser-root@support.example",
        is_staff=True,
        is_superuser=True,
        password=hasher.encode("s3cret-browser-pass", hasher.salt(), iterations=1000),
    )
    TransactionFactory(description="브라우저 확인", amount=Decimal("1234567"))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(color_scheme="light")
            # when logging in and opening the transaction changelist
            page.goto(gunicorn_server + "/admin/login/?next=/admin/ledger/transaction/")
            page.fill("#id_username", "browser-root")
            page.fill("#id_password", "s3cret-browser-pass")
            page.click("input[type=submit]")
            page.wait_for_url("**/admin/ledger/transaction/")
            # then the page is the admin's, with the admin stylesheet applied
            assert "household_ledger support" in page.inner_text("#site-name")
            assert "₩1,234,567" in page.inner_text("#result_list")
            header_background = page.evaluate(
                "getComputedStyle(document.querySelector('#header')).backgroundColor"
            )
            # --header-bg is --secondary (#417690) in admin/css/base.css; unstyled: transparent.
            assert header_background == "rgb(65, 118, 144)"
            base_css = page.evaluate(
                "[...document.styleSheets].map(s => s.href || '')"
                ".find(h => /admin\\/css\\/base\\.[0-9a-f]+\\.css$/.test(h))"
            )
            assert base_css, "the hashed (collectstatic manifest) base.css is not linked"
            css = page.request.get(base_css)
            assert css.status == 200
            assert css.headers["content-type"].startswith("text/css")
            screenshot = tmp_path / "transaction-changelist.png"
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert screenshot.stat().st_size > 0


# --- Rule actions, through the changelist's action POST ------------------------------------


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@time_machine.travel(datetime.datetime(2025, 8, 10, 3, 0, tzinfo=datetime.UTC))
def test_materialize_now_action_creates_missing_occurrences_and_reports_them(support_client):
    rule = RecurringTransactionFactory(start_date=datetime.date(2025, 6, 1), day_of_month=25)
    inactive = RecurringTransactionFactory(is_active=False, start_date=datetime.date(2025, 6, 1))

    response = support_client.post(
        changelist(RecurringTransaction),
        {"action": "materialize_now", "_selected_action": [rule.pk, inactive.pk]},
        follow=True,
    )

    dates = list(rule.transactions.order_by("date").values_list("date", "status"))
    assert dates == [
        (datetime.date(2025, 6, 25), "confirmed"),
        (datetime.date(2025, 7, 25), "confirmed"),
        (datetime.date(2025, 8, 25), "scheduled"),
        (datetime.date(2025, 9, 25), "scheduled"),
    ]
    assert not inactive.transactions.exists()
    assert "Materialized 2 rule(s): 4 transaction(s) created." in _messages(response)
    # a second run changes nothing
    again = support_client.post(
        changelist(RecurringTransaction),
        {"action": "materialize_now", "_selected_action": [rule.pk]},
        follow=True,
    )
    assert "Materialized 1 rule(s): 0 transaction(s) created." in _messages(again)
    assert rule.transactions.count() == 4


@time_machine.travel(datetime.datetime(2025, 8, 10, 3, 0, tzinfo=datetime.UTC))
def test_deactivate_action_stops_the_rule_and_removes_future_scheduled_rows(support_client):
    rule = RecurringTransactionFactory(start_date=datetime.date(2025, 6, 1), day_of_month=25)
    support_client.post(
        changelist(RecurringTransaction),
        {"action": "materialize_now", "_selected_action": [rule.pk]},
    )
    assert rule.transactions.count() == 4

    response = support_client.post(
        changelist(RecurringTransaction),
        {"action": "deactivate", "_selected_action": [rule.pk]},
        follow=True,
    )

    rule.refresh_from_db()
    assert rule.is_active is False
    # confirmed history stays; the two future scheduled occurrences are gone
    assert list(rule.transactions.values_list("status", flat=True)) == ["confirmed"] * 2
    assert "Deactivated 1 rule(s); 2 future scheduled transaction(s) removed." in _messages(
        response
    )


@time_machine.travel(datetime.datetime(2025, 8, 10, 3, 0, tzinfo=datetime.UTC))
def test_unticking_active_on_the_rule_page_goes_through_the_engine(support_client):
    rule = RecurringTransactionFactory(start_date=datetime.date(2025, 6, 1), day_of_month=25)
    support_client.post(
        changelist(RecurringTransaction),
        {"action": "materialize_now", "_selected_action": [rule.pk]},
    )
    page = support_client.get(change(rule))
    response = support_client.post(change(rule), change_form_data(page, is_active=None))
    assert response.status_code == 302
    assert rule.transactions.filter(status="scheduled").count() == 0
    assert rule.transactions.count() == 2


def test_rule_actions_need_the_change_permission(client):
    staff = UserFactory(clerk_user_id="", username="viewer", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_recurringtransaction"))
    client.force_login(staff)
    rule = RecurringTransactionFactory()
    response = client.get(changelist(RecurringTransaction))
    assert "materialize_now" not in response.context["cl"].model_admin.get_actions(
        response.wsgi_request
    )
    client.post(
        changelist(RecurringTransaction),
        {"action": "materialize_now", "_selected_action": [rule.pk]},
    )
    assert not rule.transactions.exists()
