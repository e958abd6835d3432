"""Schema fuzzing: schemathesis against the app's own `/api/schema/`, every operation.

A short run (FUZZ_EXAMPLES per operation, default 25; positive and negative inputs) is part of
the suite; the long run is `make fuzz`. Requests go through the real WSGI
app with a real signed session token, against a user with a full ledger; where an operation
takes an id, some examples use one of the user's real ids instead of a random one.

Checks: every check schemathesis has (`--checks all`: no 5xx, status codes, content types,
headers and bodies as documented, negative data rejected, positive data accepted, …). A
finding fails the test unless ALLOWED lists it (operation, check), with the reason.
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
from schemathesis.checks import CHECKS as CHECK_REGISTRY
from schemathesis.checks import load_all_checks
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.parameters import ParameterLocation

from accounts.tests.tokens import mint_token
from ledger.models import Category, RecurringTransaction, Transaction
from ledger.services.recurring.engine import recurring_materialize_all
from ledger.tests.factories import CategoryFactory, RecurringTransactionFactory, TransactionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
load_all_checks()
# `max_response_time` needs a configured limit; the soak and the benchmarks measure time.
CHECKS = [check for check in CHECK_REGISTRY.get_all() if check.__name__ != "max_response_time"]

# Findings we accept: (check name, "METHOD /path" or "*") → why.
ALLOWED = {
    ("positive_data_acceptance", "*"): "the schema states each field's shape, not the rules "
    "that depend on data or on other fields, which answer 400/422 naming the field: ids of "
    "the caller's own rows (category, rule), unique category names, the product's date range "
    "inside a valid date, date_from ≤ date_to and a period of ≤ 10 years, a rule's end not "
    "before its start, a file that is not a backup, an Idempotency-Key reused for another body",
    ("ignored_auth", "POST /auth/webhook"): "Svix-signed, no user token by design",
    ("ignored_auth", "*"): "the test replaces any generated Authorization with a real token "
    '(get_call_kwargs), so schemathesis\' "invalid" auth is valid here; refused tokens are '
    "accounts/tests/test_authentication.py",
    ("negative_data_rejection", "GET /transactions"): "an empty django-filter parameter "
    "(`?recurring=`) counts as absent, as docs/api.md says",
    ("negative_data_rejection", "GET /stats/trend"): "unknown query parameters are ignored "
    "(docs/api.md)",
    ("negative_data_rejection", "GET /stats/assets"): "unknown query parameters are ignored",
    ("negative_data_rejection", "GET /recurring"): "unknown query parameters are ignored",
    ("negative_data_rejection", "GET /stats/summary"): "a date is `anyOf` date | date-time; "
    "schemathesis negates one branch and sends a value the other accepts",
    ("negative_data_rejection", "GET /stats/category"): "as /stats/summary (anyOf dates)",
    ("negative_data_rejection", "GET /transactions/by-date/{date}"): "a boolean parameter "
    "also takes DRF's 1/0, yes/no, on/off (documented as boolean)",
    ("negative_data_rejection", "GET /transactions/by-month/{year}/{month}"): "as by-date",
    ("negative_data_rejection", "GET /stats/monthly/{year}/{month}"): "as by-date",
    # An empty optional parameter counts as absent, and of one sent twice the last value counts
    # (docs/api.md, query parameters): `format=` or `format=x&format=spa-v1` is an export.
    ("negative_data_rejection", "GET /backup/export"): "an empty `format` is the default one",
    ("negative_data_rejection", "GET /categories/suggest"): "an empty `amount` is no amount",
    ("missing_required_header", "POST /auth/webhook"): "the Svix headers are checked by the "
    "view (400 `webhook_signature_invalid`), not declared as required parameters",
}


def _unexpected(failures, operation: str) -> list:
    return [
        failure
        for failure in failures
        if not any(
            (check, where) in ALLOWED
            for check in (failure.checks or ("",))
            for where in (operation, "*")
        )
    ]


def _negative_at(case, location) -> bool:
    return case.meta is not None and case.meta.is_negative_at(location)


def _auth_headers(case, subject: str) -> dict:
    """A real token — unless the case is a negative one that generated its own Authorization
    (a wrong one is what it tests: replacing it would turn the case into a valid request)."""
    if _negative_at(case, ParameterLocation.HEADER) and "Authorization" in (case.headers or {}):
        return {}
    return {"Authorization": f"Bearer {mint_token(sub=subject)}"}


def call_and_check(case, **kwargs):
    """Run every check; raise only the findings ALLOWED does not list."""
    operation = f"{case.method.upper()} {case.path}"
    try:
        case.call_and_validate(checks=CHECKS, **kwargs)
    except FailureGroup as group:
        left = _unexpected(group.exceptions, operation)
        if left:
            raise FailureGroup(left) from group
    except Failure as failure:
        if _unexpected([failure], operation):
            raise


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
    if (
        real_ids
        and case.path_parameters
        and "id" in case.path_parameters
        and not _negative_at(case, ParameterLocation.PATH)
    ):
        chooser = random.Random(repr(case.path_parameters))  # noqa: S311 - not security
        if chooser.random() < 0.5:
            case.path_parameters["id"] = chooser.choice(real_ids)
    headers = _auth_headers(case, user.clerk_user_id)
    call_and_check(case, headers=headers)


STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "15"))


def test_stateful_workflows_conform_to_the_schema(user):
    """Sequences that follow the links schemathesis infers (create → read → change → delete
    of transactions, categories and rules), with the same checks on every step."""
    subject = user.clerk_user_id

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": _auth_headers(case, subject)}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            operation = f"{case.method.upper()} {case.path}"
            try:
                case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)
            except FailureGroup as group:
                left = _unexpected(group.exceptions, operation)
                if left:
                    raise FailureGroup(left) from group

        def teardown(self):
            # Every scenario starts from the same (empty) ledger, so hypothesis can replay it.
            Transaction.objects.filter(ledger__personal_for=user).delete()
            RecurringTransaction.objects.filter(ledger__personal_for=user).delete()
            Category.objects.filter(ledger__personal_for=user).delete()

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
