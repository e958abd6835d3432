"""Schema fuzzing: schemathesis against the app's own `/api/schema/`, every operation.

A short run (FUZZ_EXAMPLES per operation, default 25; positive and negative inputs) is part of
the suite; the long run is `make fuzz`. Requests go through the real WSGI
app with a real signed session token, against a user with a full ledger; where an operation
takes an id, some examples use one of the user's real ids instead of a random one.

Checks: no 5xx, every response conforms to its documented schema, no undocumented status code.
"""

import os
import random
from decimal import Decimal

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tests.tokens import mint_token
from ledger.models import Category, RecurringTransaction, Transaction
from ledger.services.recurring.engine import recurring_materialize_all
from ledger.tests.factories import CategoryFactory, RecurringTransactionFactory, TransactionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


# Loaded once at collection through the WSGI app (the schema view needs no database).
# (schemathesis.pytest.from_fixture does not work with pytest 9: it sets node._nodeid.)
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection(db):
    """As Django's test client does: a request must not close the test's database connection
    (its transaction holds the test data)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def ledger_ids(user):
    category = CategoryFactory(user=user)
    rule = RecurringTransactionFactory(user=user, category=category)
    variable = RecurringTransactionFactory(user=user, amount=None, is_variable_amount=True)
    rows = [
        TransactionFactory(user=user, category=category, amount=Decimal(n * 1000))
        for n in range(1, 4)
    ]
    recurring_materialize_all()
    return {
        "/transactions/{id}": [str(r.pk) for r in rows],
        "/categories/{id}": [str(category.pk)],
        "/recurring/{id}": [str(rule.pk), str(variable.pk)],
        "/recurring/{id}/generate": [str(rule.pk), str(variable.pk)],
    }


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, user, ledger_ids):
    real_ids = ledger_ids.get(case.path)
    if real_ids and case.path_parameters and "id" in case.path_parameters:
        chooser = random.Random(repr(case.path_parameters))  # noqa: S311 - not security
        if chooser.random() < 0.5:
            case.path_parameters["id"] = chooser.choice(real_ids)
    headers = {"Authorization": f"Bearer {mint_token(sub=user.clerk_user_id)}"}
    case.call_and_validate(headers=headers, checks=CHECKS)


STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "15"))


def test_stateful_workflows_conform_to_the_schema(user):
    """Sequences that follow the links schemathesis infers (create → read → change → delete
    of transactions, categories and rules), with the same checks on every step."""
    subject = user.clerk_user_id

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Bearer {mint_token(sub=subject)}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

        def teardown(self):
            # Every scenario starts from the same (empty) ledger, so hypothesis can replay it.
            Transaction.objects.filter(user=user).delete()
            RecurringTransaction.objects.filter(user=user).delete()
            Category.objects.filter(user=user).delete()

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
