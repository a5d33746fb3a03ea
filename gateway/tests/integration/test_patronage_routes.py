"""Patronage over HTTP: matching pools (contract §5) end to end through the gateway."""
from datetime import datetime, timedelta, timezone

import pytest
import requests

NEXT_YEAR = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=365)

pytestmark = pytest.mark.integration

POOL = {"name": "Karaganda culture fund", "budget_amount": 50_000, "ratio": 1, "cap_per_donation": 5_000,
        "cap_per_campaign": 20_000, "categories": ["culture"], "regions": [],
        "expires_at": NEXT_YEAR.astimezone(timezone(timedelta(hours=5))).isoformat(), "payment_method": {"type": "card", "token": "tok_success"}}


@pytest.fixture
def api(start_platform):
    return start_platform(services=("campaigns", "payments"))


@pytest.fixture
def live_campaign(api, bearer, campaign_body):
    owner, moderator = bearer(api, "owner-1"), bearer(api, "mod-1", "moderator")
    campaign_id = requests.post(f"{api}/v1/campaigns", headers=owner, json=campaign_body).json()["id"]
    requests.post(f"{api}/v1/campaigns/{campaign_id}/submit", headers=owner)
    assert requests.post(f"{api}/v1/campaigns/{campaign_id}/approve", headers=moderator).status_code == 200
    return campaign_id


def test_a_pool_over_http_is_keyed_charged_and_matches_gifts(api, bearer, live_campaign):
    patron = bearer(api, "patron-1")
    assert requests.post(f"{api}/v1/matching-pools", headers=patron, json=POOL).status_code == 400
    answer = requests.post(f"{api}/v1/matching-pools", headers={**patron, "Idempotency-Key": "p-1"}, json=POOL)
    assert answer.status_code == 201, answer.text
    pool = answer.json()
    assert answer.headers["Location"] == f"/v1/matching-pools/{pool['id']}"
    assert pool["expires_at"] == NEXT_YEAR.isoformat().replace("+00:00", "Z") and pool["status"] == "active"
    assert {"id", "patron_id", "name", "budget_amount", "ratio", "cap_per_donation", "cap_per_campaign",
            "categories", "regions", "expires_at", "remaining_amount", "matched_amount", "status",
            "currency", "created_at"} <= set(pool)
    again = requests.post(f"{api}/v1/matching-pools", headers={**patron, "Idempotency-Key": "p-1"}, json=POOL)
    assert again.status_code == 201 and again.json() == pool
    declined = requests.post(f"{api}/v1/matching-pools", headers={**patron, "Idempotency-Key": "p-2"},
                             json={**POOL, "payment_method": {"type": "card", "token": "tok_decline"}})
    assert declined.status_code == 402 and declined.json()["code"] == "payment_declined"
    invalid = requests.post(f"{api}/v1/matching-pools", headers={**patron, "Idempotency-Key": "p-3"},
                            json={**POOL, "ratio": 0, "expires_at": "2000-01-01T00:00:00Z"})
    assert invalid.status_code == 422

    donor = {**bearer(api, "donor-1"), "Idempotency-Key": "d-1"}
    gift = requests.post(f"{api}/v1/campaigns/{live_campaign}/donations", headers=donor,
                         json={"amount": 3_000, "payment_method": {"type": "card", "token": "tok_success"}})
    assert gift.status_code == 201, gift.text
    ledger = requests.get(f"{api}/v1/campaigns/{live_campaign}/ledger").json()["items"]
    assert [(e["kind"], e["amount"]) for e in ledger] == [("donation", 3_000), ("match", 3_000)]

    seen = requests.get(f"{api}/v1/matching-pools/{pool['id']}").json()
    assert (seen["remaining_amount"], seen["matched_amount"]) == (47_000, 3_000)
    active = requests.get(f"{api}/v1/matching-pools?status=active").json()
    assert [p["id"] for p in active["items"]] == [pool["id"]] and active["next_cursor"] is None
    assert requests.get(f"{api}/v1/matching-pools?status=exhausted").json()["items"] == []
    assert requests.get(f"{api}/v1/matching-pools?status=sleeping").status_code == 422
    assert requests.get(f"{api}/v1/matching-pools/00000000-0000-0000-0000-000000000000").status_code == 404
    mine = requests.get(f"{api}/v1/me/pools", headers=patron).json()["items"]
    assert mine[0]["matched_by_campaign"] == [{"campaign_id": live_campaign, "matched_amount": 3_000}]
    assert mine[0]["matched_by_region"] == [{"region": "KZ-35", "matched_amount": 3_000}]
    assert requests.get(f"{api}/v1/me/pools").status_code == 401


