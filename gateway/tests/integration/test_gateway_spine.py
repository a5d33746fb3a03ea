"""The gateway in a real container in front of real campaigns and payments containers."""
import socket

import pytest
import requests

from campaigns.service import CampaignsService
from gateway.service import GatewayService
from payments.service import PaymentsService

pytestmark = pytest.mark.integration


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def api(container_factory, service_config):
    for service in (CampaignsService, PaymentsService):
        container_factory(service, service_config(service.name)).start()
    port = free_port()
    config = service_config("campaigns", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", DEMEU_DEV="1",
                            JWT_SECRET="test-secret", JWT_ISSUER="demeu-dev", JWT_AUDIENCE="demeu",
                            RPC_TIMEOUT=3, HEALTH_TIMEOUT=1)
    container_factory(GatewayService, config).start()
    return f"http://127.0.0.1:{port}"


def token(api, user_id, *roles):
    answer = requests.post(f"{api}/v1/auth/dev-token", json={"user_id": user_id, "roles": list(roles)})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_donation_spine_over_http(api):
    owner, moderator, donor = token(api, "owner-1"), token(api, "mod-1", "moderator"), token(api, "donor-1")
    created = requests.post(f"{api}/v1/campaigns", headers=owner, json={
        "title": "Shanyrak theatre tour", "summary": "Bring the play to five villages.",
        "category": "culture", "region": "KZ-35", "funding_model": "keep_it_all",
        "goal_amount": 2_000_000, "currency": "KZT", "duration_days": 30,
    })
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/v1/campaigns/{created.json()['id']}"
    campaign_id = created.json()["id"]
    assert requests.post(f"{api}/v1/campaigns/{campaign_id}/submit", headers=owner).status_code == 200
    forbidden = requests.post(f"{api}/v1/campaigns/{campaign_id}/approve", headers=owner)
    assert forbidden.status_code == 403 and forbidden.headers["Content-Type"].startswith("application/problem+json")
    assert requests.post(f"{api}/v1/campaigns/{campaign_id}/approve", headers=moderator).json()["status"] == "live"

    body = {"amount": 25_000, "payment_method": {"type": "card", "token": "tok_success"}}
    missing_key = requests.post(f"{api}/v1/campaigns/{campaign_id}/donations", headers=donor, json=body)
    assert missing_key.status_code == 400 and missing_key.json()["code"] == "idempotency_key_required"
    keyed = {**donor, "Idempotency-Key": "spine-1"}
    first = requests.post(f"{api}/v1/campaigns/{campaign_id}/donations", headers=keyed, json=body)
    assert first.status_code == 201 and first.json()["status"] == "succeeded", first.text
    again = requests.post(f"{api}/v1/campaigns/{campaign_id}/donations", headers=keyed, json=body)
    assert (again.status_code, again.json()) == (201, first.json())
    other = requests.post(f"{api}/v1/campaigns/{campaign_id}/donations", headers=keyed, json={**body, "amount": 1})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"

    declined = requests.post(f"{api}/v1/campaigns/{campaign_id}/donations",
                             headers={**donor, "Idempotency-Key": "spine-2"},
                             json={**body, "payment_method": {"type": "card", "token": "tok_decline"}})
    assert declined.status_code == 402 and declined.json()["code"] == "payment_declined"

    ledger = requests.get(f"{api}/v1/campaigns/{campaign_id}/ledger").json()
    assert [e["amount"] for e in ledger["items"]] == [25_000]


def test_errors_are_problem_json_everywhere(api):
    unknown = requests.get(f"{api}/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    wrong_method = requests.delete(f"{api}/v1/campaigns")
    assert wrong_method.status_code == 405 and wrong_method.headers["Content-Type"].startswith("application/problem+json")
    no_token = requests.post(f"{api}/v1/campaigns", json={})
    assert no_token.status_code == 401 and no_token.json()["code"] == "unauthorized"
    bad_token = requests.get(f"{api}/v1/me/donations", headers={"Authorization": "Bearer x.y.z"})
    assert bad_token.status_code == 401
    malformed = requests.post(f"{api}/v1/campaigns", headers={**token(api, "u"), "Content-Type": "application/json"},
                              data="{not json")
    assert malformed.status_code == 400 and malformed.json()["code"] == "malformed_json"
    too_big = requests.post(f"{api}/v1/campaigns", headers=token(api, "u"), data=b"x" * (1024 * 1024 + 1))
    assert too_big.status_code == 413
    invalid = requests.post(f"{api}/v1/campaigns", headers=token(api, "u"), json={"title": "x"})
    assert invalid.status_code == 422 and "title" in invalid.json()["errors"]
    assert unknown.headers["X-Content-Type-Options"] == "nosniff" and unknown.headers["X-Request-ID"]


def test_health_names_the_services_that_do_not_answer(api):
    health = requests.get(f"{api}/health", timeout=10)
    assert health.status_code == 503  # notifications and talent are not running in this test
    services = health.json()["services"]
    assert services["campaigns"] == "ok" and services["payments"] == "ok"
    assert services["talent"] == "unavailable"


def test_openapi_describes_every_route(api):
    spec = requests.get(f"{api}/openapi.json").json()
    assert spec["openapi"] == "3.1.0"
    assert "post" in spec["paths"]["/v1/campaigns/{campaign_id}/donations"]
    assert "/docs" in requests.get(f"{api}/docs").text
