"""Payouts: a succeeded campaign's escrow, less refunds and the platform fee, paid out once."""
import pytest

from demeu_common.testing import wait_for

from campaigns.service import CampaignsService
from payments.domain import ledger
from payments.service import PaymentsService

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}
DONOR = {"user_id": "donor-1", "roles": []}
ADMIN = {"user_id": "admin-1", "roles": ["admin"]}


@pytest.fixture
def live_campaign(container_factory, service_config, rpc_client):
    container_factory(CampaignsService, service_config("campaigns")).start()
    container_factory(PaymentsService, service_config("payments", PLATFORM_FEE_BPS=250)).start()
    created = rpc_client.campaigns.create_campaign(OWNER, {
        "title": "Robotics club in Kyzylorda", "summary": "Kits for 40 pupils.",
        "category": "technology", "region": "KZ-43", "funding_model": "keep_it_all",
        "goal_amount": 5_000_000, "duration_days": 30,
    })
    rpc_client.campaigns.submit(OWNER, created["id"])
    return rpc_client.campaigns.approve(MODERATOR, created["id"])


def donate(rpc, campaign, key, amount):
    body = {"amount": amount, "payment_method": {"type": "card", "token": "tok_success"}}
    return rpc.payments.create_donation(DONOR, campaign["id"], body, key)["body"]


def test_payout_pays_escrow_after_refunds_less_fee_once(live_campaign, rpc_client, collect_events):
    events = collect_events("payments")
    campaign_id = live_campaign["id"]
    first = donate(rpc_client, live_campaign, "d-1", 100_000)
    donate(rpc_client, live_campaign, "d-2", 50_000)
    rpc_client.payments.refund_donation(ADMIN, first["id"], {"amount": 30_000}, "r-1")

    early = rpc_client.payments.create_payout(ADMIN, campaign_id, "p-0")
    assert early["status"] == 409 and early["body"]["code"] == "campaign_not_succeeded"
    with pytest.raises(Exception) as forbidden:
        rpc_client.payments.create_payout(DONOR, campaign_id, "p-x")
    assert getattr(forbidden.value, "code", None) == "forbidden"

    assert rpc_client.campaigns.close(ADMIN, campaign_id)["status"] == "succeeded"
    payout = rpc_client.payments.create_payout(ADMIN, campaign_id, "p-1")
    assert payout["status"] == 201, payout
    fee = ledger.fee_for(120_000, 250)
    assert payout["body"]["amount"] == 120_000 and payout["body"]["fee_amount"] == fee == 3_000
    assert payout["body"]["net_amount"] == 117_000
    assert rpc_client.payments.create_payout(ADMIN, campaign_id, "p-1") == payout
    again = rpc_client.payments.create_payout(ADMIN, campaign_id, "p-2")
    assert again["status"] == 409 and again["body"]["code"] == "payout_exists"

    chain = rpc_client.payments.campaign_ledger(campaign_id)["items"]
    assert [(e["kind"], e["amount"]) for e in chain] == [
        ("donation", 100_000), ("donation", 50_000), ("refund", -30_000),
        ("payout", -117_000), ("fee", -3_000)]
    assert ledger.verify_chain(chain) == [] and ledger.raised_from_chain(chain) == 120_000
    check = rpc_client.payments.ledger_check()
    assert check["balanced"]
    assert not [m for m in check["mismatches"] if "journal_id" in m or "chain" in m["problem"]]

    created = events.wait_for("payout.created")
    assert len(created) == 1 and created[0]["data"]["net_amount"] == 117_000

    late = rpc_client.payments.refund_donation(ADMIN, first["id"], {}, "r-2")
    assert late["status"] == 409 and late["body"]["code"] == "campaign_paid_out"
