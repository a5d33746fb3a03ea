"""Campaign totals follow payments' money events: donations, refunds and matches, each counted
once however often it is delivered and whatever order the events arrive in."""
import time
import uuid

import pytest

from demeu_common.testing import publish_event, wait_for

pytestmark = pytest.mark.integration

ADMIN = {"user_id": "admin-1", "roles": ["admin"]}
STRANGER = {"user_id": "stranger", "roles": []}


def succeeded(amqp_uri, campaign_id, amount, backer_ref="backer-a", donation_id=None, event_id=None):
    data = {"donation_id": donation_id or str(uuid.uuid4()), "campaign_id": campaign_id,
            "amount": amount, "currency": "KZT", "backer_ref": backer_ref, "status": "succeeded"}
    publish_event(amqp_uri, "payments", "donation.succeeded", data, event_id=event_id)
    return data


def refunded(amqp_uri, donation, amount, refunded_total, event_id=None):
    data = {"donation_id": donation["donation_id"], "campaign_id": donation["campaign_id"],
            "amount": amount, "refunded_total": refunded_total, "captured_amount": donation["amount"],
            "backer_ref": donation["backer_ref"], "currency": "KZT",
            "status": "refunded" if refunded_total >= donation["amount"] else "partially_refunded"}
    return publish_event(amqp_uri, "payments", "donation.refunded", data, event_id=event_id)


def match(amqp_uri, kind, donation, amount, pool_id="pool-1", event_id=None):
    data = {"campaign_id": donation["campaign_id"], "donation_id": donation["donation_id"],
            "pool_id": pool_id, "amount": amount}
    return publish_event(amqp_uri, "payments", f"match.{kind}", data, event_id=event_id)


def totals_become(rpc_client, campaign_id, raised, matched=None, backers=None, settle=0.3):
    """Wait until the campaign shows these totals, then check they stay (late duplicates)."""
    def shown():
        campaign = rpc_client.campaigns.get_campaign(STRANGER, campaign_id)
        return (campaign["raised_amount"], campaign["matched_amount"], campaign["backers_count"])

    def matches(values):
        return (values[0] == raised and (matched is None or values[1] == matched)
                and (backers is None or values[2] == backers))

    wait_for(lambda: matches(shown()), message=f"raised {raised}, matched {matched}, backers {backers}")
    time.sleep(settle)
    values = shown()
    assert matches(values), values
    return rpc_client.campaigns.get_campaign(STRANGER, campaign_id)


def test_redelivered_refund_is_counted_once(campaigns, rpc_client, amqp_uri, live_campaign):
    live = live_campaign()
    gift = succeeded(amqp_uri, live["id"], 70_000)
    totals_become(rpc_client, live["id"], raised=70_000, backers=1)

    event_id = str(uuid.uuid4())
    for _ in range(3):
        refunded(amqp_uri, gift, 20_000, refunded_total=20_000, event_id=event_id)
    totals_become(rpc_client, live["id"], raised=50_000, backers=1)
    refunded(amqp_uri, gift, 20_000, refunded_total=20_000, event_id=event_id)
    totals_become(rpc_client, live["id"], raised=50_000, backers=1)


def test_wholly_refunded_donor_stops_being_a_backer(campaigns, rpc_client, amqp_uri, live_campaign):
    live = live_campaign()
    first = succeeded(amqp_uri, live["id"], 70_000, backer_ref="backer-a")
    second = succeeded(amqp_uri, live["id"], 30_000, backer_ref="backer-a")
    succeeded(amqp_uri, live["id"], 10_000, backer_ref="backer-b")
    totals_become(rpc_client, live["id"], raised=110_000, backers=2)

    refunded(amqp_uri, first, 70_000, refunded_total=70_000)
    totals_become(rpc_client, live["id"], raised=40_000, backers=2)  # backer-a still gives 30_000
    refunded(amqp_uri, second, 10_000, refunded_total=10_000)
    refunded(amqp_uri, second, 20_000, refunded_total=30_000)
    totals_become(rpc_client, live["id"], raised=10_000, backers=1)


