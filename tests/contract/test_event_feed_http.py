"""GET /v1/events over HTTP (contract §8): the event log for subscribers, in recording order,
with an opaque cursor that is never null — the gateway in front of a real notifications."""
import socket

import pytest
import requests

from demeu_common.testing import publish_event, wait_for

from gateway.service import GatewayService
from notifications.service import NotificationsService

pytestmark = pytest.mark.integration


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def api(container_factory, service_config):
    container_factory(NotificationsService, service_config("notifications", SMTP_HOST="")).start()
    port = free_port()
    config = service_config("notifications", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", DEMEU_DEV="1",
                            JWT_SECRET="test-secret-that-is-long-enough-for-hs256", JWT_ISSUER="demeu-dev",
                            JWT_AUDIENCE="demeu", RPC_TIMEOUT=3, HEALTH_TIMEOUT=1)
    container_factory(GatewayService, config).start()
    return f"http://127.0.0.1:{port}"


def token(api, user_id, *roles):
    answer = requests.post(f"{api}/v1/auth/dev-token", json={"user_id": user_id, "roles": list(roles)})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_subscribers_replay_the_log_in_order_and_poll_from_the_end(api, amqp_uri):
    subscriber = token(api, "gov-1", "subscriber")
    published = [publish_event(amqp_uri, "campaigns", "campaign.submitted", {"campaign_id": str(n)})
                 for n in range(3)]
    published.append(publish_event(amqp_uri, "payments", "donation.failed", {"donation_id": "d"}))

    def everything():
        answer = requests.get(f"{api}/v1/events", headers=subscriber, params={"limit": 100})
        return answer.status_code == 200 and len(answer.json()["items"]) == 4 and answer.json()

    wait_for(everything, message="four events logged")
    seen, cursor = [], None
    for _ in range(5):
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{api}/v1/events", headers=subscriber, params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert set(body) == {"items", "next_cursor"} and isinstance(body["next_cursor"], str)
        seen += body["items"]
        cursor = body["next_cursor"]
        if not body["items"]:
            break
    assert sorted(e["id"] for e in seen) == sorted(e["id"] for e in published)
    assert len(seen) == 4

    later = publish_event(amqp_uri, "talent", "program.created", {"program_id": "p"})
    polled = wait_for(lambda: requests.get(f"{api}/v1/events", headers=subscriber,
                                           params={"cursor": cursor}).json()["items"], message="the new event")
    assert [e["id"] for e in polled] == [later["id"]]

    only = requests.get(f"{api}/v1/events", headers=subscriber,
                        params={"types": "donation.failed,program.created"}).json()
    assert [e["type"] for e in only["items"]] == ["donation.failed", "program.created"]


def test_the_feed_is_for_subscribers_and_admins_and_refuses_what_it_did_not_issue(api):
    assert requests.get(f"{api}/v1/events").status_code == 401
    plain = requests.get(f"{api}/v1/events", headers=token(api, "someone"))
    assert plain.status_code == 403 and plain.headers["Content-Type"].startswith("application/problem+json")
    admin = requests.get(f"{api}/v1/events", headers=token(api, "admin-1", "admin"))
    assert admin.status_code == 200 and admin.json()["next_cursor"]
    subscriber = token(api, "gov-1", "subscriber")
    bad_cursor = requests.get(f"{api}/v1/events", headers=subscriber, params={"cursor": "bm9wZQ"})
    assert bad_cursor.status_code == 422 and bad_cursor.json()["code"] == "invalid_cursor"
    typo = requests.get(f"{api}/v1/events", headers=subscriber, params={"types": "donation.suceeded"})
    assert typo.status_code == 422 and typo.json()["code"] == "unknown_event_type"
    for limit in ("0", "101", "x"):
        assert requests.get(f"{api}/v1/events", headers=subscriber, params={"limit": limit}).status_code == 422
