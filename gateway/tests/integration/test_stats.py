"""Contract §9: figures per region as JSON, and a page that shows them."""
import uuid

import pytest
import requests

from demeu_common.testing import publish_event, wait_for

from campaigns.service import CampaignsService
from gateway.service import GatewayService
from talent.service import TalentService

from .test_gateway_spine import free_port, token

pytestmark = pytest.mark.integration


@pytest.fixture
def api(container_factory, service_config):
    for service in (CampaignsService, TalentService):
        container_factory(service, service_config(service.name)).start()
    port = free_port()
    config = service_config("campaigns", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", DEMEU_DEV="1",
                            JWT_SECRET="test-secret", RPC_TIMEOUT=3)
    container_factory(GatewayService, config).start()
    return f"http://127.0.0.1:{port}"


def test_regions_show_live_campaigns_money_donations_and_talents(api, amqp_uri):
    owner, moderator = token(api, "owner-1"), token(api, "mod-1", "moderator")
    campaign = requests.post(f"{api}/v1/campaigns", headers=owner, json={
        "title": "Kyzylorda science fair", "summary": "Prizes for young scientists.", "category": "science",
        "region": "KZ-43", "funding_model": "keep_it_all", "goal_amount": 900_000, "duration_days": 20,
    }).json()
    requests.post(f"{api}/v1/campaigns/{campaign['id']}/submit", headers=owner).raise_for_status()
    requests.post(f"{api}/v1/campaigns/{campaign['id']}/approve", headers=moderator).raise_for_status()
    publish_event(amqp_uri, "payments", "donation.succeeded", {
        "donation_id": str(uuid.uuid4()), "campaign_id": campaign["id"], "amount": 250_000,
        "backer_ref": "b-1", "currency": "KZT"})
    requests.post(f"{api}/v1/talents", headers=token(api, "aliya"), json={
        "display_name": "Aliya", "birth_date": "2001-05-05", "region": "KZ-43", "fields": ["science"],
    }).raise_for_status()

    def kyzylorda():
        rows = {r["region"]: r for r in requests.get(f"{api}/v1/stats/regions").json()["items"]}
        row = rows["KZ-43"]
        return row if row["raised_amount"] == 250_000 else None

    row = wait_for(kyzylorda, message="the donation counted in the region")
    assert row == {"region": "KZ-43", "campaigns_live": 1, "raised_amount": 250_000, "donations_count": 1,
                   "talents": 1, "applications": 0, "enrolled": 0}
    rows = requests.get(f"{api}/v1/stats/regions").json()["items"]
    assert len(rows) == 20 and {r["region"] for r in rows} >= {"KZ-71", "KZ-75", "KZ-79"}

    page = requests.get(f"{api}/dashboard?lang=ru")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Кызылординская область" in page.text and "<svg" in page.text and "2\u00a0500\u00a0₸" in page.text