def test_refunds_in_any_order_never_take_back_more_than_was_captured(campaigns, rpc_client, amqp_uri,
                                                                    live_campaign):
    live = live_campaign()
    gift = succeeded(amqp_uri, live["id"], 50_000)
    totals_become(rpc_client, live["id"], raised=50_000)
    # The second partial refund overtakes the first: the running total decides.
    refunded(amqp_uri, gift, 30_000, refunded_total=50_000)
    refunded(amqp_uri, gift, 20_000, refunded_total=20_000)
    totals_become(rpc_client, live["id"], raised=0, backers=0)


def test_refund_handled_before_its_donation_ends_with_the_same_totals(campaigns, rpc_client, amqp_uri,
                                                                     live_campaign):
    live = live_campaign()
    gift = {"donation_id": str(uuid.uuid4()), "campaign_id": live["id"], "amount": 70_000,
            "backer_ref": "backer-a"}
    refunded(amqp_uri, gift, 20_000, refunded_total=20_000)
    totals_become(rpc_client, live["id"], raised=50_000, backers=1)
    succeeded(amqp_uri, live["id"], 70_000, donation_id=gift["donation_id"])
    totals_become(rpc_client, live["id"], raised=50_000, backers=1)


def test_matched_money_counts_toward_raised_once_and_leaves_when_released(campaigns, rpc_client, amqp_uri,
                                                                          live_campaign):
    live = live_campaign()
    gift = succeeded(amqp_uri, live["id"], 100_000)
    totals_become(rpc_client, live["id"], raised=100_000, matched=0)

    event_id = str(uuid.uuid4())
    for _ in range(2):
        match(amqp_uri, "applied", gift, 100_000, event_id=event_id)
    totals_become(rpc_client, live["id"], raised=200_000, matched=100_000, backers=1)

    match(amqp_uri, "released", gift, 100_000)
    totals_become(rpc_client, live["id"], raised=100_000, matched=0, backers=1)


def test_release_handled_before_its_match_leaves_nothing_counted(campaigns, rpc_client, amqp_uri,
                                                                 live_campaign):
    live = live_campaign()
    gift = succeeded(amqp_uri, live["id"], 100_000)
    match(amqp_uri, "applied", gift, 40_000, pool_id="pool-2")
    totals_become(rpc_client, live["id"], raised=140_000, matched=40_000)
    match(amqp_uri, "released", gift, 60_000, pool_id="pool-1")
    match(amqp_uri, "applied", gift, 60_000, pool_id="pool-1")
    totals_become(rpc_client, live["id"], raised=140_000, matched=40_000)


def test_matches_count_toward_the_goal_of_an_all_or_nothing_campaign(campaigns, rpc_client, amqp_uri,
                                                                    live_campaign):
    live = live_campaign(goal_amount=1_000_000)
    gift = succeeded(amqp_uri, live["id"], 600_000)
    match(amqp_uri, "applied", gift, 400_000)
    totals_become(rpc_client, live["id"], raised=1_000_000, matched=400_000)
    assert rpc_client.campaigns.close(ADMIN, live["id"])["status"] == "succeeded"


def test_a_wholly_refunded_gift_gives_its_reward_unit_back(campaigns, rpc_client, amqp_uri, live_campaign):
    live = live_campaign()  # its reward has one unit
    reward_id = live["rewards"][0]["id"]
    donation_id = str(uuid.uuid4())
    rpc_client.campaigns.prepare_donation(live["id"], donation_id, 50_000, reward_id)
    gift = succeeded(amqp_uri, live["id"], 50_000, donation_id=donation_id)

    def remaining():
        return rpc_client.campaigns.get_campaign(STRANGER, live["id"])["rewards"][0]["remaining"]

    refunded(amqp_uri, gift, 10_000, refunded_total=10_000)
    totals_become(rpc_client, live["id"], raised=40_000)
    assert remaining() == 0  # still a backer with 40_000 given: the reward stays theirs
    refunded(amqp_uri, gift, 40_000, refunded_total=50_000)
    totals_become(rpc_client, live["id"], raised=0, backers=0)
    assert remaining() == 1
