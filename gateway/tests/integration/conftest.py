"""Fixtures for driving the whole platform over HTTP: every service in a real container on
a real broker and database, and the gateway in front of them."""
import socket

import pytest
import requests

TEST_SECRET = "gateway-integration-secret-of-32-bytes-or-more"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def start_platform(container_factory, service_config):
    """``start_platform(services=("campaigns", ...), **gateway_config)`` → the gateway's base
    URL. ``services`` defaults to all four."""

    def start(services=("campaigns", "payments", "notifications", "talent"), **gateway_config):
        from campaigns.service import CampaignsService
        from gateway.service import GatewayService
        from notifications.service import NotificationsService
        from payments.service import PaymentsService
        from talent.service import TalentService

        classes = {"campaigns": CampaignsService, "payments": PaymentsService,
                   "notifications": NotificationsService, "talent": TalentService}
        for name in services:
            container_factory(classes[name], service_config(name)).start()
        port = _free_port()
        config = service_config("campaigns", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", DEMEU_DEV="1",
                                JWT_SECRET=TEST_SECRET, JWT_ISSUER="demeu-dev", JWT_AUDIENCE="demeu",
                                RPC_TIMEOUT=5, HEALTH_TIMEOUT=1)
        config.update(gateway_config)
        container_factory(GatewayService, config).start()
        return f"http://127.0.0.1:{port}"

    return start


@pytest.fixture
def bearer():
    """``bearer(api, "user-1", "admin")`` → headers with a dev token for that user."""

    def make(api, user_id, *roles, **claims):
        answer = requests.post(f"{api}/v1/auth/dev-token",
                               json={"user_id": user_id, "roles": list(roles), **claims}, timeout=10)
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    return make


CAMPAIGN = {
    "title": "Shanyrak theatre tour", "summary": "Bring the play to five villages.",
    "category": "culture", "region": "KZ-35", "funding_model": "keep_it_all",
    "goal_amount": 2_000_000, "currency": "KZT", "duration_days": 30,
}


@pytest.fixture
def campaign_body():
    return dict(CAMPAIGN)
