"""Campaigns end at ``ends_at`` on their own, once, however many instances are sweeping."""
import time
import uuid
from datetime import datetime, timezone

import pytest

from demeu_common.clock import FrozenClock
from demeu_common.testing import publish_event, wait_for

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
STRANGER = {"user_id": "stranger", "roles": []}
START = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def status_of(rpc_client, campaign_id):
    return rpc_client.campaigns.get_campaign(OWNER, campaign_id)["status"]


def test_deadline_ends_each_campaign_once_with_two_instances_sweeping(
        campaigns_on_clock, live_campaign, rpc_client, amqp_uri, collect_events):
    clock = FrozenClock(START)
    campaigns_on_clock(clock, instances=2)
    events = collect_events("campaigns")
    funded = live_campaign(goal_amount=100_000)
    unfunded = live_campaign(goal_amount=100_000)
    kept = live_campaign(funding_model="keep_it_all", goal_amount=100_000)
    later = live_campaign(duration_days=60)
    publish_event(amqp_uri, "payments", "donation.succeeded", {
        "donation_id": str(uuid.uuid4()), "campaign_id": funded["id"], "amount": 100_000,
        "backer_ref": "backer-a", "currency": "KZT"})
    wait_for(lambda: rpc_client.campaigns.get_campaign(STRANGER, funded["id"])["raised_amount"] == 100_000,
             message="the funded campaign's donation counted")
    time.sleep(0.5)  # several sweeps before the deadline: nothing ends early
    assert {status_of(rpc_client, c["id"]) for c in (funded, unfunded, kept, later)} == {"live"}

    clock.advance(days=30)  # exactly ends_at of the 30-day campaigns
    # Each campaign is claimed and closed in its own transaction, by whichever instance
    # gets it: wait for all three, not just one.
    wait_for(lambda: all(status_of(rpc_client, c["id"]) != "live" for c in (funded, unfunded, kept)),
             message="the deadline sweep")
    assert status_of(rpc_client, funded["id"]) == "succeeded"
    assert status_of(rpc_client, unfunded["id"]) == "failed"
    assert status_of(rpc_client, kept["id"]) == "succeeded"
    assert status_of(rpc_client, later["id"]) == "live"

    events.wait_for("campaign.failed")
    events.wait_for("campaign.succeeded", count=2)
    time.sleep(1.0)  # ten more sweeps of each instance: none closes anything again
    failed = events.of_type("campaign.failed")
    succeeded = events.of_type("campaign.succeeded")
    assert [e["data"]["campaign_id"] for e in failed] == [unfunded["id"]]
    assert sorted(e["data"]["campaign_id"] for e in succeeded) == sorted([funded["id"], kept["id"]])
    assert failed[0]["data"]["raised_amount"] == 0 and failed[0]["data"]["status"] == "failed"

    history = rpc_client.campaigns.moderation_history(OWNER, unfunded["id"])["items"]
    assert [(h["action"], h["actor_id"], h["to_status"]) for h in history][-1] == ("close", "system", "failed")
    with pytest.raises(Exception) as refused:
        rpc_client.campaigns.prepare_donation(funded["id"], str(uuid.uuid4()), 1000)
    assert getattr(refused.value, "code", None) == "campaign_not_live"


def test_expired_reward_hold_gives_the_unit_back(campaigns_on_clock, live_campaign, rpc_client):
    clock = FrozenClock(START)
    campaigns_on_clock(clock)
    live = live_campaign()
    reward_id = live["rewards"][0]["id"]
    rpc_client.campaigns.prepare_donation(live["id"], str(uuid.uuid4()), 50_000, reward_id)
    assert rpc_client.campaigns.get_campaign(OWNER, live["id"])["rewards"][0]["remaining"] == 0

    clock.advance(minutes=14)
    time.sleep(0.4)
    assert rpc_client.campaigns.get_campaign(OWNER, live["id"])["rewards"][0]["remaining"] == 0
    clock.advance(minutes=1)
    wait_for(lambda: rpc_client.campaigns.get_campaign(OWNER, live["id"])["rewards"][0]["remaining"] == 1,
             message="the expired hold released")
    rpc_client.campaigns.prepare_donation(live["id"], str(uuid.uuid4()), 50_000, reward_id)
    time.sleep(0.4)
    assert rpc_client.campaigns.get_campaign(OWNER, live["id"])["rewards"][0]["remaining"] == 0


def test_a_gift_that_succeeds_after_its_hold_lapsed_takes_a_unit_again_only_if_one_is_left(
        campaigns_on_clock, live_campaign, rpc_client, amqp_uri):
    clock = FrozenClock(START)
    campaigns_on_clock(clock)
    live = live_campaign()  # one unit
    reward_id = live["rewards"][0]["id"]

    def remaining():
        return rpc_client.campaigns.get_campaign(OWNER, live["id"])["rewards"][0]["remaining"]

    def succeeded(donation_id, backer_ref):
        publish_event(amqp_uri, "payments", "donation.succeeded", {
            "donation_id": donation_id, "campaign_id": live["id"], "amount": 50_000,
            "backer_ref": backer_ref, "currency": "KZT"})

    slow, second, third = (str(uuid.uuid4()) for _ in range(3))
    rpc_client.campaigns.prepare_donation(live["id"], slow, 50_000, reward_id)
    clock.advance(minutes=16)
    wait_for(lambda: remaining() == 1, message="the lapsed hold released")
    succeeded(slow, "backer-slow")
    wait_for(lambda: rpc_client.campaigns.get_campaign(OWNER, live["id"])["backers_count"] == 1,
             message="the slow gift counted")
    assert remaining() == 0  # the slow gift took the unit back

    # Another campaign, where another backer takes the freed unit first: the slow gift
    # counts, the unit is not sold twice.
    other = live_campaign()
    other_reward = other["rewards"][0]["id"]

    def other_remaining():
        return rpc_client.campaigns.get_campaign(OWNER, other["id"])["rewards"][0]["remaining"]

    rpc_client.campaigns.prepare_donation(other["id"], second, 50_000, other_reward)
    clock.advance(minutes=16)
    wait_for(lambda: other_remaining() == 1, message="the second hold lapsed")
    rpc_client.campaigns.prepare_donation(other["id"], third, 50_000, other_reward)
    publish_event(amqp_uri, "payments", "donation.succeeded", {
        "donation_id": second, "campaign_id": other["id"], "amount": 50_000,
        "backer_ref": "backer-second", "currency": "KZT"})
    wait_for(lambda: rpc_client.campaigns.get_campaign(OWNER, other["id"])["backers_count"] == 1,
             message="the second gift counted")
    assert other_remaining() == 0
    assert rpc_client.campaigns.release_reservation(third) is True
    assert other_remaining() == 1  # only the third held it: taken never went past quantity
