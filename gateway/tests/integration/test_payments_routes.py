"""Payments' HTTP routes end to end: refunds, and 3-D Secure confirmed by the sandbox's
signed webhook arriving at the gateway."""
import socket
import time

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
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    container_factory(CampaignsService, service_config("campaigns")).start()
    container_factory(PaymentsService, service_config(
        "payments", PROVIDER_WEBHOOK_URL=f"{api}/v1/payments/webhooks/sandbox")).start()
    config = service_config("campaigns", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", DEMEU_DEV="1",
                            JWT_SECRET="test-secret", JWT_ISSUER="demeu-dev", JWT_AUDIENCE="demeu",
                            RPC_TIMEOUT=5, HEALTH_TIMEOUT=1)
    container_factory(GatewayService, config).start()
    return api


def token(api, user_id, *roles):
    answer = requests.post(f"{api}/v1/auth/dev-token", json={"user_id": user_id, "roles": list(roles)})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture
def campaign_id(api):
    owner, moderator = token(api, "owner-1"), token(api, "mod-1", "moderator")
    created = requests.post(f"{api}/v1/campaigns", headers=owner, json={
        "title": "Shanyrak theatre tour", "summary": "Bring the play to five villages.",
        "category": "culture", "region": "KZ-35", "funding_model": "keep_it_all",
        "goal_amount": 2_000_000, "currency": "KZT", "duration_days": 30,
    })
    campaign_id = created.json()["id"]
    requests.post(f"{api}/v1/campaigns/{campaign_id}/submit", headers=owner)
    requests.post(f"{api}/v1/campaigns/{campaign_id}/approve", headers=moderator)
    return campaign_id


def donate(api, campaign_id, key, token_name="tok_success", amount=25_000):
    body = {"amount": amount, "payment_method": {"type": "card", "token": token_name}}
    headers = {**token(api, "donor-1"), "Idempotency-Key": key}
    return requests.post(f"{api}/v1/campaigns/{campaign_id}/donations", headers=headers, json=body)


def test_refunds_over_http(api, campaign_id):
    donation = donate(api, campaign_id, "d-1").json()
    url = f"{api}/v1/donations/{donation['id']}/refund"
    admin = token(api, "admin-1", "admin")

    not_admin = requests.post(url, headers={**token(api, "donor-1"), "Idempotency-Key": "r"}, json={})
    assert not_admin.status_code == 403
    assert requests.post(url, headers=admin, json={}).json()["code"] == "idempotency_key_required"

    partial = requests.post(url, headers={**admin, "Idempotency-Key": "r-1"}, json={"amount": 5_000})
    assert partial.status_code == 200 and partial.json()["status"] == "partially_refunded", partial.text
    too_much = requests.post(url, headers={**admin, "Idempotency-Key": "r-2"}, json={"amount": 20_001})
    assert too_much.status_code == 422 and too_much.json()["code"] == "refund_exceeds_captured"
    rest = requests.post(url, headers={**admin, "Idempotency-Key": "r-3"}, data=b"")
    assert rest.status_code == 200 and rest.json()["status"] == "refunded", rest.text
    ledger = requests.get(f"{api}/v1/campaigns/{campaign_id}/ledger").json()["items"]
    assert [(e["kind"], e["amount"]) for e in ledger] == [("donation", 25_000), ("refund", -5_000),
                                                          ("refund", -20_000)]


def test_3ds_donation_is_confirmed_by_the_signed_webhook_through_the_gateway(api, campaign_id):
    started = time.monotonic()
    pending = donate(api, campaign_id, "d-3ds", token_name="tok_3ds")
    assert pending.status_code == 201 and pending.json()["status"] == "pending"
    donor = token(api, "donor-1")
    while time.monotonic() - started < 2.0:
        if requests.get(f"{api}/v1/donations/{pending.json()['id']}", headers=donor).json()["status"] == "succeeded":
            break
        time.sleep(0.05)
    else:
        pytest.fail("the 3-D Secure donation was not captured within 2 s")


def test_an_unsigned_or_forged_webhook_is_401(api):
    url = f"{api}/v1/payments/webhooks/sandbox"
    body = b'{"id":"evt_1","type":"charge.succeeded","charge_id":"ch_1","reference":"x"}'
    assert requests.post(url, data=body).status_code == 401
    forged = requests.post(url, data=body, headers={"Provider-Signature": f"t={int(time.time())},v1=00"})
    assert forged.status_code == 401 and forged.json()["code"] == "invalid_signature"
