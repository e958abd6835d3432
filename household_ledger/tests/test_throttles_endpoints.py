"""The real endpoints' rate limits: per user everywhere, `backup` for export/import, `webhook`
for the Clerk webhook (anonymous, per IP)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(**scopes):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                "user": "1000/min",
                "backup": "1000/min",
                "webhook": "1000/min",
                **scopes,
            },
        }

    return set_rates


def _throttled(response):
    assert response.status_code == 429, response.content[:200]
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) >= 1


def test_a_user_over_the_user_rate_is_throttled_on_every_endpoint(
    rates, auth_client, user, other_user
):
    rates(user="4/min")
    client = auth_client(user)
    for path in ("/transactions", "/categories", "/recurring", "/stats/summary"):
        assert client.get(path).status_code == 200
    _throttled(client.get("/transactions"))
    _throttled(client.post("/transactions", {}, format="json"))
    assert auth_client(other_user).get("/transactions").status_code == 200


def test_export_and_import_share_the_stricter_backup_budget(rates, auth_client, user):
    rates(backup="2/hour")
    client = auth_client(user)
    assert client.get("/backup/export").status_code == 200
    document = {"version": 1, "exportDate": "2025-08-02T00:00:00.000Z", "transactions": []}
    assert client.post("/backup/import", document, format="json").status_code == 200
    _throttled(client.get("/backup/export"))
    _throttled(client.post("/backup/import", document, format="json"))
    assert client.get("/transactions").status_code == 200  # the rest of the API is unaffected


def test_the_webhook_is_throttled_per_ip_before_it_checks_signatures(rates, api_client):
    rates(webhook="3/min")
    for _ in range(3):
        response = api_client.post("/auth/webhook", {}, format="json", REMOTE_ADDR="10.2.2.2")
        assert response.status_code in (400, 401, 403)  # unsigned: refused
    _throttled(api_client.post("/auth/webhook", {}, format="json", REMOTE_ADDR="10.2.2.2"))
    other = api_client.post("/auth/webhook", {}, format="json", REMOTE_ADDR="10.3.3.3")
    assert other.status_code != 429
