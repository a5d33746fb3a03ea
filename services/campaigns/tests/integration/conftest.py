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
