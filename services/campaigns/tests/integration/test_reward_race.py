"""Concurrent donations never take more reward units than exist (contract §4)."""
import uuid

import pytest

from demeu_common.errors import Conflict
from demeu_common.testing import TEST_DATABASE

from campaigns.service import CampaignsService

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(TEST_DATABASE == "sqlite", reason="row locking under concurrency is PostgreSQL's"),
]

OWNER = {"user_id": "owner-1", "roles": []}


@pytest.fixture
def wide_campaigns(container_factory, service_config):
    """Twenty workers: all twenty reservations run at once."""
    container = container_factory(CampaignsService, service_config("campaigns", max_workers=20))
    container.start()
    return container


def test_twenty_concurrent_donations_take_exactly_the_three_units_of_a_reward(
        wide_campaigns, live_campaign, rpc_client):
    live = live_campaign(rewards=[{"title": "Concert ticket", "min_amount": 10_000, "quantity": 3}])
    reward_id = live["rewards"][0]["id"]
    donations = [str(uuid.uuid4()) for _ in range(20)]
    replies = [rpc_client.campaigns.prepare_donation.call_async(live["id"], d, 10_000, reward_id)
               for d in donations]

    taken, sold_out = [], 0
    for donation_id, reply in zip(donations, replies):
        try:
            reply.result()
            taken.append(donation_id)
        except Conflict as error:
            assert error.code == "reward_sold_out"
            sold_out += 1
    assert len(taken) == 3 and sold_out == 17
    assert rpc_client.campaigns.get_campaign(OWNER, live["id"])["rewards"][0]["remaining"] == 0

    # Giving the three back leaves exactly three: no unit was taken twice behind the count.
    for donation_id in taken:
        assert rpc_client.campaigns.release_reservation(donation_id) is True
    assert rpc_client.campaigns.get_campaign(OWNER, live["id"])["rewards"][0]["remaining"] == 3
