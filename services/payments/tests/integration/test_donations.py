"""Payments and campaigns in real containers on the real broker and PostgreSQL."""
import uuid

import pytest

from demeu_common.testing import wait_for

from campaigns.service import CampaignsService
from payments.service import PaymentsService

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}
DONOR = {"user_id": "donor-1", "roles": []}
ADMIN = {"user_id": "admin-1", "roles": ["admin"]}


@pytest.fixture
def platform(container_factory, service_config):
    for service in (CampaignsService, PaymentsService):
        container_factory(service, service_config(service.name)).start()


@pytest.fixture
def live_campaign(platform, rpc_client):
    created = rpc_client.campaigns.create_campaign(OWNER, {
        "title": "Robotics club in Kyzylorda", "summary": "Kits for 40 pupils.",
        "category": "technology", "region": "KZ-43", "funding_model": "keep_it_all",
        "goal_amount": 5_000_000, "duration_days": 90,
    })
    rpc_client.campaigns.submit(OWNER, created["id"])
    return rpc_client.campaigns.approve(MODERATOR, created["id"])


def donate(rpc, campaign, key, amount=10_000, token="tok_success", **extra):
    body = {"amount": amount, "payment_method": {"type": "card", "token": token}, **extra}
    return rpc.payments.create_donation(DONOR, campaign["id"], body, key)


def test_a_donation_is_charged_once_posted_and_counted(live_campaign, rpc_client, collect_events):
    events = collect_events("payments")
    first = donate(rpc_client, live_campaign, "key-1")
    again = donate(rpc_client, live_campaign, "key-1")
    assert first["status"] == 201 and first["body"]["status"] == "succeeded"
    assert again == first

    succeeded = events.wait_for("donation.succeeded")
    assert len(succeeded) == 1 and succeeded[0]["data"]["amount"] == 10_000
    wait_for(lambda: rpc_client.campaigns.get_campaign(DONOR, live_campaign["id"])["raised_amount"] == 10_000,
             message="campaign total")

    ledger = rpc_client.payments.campaign_ledger(live_campaign["id"])["items"]
    assert [(e["seq"], e["kind"], e["amount"]) for e in ledger] == [(1, "donation", 10_000)]
    check = rpc_client.payments.ledger_check()
    assert check["balanced"] and check["mismatches"] == []


def test_same_key_with_another_body_is_refused(live_campaign, rpc_client):
    donate(rpc_client, live_campaign, "key-2", amount=10_000)
    with pytest.raises(Exception) as reused:
        donate(rpc_client, live_campaign, "key-2", amount=20_000)
    assert getattr(reused.value, "code", None) == "idempotency_key_reused"


def test_a_declined_card_charges_nothing_and_the_answer_is_kept(live_campaign, rpc_client, collect_events):
    events = collect_events("payments")
    declined = donate(rpc_client, live_campaign, "key-3", token="tok_decline")
    assert declined["status"] == 402 and declined["body"]["code"] == "payment_declined"
    assert donate(rpc_client, live_campaign, "key-3", token="tok_decline") == declined
    events.wait_for("donation.failed")
    assert rpc_client.payments.campaign_ledger(live_campaign["id"])["items"] == []


def test_provider_error_keeps_nothing_so_the_key_can_be_retried(live_campaign, rpc_client):
    with pytest.raises(Exception) as unavailable:
        donate(rpc_client, live_campaign, "key-4", token="tok_error")
    assert getattr(unavailable.value, "code", None) == "provider_unavailable"
    # Nothing was stored for the key: the same request may be sent again (and fails the same way).
    with pytest.raises(Exception) as again:
        donate(rpc_client, live_campaign, "key-4", token="tok_error")
    assert getattr(again.value, "code", None) == "provider_unavailable"
    assert rpc_client.payments.list_my_donations(DONOR)["items"] == []


def test_anonymous_donor_never_leaves_payments(live_campaign, rpc_client, collect_events):
    events = collect_events("payments")
    donate(rpc_client, live_campaign, "key-5", anonymous=True)
    event = events.wait_for("donation.succeeded")[0]
    assert event["data"]["donor_id"] is None and "donor-1" not in str(event)
    public = rpc_client.payments.list_campaign_donations(live_campaign["id"])
    assert public["items"][0]["donor"] is None
    assert rpc_client.payments.list_my_donations(DONOR)["items"][0]["anonymous"] is True
