"""Fixtures of campaigns' integration tests: a running service and campaigns in a given state."""
import pytest

from campaigns.service import CampaignsService

OWNER = {"user_id": "owner-1", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}


def campaign_body(**overrides):
    body = {
        "title": "Dombra for every school",
        "summary": "Instruments for rural music classes.",
        "category": "culture",
        "region": "KZ-61",
        "funding_model": "all_or_nothing",
        "goal_amount": 1_000_000,
        "currency": "KZT",
        "duration_days": 30,
        "rewards": [{"title": "Thank-you card", "min_amount": 50_000, "quantity": 1}],
    }
    body.update(overrides)
    return body


@pytest.fixture
def body():
    """``body(**overrides)`` → a valid create-campaign body."""
    return campaign_body


@pytest.fixture
def campaigns(container_factory, service_config):
    container = container_factory(CampaignsService, service_config("campaigns"))
    container.start()
    return container


@pytest.fixture
def live_campaign(rpc_client):
    """``live_campaign(owner=OWNER, **overrides)`` → a campaign approved just now."""

    def make(owner=OWNER, **overrides):
        created = rpc_client.campaigns.create_campaign(owner, campaign_body(**overrides))
        rpc_client.campaigns.submit(owner, created["id"])
        return rpc_client.campaigns.approve(MODERATOR, created["id"])

    return make


@pytest.fixture
def campaigns_on_clock(container_factory, service_config):
    """``campaigns_on_clock(clock, instances=1)`` → running containers of campaigns that all read
    ``clock`` and sweep deadlines every 0.1 s: competing instances on one broker and database."""

    def start(clock, instances=1):
        containers = []
        for _ in range(instances):
            container = container_factory(
                CampaignsService, service_config("campaigns", DEADLINE_SWEEP_SECONDS=0.1)
            )
            provider = next(d for d in container.dependencies if d.attr_name == "clock")
            provider.clock = clock
            container.start()
            containers.append(container)
        return containers

    return start
