"""Receipts: the donor's (or an admin's) proof of a gift, whose chain anyone can recompute
from the gift to the campaign's head; and the anonymous donor seen only by themselves and
admins."""
import base64

import pytest

from campaigns.service import CampaignsService
from payments import receipts
from payments.domain import ledger
from payments.service import PaymentsService

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}
DONOR = {"user_id": "donor-1", "roles": []}
STRANGER = {"user_id": "someone-else", "roles": []}
ADMIN = {"user_id": "admin-1", "roles": ["admin"]}
PATRON = {"user_id": "patron-1", "roles": []}


@pytest.fixture
def campaign(container_factory, service_config, rpc_client):
    for service in (CampaignsService, PaymentsService):
        container_factory(service, service_config(service.name)).start()
    created = rpc_client.campaigns.create_campaign(OWNER, {
        "title": "Қазақ тіліндегі кітаптар — книги для сёл", "summary": "Books for village libraries.",
        "category": "education", "region": "KZ-61", "funding_model": "keep_it_all",
        "goal_amount": 5_000_000, "duration_days": 30,
    })
    rpc_client.campaigns.submit(OWNER, created["id"])
    return rpc_client.campaigns.approve(MODERATOR, created["id"])


def donate(rpc, campaign, key, amount=10_000, donor=DONOR, **extra):
    body = {"amount": amount, "payment_method": {"type": "card", "token": "tok_success"}, **extra}
    answer = rpc.payments.create_donation(donor, campaign["id"], body, key)
    assert answer["status"] == 201, answer
    return answer["body"]


def test_a_receipt_proves_the_gift_up_to_the_campaigns_head(campaign, rpc_client):
    rpc_client.payments.create_pool(PATRON, {
        "name": "Turkistan readers", "budget_amount": 100_000, "ratio": 1, "cap_per_donation": 4_000,
        "cap_per_campaign": 100_000, "expires_at": "2030-01-01T00:00:00Z",
        "payment_method": {"type": "card", "token": "tok_success"}}, "pool-1")
    donate(rpc_client, campaign, "d-0", amount=1_000, donor={"user_id": "donor-0", "roles": []})
    gift = donate(rpc_client, campaign, "d-1", amount=10_000)
    donate(rpc_client, campaign, "d-2", amount=2_000, donor={"user_id": "donor-2", "roles": []})
    rpc_client.payments.refund_donation(ADMIN, gift["id"], {"amount": 5_000}, "r-1")

    receipt = rpc_client.payments.donation_receipt(DONOR, gift["id"])
    assert receipt["donor"] == {"id": "donor-1"} and receipt["amount"] == 10_000 and receipt["currency"] == "KZT"
    assert receipt["campaign"] == {"id": campaign["id"], "title": campaign["title"]}
    assert receipt["date"].endswith("Z")
    assert [(e["kind"], e["amount"]) for e in receipt["entries"]] == [
        ("donation", 10_000), ("match", 4_000), ("refund", -5_000), ("match_released", -2_000)]
    proof = receipt["chain_proof"]
    public = rpc_client.payments.campaign_ledger(campaign["id"])["items"]
    assert proof["from_seq"] == receipt["entries"][0]["seq"] == 3
    assert proof["head_seq"] == public[-1]["seq"] and proof["head_hash"] == public[-1]["hash"]
    assert proof["entries"] == public[2:]
    # anyone recomputes every hash from the gift to the head, and it links to the public chain
    assert ledger.verify_segment(proof["entries"], proof["head_hash"]) == []
    assert proof["entries"][0]["prev_hash"] == public[1]["hash"]
    tampered = [dict(proof["entries"][0], amount=1), *proof["entries"][1:]]
    assert ledger.verify_segment(tampered, proof["head_hash"])

    assert rpc_client.payments.donation_receipt(ADMIN, gift["id"])["donation_id"] == gift["id"]
    with pytest.raises(Exception) as hidden:
        rpc_client.payments.donation_receipt(STRANGER, gift["id"])
    assert getattr(hidden.value, "code", None) == "donation_not_found"


def test_the_pdf_receipt_is_a_real_pdf(campaign, rpc_client):
    gift = donate(rpc_client, campaign, "d-1", amount=12_345)
    answer = rpc_client.payments.donation_receipt(DONOR, gift["id"], "pdf")
    assert answer["content_type"] == "application/pdf"
    data = base64.b64decode(answer["data_base64"])
    assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    if receipts.find_font():
        assert b"DejaVu" in data  # the font that writes Kazakh and Russian is embedded


def test_an_anonymous_donor_is_seen_by_themselves_and_admins_only(campaign, rpc_client):
    gift = donate(rpc_client, campaign, "d-1", anonymous=True, message="Сәттілік!")
    mine = rpc_client.payments.list_my_donations(DONOR)["items"]
    assert [(d["id"], d["anonymous"], d["donor_id"]) for d in mine] == [(gift["id"], True, "donor-1")]
    assert rpc_client.payments.get_donation(DONOR, gift["id"])["donor_id"] == "donor-1"
    assert rpc_client.payments.get_donation(ADMIN, gift["id"])["donor_id"] == "donor-1"
    for actor in (STRANGER, OWNER, MODERATOR):
        with pytest.raises(Exception) as hidden:
            rpc_client.payments.get_donation(actor, gift["id"])
        assert getattr(hidden.value, "code", None) == "donation_not_found"
    public = rpc_client.payments.list_campaign_donations(campaign["id"])["items"]
    assert public[0]["donor"] is None and "donor-1" not in str(public)
    chain = rpc_client.payments.campaign_ledger(campaign["id"])["items"]
    assert chain and "donor-1" not in str(chain)
    assert rpc_client.payments.donation_receipt(DONOR, gift["id"])["donor"] == {"id": "donor-1"}
