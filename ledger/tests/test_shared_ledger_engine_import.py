"""The recurring engine and the import in a shared ledger."""

import datetime
import json

import pytest

from accounts.tests.factories import UserFactory
from ledger.models import LedgerRole, Transaction
from ledger.services.recurring.engine import recurring_materialize_all
from ledger.tests.factories import RecurringTransactionFactory, shared_ledger_with

pytestmark = pytest.mark.django_db

SPA_ROWS = {
    "version": 1,
    "exportDate": "2025-08-02T00:00:00.000Z",
    "transactions": [
        {
            "id": "1",
            "description": "점심",
            "amount": 8500,
            "type": "expense",
            "date": "2025-07-24T15:00:00.000Z",
            "category": "식비",
            "status": "confirmed",
        },
    ],
}


@pytest.fixture
def household():
    owner, editor, viewer = UserFactory(), UserFactory(), UserFactory()
    ledger = shared_ledger_with(
        owner=owner, members={editor: LedgerRole.EDITOR, viewer: LedgerRole.VIEWER}
    )
    return ledger, owner, editor, viewer


def test_the_engine_materializes_a_shared_ledgers_rules_into_that_ledger(household):
    ledger, owner, editor, _ = household
    rule = RecurringTransactionFactory(
        ledger=ledger, user=editor, start_date=datetime.date(2025, 1, 1)
    )
    revision = ledger.revision
    recurring_materialize_all(through=datetime.date(2025, 3, 31))
    rows = Transaction.objects.filter(recurring=rule)
    assert rows.count() == 3
    assert set(rows.values_list("ledger_id", "created_by_id")) == {(ledger.pk, editor.pk)}
    ledger.refresh_from_db()
    assert ledger.revision > revision
    assert not Transaction.objects.filter(ledger__personal_for=owner).exists()


def _import(client, ledger):
    return client.post(
        f"/ledgers/{ledger.pk}/backup/import",
        json.dumps(SPA_ROWS),
        content_type="application/json",
    )


def test_an_editor_imports_into_the_shared_ledger_and_a_viewer_cannot(household, auth_client):
    ledger, _, editor, viewer = household
    assert _import(auth_client(viewer), ledger).status_code == 403
    assert not Transaction.objects.filter(ledger=ledger).exists()
    response = _import(auth_client(editor), ledger)
    assert response.status_code == 200, response.content
    row = Transaction.objects.get(ledger=ledger)
    assert (row.date, row.created_by_id) == (datetime.date(2025, 7, 25), editor.pk)
    exported = auth_client(viewer).get(f"/ledgers/{ledger.pk}/backup/export")
    assert exported.status_code == 200
    body = b"".join(exported.streaming_content) if exported.streaming else exported.content
    assert "점심".encode() in body
    personal = auth_client(editor).get("/backup/export")
    body = b"".join(personal.streaming_content) if personal.streaming else personal.content
    assert "점심".encode() not in body
