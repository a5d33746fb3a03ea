"""The campaigns service in a real container, on the real broker and database."""
import uuid

import pytest

from demeu_common.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed, Conflict
from demeu_common.testing import publish_event, wait_for

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}
STRANGER = {"user_id": "stranger", "roles": []}


def test_lifecycle_publishes_events_through_the_outbox(campaigns, rpc_client, collect_events, body):
    events = collect_events("campaigns")
    created = rpc_client.campaigns.create_campaign(OWNER, body(owner_id="hacker", status="live"))
    assert created["status"] == "draft" and created["owner_id"] == "owner-1"
    assert created["raised_amount"] == 0 and created["rewards"][0]["remaining"] == 1

    rpc_client.campaigns.submit(OWNER, created["id"])
    live = rpc_client.campaigns.approve(MODERATOR, created["id"])
    assert live["status"] == "live" and live["ends_at"] > live["starts_at"]

    submitted = events.wait_for("campaign.submitted")[0]
    approved = events.wait_for("campaign.approved")[0]
    assert approved["specversion"] == "1.0" and approved["source"] == "demeu/campaigns"
    assert approved["data"]["campaign_id"] == created["id"]
    assert submitted["id"] != approved["id"]


def test_rules_travel_back_as_domain_errors(campaigns, rpc_client, body):
    with pytest.raises(ValidationFailed) as invalid:
        rpc_client.campaigns.create_campaign(OWNER, body(duration_days=61, region="KZ-00"))
    assert set(invalid.value.errors) == {"duration_days", "region"}

    created = rpc_client.campaigns.create_campaign(OWNER, body())
    with pytest.raises(NotFound):
        rpc_client.campaigns.get_campaign(STRANGER, created["id"])
    with pytest.raises(Forbidden):
        rpc_client.campaigns.approve(OWNER, created["id"])
    with pytest.raises(InvalidTransition):
        rpc_client.campaigns.approve(MODERATOR, created["id"])


def test_donation_succeeded_counts_once_however_often_delivered(campaigns, rpc_client, amqp_uri, live_campaign):
    live = live_campaign()
    donation_id = str(uuid.uuid4())
    data = {"donation_id": donation_id, "campaign_id": live["id"], "amount": 70_000,
            "backer_ref": "backer-a", "currency": "KZT"}
    event_id = str(uuid.uuid4())
    for _ in range(3):
        publish_event(amqp_uri, "payments", "donation.succeeded", data, event_id=event_id)
    publish_event(amqp_uri, "payments", "donation.succeeded",
                  {**data, "donation_id": str(uuid.uuid4()), "amount": 30_000})

    def settled():
        campaign = rpc_client.campaigns.get_campaign(STRANGER, live["id"])
        return campaign if campaign["raised_amount"] == 100_000 else None

    campaign = wait_for(settled, message="both donations counted")
    assert campaign["backers_count"] == 1
    # A fourth copy of the first event after the totals settled changes nothing either.
    publish_event(amqp_uri, "payments", "donation.succeeded", data, event_id=event_id)
    rpc_client.campaigns.ping()
    assert rpc_client.campaigns.get_campaign(STRANGER, live["id"])["raised_amount"] == 100_000


def test_last_reward_unit_is_held_for_one_donation_and_released_when_it_fails(campaigns, rpc_client, amqp_uri,
                                                                            live_campaign):
    live = live_campaign()
    reward_id = live["rewards"][0]["id"]
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    rpc_client.campaigns.prepare_donation(live["id"], first, 50_000, reward_id)
    with pytest.raises(Conflict) as sold_out:
        rpc_client.campaigns.prepare_donation(live["id"], second, 50_000, reward_id)
    assert sold_out.value.code == "reward_sold_out"

    publish_event(amqp_uri, "payments", "donation.failed", {"donation_id": first, "campaign_id": live["id"]})
    wait_for(lambda: rpc_client.campaigns.get_campaign(OWNER, live["id"])["rewards"][0]["remaining"] == 1,
             message="reward released")
    rpc_client.campaigns.prepare_donation(live["id"], second, 50_000, reward_id)


def test_drafts_do_not_take_donations(campaigns, rpc_client, body):
    created = rpc_client.campaigns.create_campaign(OWNER, body())
    with pytest.raises(Conflict) as error:
        rpc_client.campaigns.prepare_donation(created["id"], str(uuid.uuid4()), 1000, actor=OWNER)
    assert error.value.code == "campaign_not_live"