def give(api, bearer, campaign_id, key, user="donor-1", **extra):
    headers = {**bearer(api, user), "Idempotency-Key": key}
    answer = requests.post(f"{api}/v1/campaigns/{campaign_id}/donations", headers=headers,
                           json={"amount": 7_000, "payment_method": {"type": "card", "token": "tok_success"},
                                 **extra})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_receipts_over_http_json_and_pdf_for_the_donor_and_admins_only(api, bearer, live_campaign):
    from payments.domain import ledger

    gift = give(api, bearer, live_campaign, "d-1")
    give(api, bearer, live_campaign, "d-2", user="donor-2")
    url = f"{api}/v1/donations/{gift['id']}/receipt"
    donor, admin, stranger = bearer(api, "donor-1"), bearer(api, "admin-1", "admin"), bearer(api, "donor-2")

    receipt = requests.get(url, headers=donor)
    assert receipt.status_code == 200 and receipt.headers["Content-Type"].startswith("application/json")
    body = receipt.json()
    assert body["donor"] == {"id": "donor-1"} and body["amount"] == 7_000 and body["campaign"]["id"] == live_campaign
    public = requests.get(f"{api}/v1/campaigns/{live_campaign}/ledger").json()["items"]
    assert body["chain_proof"]["entries"] == public and body["chain_proof"]["head_hash"] == public[-1]["hash"]
    assert ledger.verify_segment(body["chain_proof"]["entries"], body["chain_proof"]["head_hash"]) == []

    pdf = requests.get(url, headers={**donor, "Accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert requests.get(url, headers={**admin, "Accept": "application/pdf"}).content.startswith(b"%PDF")
    assert requests.get(url, headers=admin).json()["donation_id"] == gift["id"]
    assert requests.get(url, headers=stranger).status_code == 404
    assert requests.get(url, headers={**stranger, "Accept": "application/pdf"}).status_code == 404
    assert requests.get(url).status_code == 401


def test_an_anonymous_gift_over_http_is_hidden_from_everyone_but_its_donor_and_admins(api, bearer, live_campaign):
    gift = give(api, bearer, live_campaign, "d-1", anonymous=True)
    donor, admin, stranger = bearer(api, "donor-1"), bearer(api, "admin-1", "admin"), bearer(api, "someone")
    mine = requests.get(f"{api}/v1/me/donations", headers=donor).json()["items"]
    assert [(d["id"], d["anonymous"], d["donor_id"]) for d in mine] == [(gift["id"], True, "donor-1")]
    assert requests.get(f"{api}/v1/donations/{gift['id']}", headers=donor).json()["donor_id"] == "donor-1"
    assert requests.get(f"{api}/v1/donations/{gift['id']}", headers=admin).json()["donor_id"] == "donor-1"
    assert requests.get(f"{api}/v1/donations/{gift['id']}", headers=stranger).status_code == 404
    public = requests.get(f"{api}/v1/campaigns/{live_campaign}/donations").json()["items"]
    assert public[0]["donor"] is None
    for path in ("donations", "ledger"):
        assert "donor-1" not in requests.get(f"{api}/v1/campaigns/{live_campaign}/{path}").text


def test_monthly_gifts_over_http(api, bearer, live_campaign):
    donor = bearer(api, "donor-1")
    url = f"{api}/v1/campaigns/{live_campaign}/recurring-donations"
    body = {"amount": 3_000, "payment_method": {"type": "card", "token": "tok_success"}}
    assert requests.post(url, headers=donor, json=body).status_code == 400
    answer = requests.post(url, headers={**donor, "Idempotency-Key": "m-1"}, json=body)
    assert answer.status_code == 201, answer.text
    plan = answer.json()
    assert answer.headers["Location"] == f"/v1/recurring-donations/{plan['id']}"
    assert plan["status"] == "active" and plan["first_donation"]["amount"] == 3_000
    assert requests.post(url, headers={**donor, "Idempotency-Key": "m-1"}, json=body).json() == plan
    mine = requests.get(f"{api}/v1/me/recurring-donations", headers=donor).json()["items"]
    assert [p["id"] for p in mine] == [plan["id"]]
    stranger = bearer(api, "someone")
    assert requests.delete(f"{api}/v1/recurring-donations/{plan['id']}", headers=stranger).status_code == 404
    cancelled = requests.delete(f"{api}/v1/recurring-donations/{plan['id']}", headers=donor)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    other = requests.post(url, headers={**donor, "Idempotency-Key": "m-2"}, json=body).json()
    admin = bearer(api, "admin-1", "admin")
    by_admin = requests.delete(f"{api}/v1/recurring-donations/{other['id']}", headers=admin).json()
    assert by_admin["cancel_reason"] == "cancelled_by_admin"
