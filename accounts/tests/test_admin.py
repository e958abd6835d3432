"""The user admin: list, stats panel, links, export and import — through the admin's URLs."""

import datetime
import json
from decimal import Decimal

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import User
from accounts.tests.admin_support import change_form_data, count_queries
from accounts.tests.factories import UserFactory
from ledger.api.backup import IMPORT_SLOTS_OF_PROCESS
from ledger.models import Transaction
from ledger.services.ledgers import personal_ledger
from ledger.tests.backup_support import SPA_FIXTURE
from ledger.tests.factories import (
    CategoryFactory,
    RecurringTransactionFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

USERS = reverse("admin:accounts_user_changelist")
FIXTURE = SPA_FIXTURE  # an SPA backup (our own fixture)


def change(user) -> str:
    return reverse("admin:accounts_user_change", args=[user.pk])


def export_url(user) -> str:
    return reverse("admin:accounts_user_export", args=[user.pk])


def import_url(user) -> str:
    return reverse("admin:accounts_user_import", args=[user.pk])


def test_user_pages_answer_for_superuser_and_support(staff_client):
    person = UserFactory()
    TransactionFactory(user=person)
    assert staff_client.get(USERS).status_code == 200
    assert staff_client.get(change(person)).status_code == 200


def test_user_list_shows_clerk_id_last_seen_and_annotated_transaction_count(superuser_client):
    person = UserFactory(email="minji@example.com", clerk_user_id="user_2minji")
    User.objects.filter(pk=person.pk).update(
        last_seen=datetime.datetime(2025, 8, 1, 3, 0, tzinfo=datetime.UTC)
    )
    TransactionFactory.create_batch(3, user=person)

    response = superuser_client.get(USERS + "?q=minji")

    [row] = response.context["cl"].result_list
    assert row == person
    assert row.transaction_count == 3
    page = response.content.decode()
    assert "user_2minji" in page and "minji@example.com" in page
    assert "2025" in page  # last seen is displayed


def test_user_search_by_email_and_by_clerk_id(superuser_client):
    wanted = UserFactory(email="wanted@example.com", clerk_user_id="user_2abcWANTED")
    UserFactory(email="other@example.com")

    def found(query):
        response = superuser_client.get(USERS + f"?q={query}")
        return set(response.context["cl"].result_list)

    assert found("wanted@example.com") == {wanted}
    assert found("user_2abcWANTED") == {wanted}


def test_user_list_query_count_does_not_grow_with_rows(superuser_client, support_client):
    def seed(count):
        for _ in range(count):
            TransactionFactory.create_batch(2, user=UserFactory())

    seed(10)
    at_10 = (count_queries(superuser_client, USERS), count_queries(support_client, USERS))
    seed(190)
    at_200 = (count_queries(superuser_client, USERS), count_queries(support_client, USERS))
    assert at_200 == at_10


@time_machine.travel(datetime.datetime(2025, 7, 31, 16, 0, tzinfo=datetime.UTC))  # 1 Aug, Seoul
def test_user_page_shows_stats_panel_for_this_month_in_seoul_and_links(support_client):
    person = UserFactory()
    # all-time assets: confirmed only
    TransactionFactory(
        user=person, type="income", amount=Decimal("3000000"), date=datetime.date(2025, 7, 25)
    )
    TransactionFactory(
        user=person, type="expense", amount=Decimal("1234567"), date=datetime.date(2025, 7, 26)
    )
    # this month in Seoul is August (UTC is still 31 July): income + a scheduled expense
    TransactionFactory(
        user=person, type="income", amount=Decimal("100000"), date=datetime.date(2025, 8, 1)
    )
    TransactionFactory(
        user=person,
        type="expense",
        amount=Decimal("55000"),
        date=datetime.date(2025, 8, 20),
        status="scheduled",
    )
    RecurringTransactionFactory(user=person)
    CategoryFactory(user=person)

    response = support_client.get(change(person))

    page = response.content.decode()
    stats = response.context["ledger_panel"]["stats"]
    assert stats["month_label"] == "2025-08"
    assert stats["assets"] == Decimal("1865433")
    assert stats["income"] == Decimal("100000")
    assert stats["expense"] == Decimal("55000")
    assert "₩1,865,433" in page
    assert "₩100,000" in page and "₩55,000" in page
    ledger = personal_ledger(user=person)
    assert f"/admin/ledger/transaction/?ledger__id__exact={ledger.pk}" in page
    assert f"/admin/ledger/recurringtransaction/?ledger__id__exact={ledger.pk}" in page
    assert f"/admin/ledger/category/?ledger__id__exact={ledger.pk}" in page
    # read-only for support: a view, not a change form
    assert response.context["has_change_permission"] is False


def test_panel_links_list_only_that_users_rows(support_client):
    person, other = UserFactory(), UserFactory()
    mine = TransactionFactory(user=person)
    TransactionFactory(user=other)
    rule = RecurringTransactionFactory(user=person)
    RecurringTransactionFactory(user=other)
    category = CategoryFactory(user=person)
    CategoryFactory(user=other)

    def listed(model_name):
        ledger = personal_ledger(user=person)
        url = reverse(f"admin:ledger_{model_name}_changelist") + f"?ledger__id__exact={ledger.pk}"
        response = support_client.get(url)
        assert response.status_code == 200
        return {row.pk for row in response.context["cl"].result_list}

    assert listed("transaction") == {mine.pk}
    assert listed("recurringtransaction") == {rule.pk}
    assert listed("category") == {category.pk}


def test_support_cannot_delete_or_change_users(support_client):
    person = UserFactory()
    delete = reverse("admin:accounts_user_delete", args=[person.pk])
    assert support_client.get(delete).status_code == 403
    assert support_client.post(delete, {"post": "yes"}).status_code == 403
    bulk = support_client.post(
        USERS, {"action": "delete_selected", "_selected_action": [person.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    assert User.objects.filter(pk=person.pk).exists()
    assert support_client.post(change(person), {"email": "x@example.com"}).status_code == 403
    person.refresh_from_db()
    assert person.email != "x@example.com"


def test_superuser_edits_a_user_and_it_is_in_the_history(superuser_client, superuser):
    person = UserFactory()
    page = superuser_client.get(change(person))
    response = superuser_client.post(
        change(person), change_form_data(page, email="new@example.com")
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.email == "new@example.com"
    history = superuser_client.get(reverse("admin:accounts_user_history", args=[person.pk]))
    [entry] = history.context["action_list"]
    assert entry.user == superuser
    assert json.loads(entry.change_message) == [{"changed": {"fields": ["Email"]}}]


# --- Export -----------------------------------------------------------------------------------


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_export_action_downloads_the_backup_document(support_client, support_user):
    person = UserFactory()
    TransactionFactory(user=person, description="월세", amount=Decimal("550000"))
    TransactionFactory(user=UserFactory(), description="someone else's")

    response = support_client.post(
        USERS, {"action": "export_user_data", "_selected_action": [person.pk]}
    )

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    document = json.loads(_body(response))
    text = json.dumps(document, ensure_ascii=False)
    assert "월세" in text and "someone else's" not in text
    assert LogEntry.objects.filter(object_id=str(person.pk), user=support_user).exists()


def test_export_action_refuses_several_users(support_client):
    people = [UserFactory(), UserFactory()]
    response = support_client.post(
        USERS,
        {"action": "export_user_data", "_selected_action": [p.pk for p in people]},
        follow=True,
    )
    assert "exactly one user" in response.content.decode()


def test_export_button_on_the_user_page(support_client):
    person = UserFactory()
    page = support_client.get(change(person)).content.decode()
    assert export_url(person) in page and import_url(person) in page
    assert support_client.get(export_url(person)).status_code == 200


# --- Import: upload → dry run → confirm ------------------------------------------------------


def _upload(client, person, content: bytes, name="가계부_백업_2025-08-02.json", mode="merge"):
    return client.post(
        import_url(person),
        {"file": SimpleUploadedFile(name, content, "application/json"), "mode": mode},
    )


def test_import_dry_run_writes_nothing_then_confirm_imports(support_client, support_user):
    person = UserFactory()
    raw = FIXTURE.read_bytes()
    expected = len(json.loads(raw)["transactions"])

    # the import action leads to the form
    start = support_client.post(
        USERS, {"action": "import_user_data", "_selected_action": [person.pk]}
    )
    assert start.status_code == 302 and start["Location"] == import_url(person)
    assert support_client.get(import_url(person)).status_code == 200

    # upload: a dry run, shown, nothing written
    preview = _upload(support_client, person, raw)
    assert preview.status_code == 200
    report = preview.context["report"]
    assert report.dry_run and report.ok
    assert report.created["transactions"] == expected
    assert "would create" in preview.content.decode()
    assert not Transaction.objects.filter(ledger__personal_for=person).exists()

    # confirm: the real import
    token = preview.context["confirm_form"].initial["token"]
    done = support_client.post(import_url(person), {"token": token}, follow=True)
    assert done.redirect_chain[-1][0] == change(person)
    assert Transaction.objects.filter(ledger__personal_for=person).count() == expected
    assert "Imported" in done.content.decode()
    assert LogEntry.objects.filter(
        object_id=str(person.pk),
        user=support_user,
        change_message__startswith="Imported",
    ).exists()

    # the token is spent: confirming again does nothing more
    again = support_client.post(import_url(person), {"token": token}, follow=True)
    assert "expired" in again.content.decode()
    assert Transaction.objects.filter(ledger__personal_for=person).count() == expected


def test_import_of_the_same_file_again_creates_no_duplicates(superuser_client):
    person = UserFactory()
    raw = FIXTURE.read_bytes()
    for _ in range(2):
        preview = _upload(superuser_client, person, raw)
        token = preview.context["confirm_form"].initial["token"]
        superuser_client.post(import_url(person), {"token": token})
    assert Transaction.objects.filter(ledger__personal_for=person).count() == len(
        json.loads(raw)["transactions"]
    )
    assert _upload(superuser_client, person, raw).context["report"].created["transactions"] == 0


def test_import_of_an_unreadable_file_shows_the_error(support_client):
    person = UserFactory()
    response = _upload(support_client, person, b"this is not json")
    assert response.status_code == 200
    assert response.context["upload_form"].errors["file"]
    assert "confirm_form" not in response.context
    assert not Transaction.objects.filter(ledger__personal_for=person).exists()


def test_import_token_is_bound_to_the_user_it_was_previewed_for(superuser_client):
    person, other = UserFactory(), UserFactory()
    preview = _upload(superuser_client, person, FIXTURE.read_bytes())
    token = preview.context["confirm_form"].initial["token"]
    response = superuser_client.post(import_url(other), {"token": token}, follow=True)
    assert "expired" in response.content.decode()
    assert not Transaction.objects.filter(ledger__personal_for__in=[person, other]).exists()


def test_staff_without_the_import_permission_is_refused(client):
    staff = UserFactory(clerk_user_id="", username="viewer", is_staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(staff)
    person = UserFactory()
    assert client.get(import_url(person)).status_code == 403
    assert client.get(export_url(person)).status_code == 403


def test_import_of_a_file_over_the_admin_limit_is_refused_naming_the_command(
    superuser_client, settings
):
    person = UserFactory()
    raw = FIXTURE.read_bytes()
    settings.ADMIN_IMPORT_MAX_BYTES = len(raw) - 1
    response = _upload(superuser_client, person, raw)
    error = response.context["upload_form"].errors["file"][0]
    assert "ADMIN_IMPORT_MAX_BYTES" in error and "import_indexeddb" in error
    assert "confirm_form" not in response.context
    assert not Transaction.objects.filter(ledger__personal_for=person).exists()


def test_import_waits_for_the_process_import_slot_in_both_steps(superuser_client):
    person = UserFactory()
    with IMPORT_SLOTS_OF_PROCESS.hold():
        busy = _upload(superuser_client, person, FIXTURE.read_bytes())
    assert "Another import is running" in busy.context["upload_form"].errors["file"][0]

    preview = _upload(superuser_client, person, FIXTURE.read_bytes())
    token = preview.context["confirm_form"].initial["token"]
    with IMPORT_SLOTS_OF_PROCESS.hold():
        refused = superuser_client.post(import_url(person), {"token": token}, follow=True)
    assert "Another import is running" in refused.content.decode()
    assert not Transaction.objects.filter(ledger__personal_for=person).exists()
    # the preview is still there: confirming once the slot is free imports
    superuser_client.post(import_url(person), {"token": token})
    assert Transaction.objects.filter(ledger__personal_for=person).exists()
