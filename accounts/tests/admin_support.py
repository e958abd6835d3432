"""Fixtures and helpers for the admin tests (imported by accounts' and ledger's test_admin)."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from ledger.roles import SUPPORT_GROUP

PASSWORD = "correct horse battery staple"


@pytest.fixture
def superuser(db):
    return UserFactory(
        clerk_user_id="",
        username="root",
        email="root@support.example",
        is_staff=True,
        is_superuser=True,
    )


@pytest.fixture
def support_user(db):
    staff = UserFactory(
        clerk_user_id="", username="helpdesk", email="helpdesk@support.example", is_staff=True
    )
    staff.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    return staff


@pytest.fixture
def superuser_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def support_client(support_user):
    client = Client()
    client.force_login(support_user)
    return client


@pytest.fixture(params=["superuser", "support"])
def staff_client(request):
    """Each test using it runs once as a superuser and once as a `support` member."""
    return request.getfixturevalue(f"{request.param}_client")


def _form_value(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "on" if value else None
    if isinstance(value, datetime.datetime | datetime.date | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [str(item.pk if hasattr(item, "pk") else item) for item in value]
    if hasattr(value, "pk"):
        return str(value.pk)
    return str(value)


def change_form_data(response, **changes) -> dict:
    """The POST body the admin page in `response` would submit unchanged, plus `changes`.

    Read from the rendered page's form and inline formsets (management forms included), so a
    test POSTs exactly what a browser would.
    """
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for name in form.fields:
            value = _form_value(form[name].value())
            if value is not None:
                data[form.add_prefix(name)] = value
                if form.fields[name].show_hidden_initial:  # fields with a callable default
                    data[form.add_initial_prefix(name)] = value
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(queries.captured_queries)
