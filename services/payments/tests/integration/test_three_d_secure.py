"""3-D Secure: a pending donation captured by the provider's own signed webhook, once."""
import json
import time

import eventlet
import eventlet.wsgi
import pytest

from demeu_common.testing import wait_for

from campaigns.service import CampaignsService
from payments.domain import signatures
from payments.service import PaymentsService

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}
DONOR = {"user_id": "donor-1", "roles": []}
SECRET = "test-webhook-secret"


class WebhookRelay:
    """Stands in for the gateway route: forwards body and signature to the RPC."""

    def __init__(self, amqp_uri):
        from nameko.standalone.rpc import ClusterRpcProxy

        self.received = []
        self.proxy_context = ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=10)
        self.rpc = self.proxy_context.start()
        self.socket = eventlet.listen(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/hook"
        self.thread = eventlet.spawn(eventlet.wsgi.server, self.socket, self.app, log_output=False)

    def app(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode()
        signature = environ.get("HTTP_PROVIDER_SIGNATURE", "")
        self.received.append((body, signature))
        try:
            answer = self.rpc.payments.handle_provider_webhook(body, signature)
            status = "200 OK"
        except Exception as error:
            answer = {"code": getattr(error, "code", "error")}
            status = f"{getattr(error, 'status', 500)} Error"
        start_response(status, [("content-type", "application/json")])
        return [json.dumps(answer).encode()]

    def close(self):
        self.thread.kill()
        self.socket.close()
        self.proxy_context.stop()


@pytest.fixture
def relay(amqp_uri):
    relay = WebhookRelay(amqp_uri)
    yield relay
    relay.close()


@pytest.fixture
def live_campaign(container_factory, service_config, rpc_client, relay):
    container_factory(CampaignsService, service_config("campaigns")).start()
    container_factory(PaymentsService, service_config(
        "payments", PROVIDER_WEBHOOK_URL=relay.url, PROVIDER_WEBHOOK_SECRET=SECRET)).start()
    created = rpc_client.campaigns.create_campaign(OWNER, {
        "title": "Robotics club in Kyzylorda", "summary": "Kits for 40 pupils.",
        "category": "technology", "region": "KZ-43", "funding_model": "keep_it_all",
        "goal_amount": 5_000_000, "duration_days": 30,
    })
    rpc_client.campaigns.submit(OWNER, created["id"])
    return rpc_client.campaigns.approve(MODERATOR, created["id"])


def donate_3ds(rpc, campaign, key="key-3ds"):
    body = {"amount": 25_000, "payment_method": {"type": "card", "token": "tok_3ds"}}
    return rpc.payments.create_donation(DONOR, campaign["id"], body, key)


def test_a_3ds_donation_succeeds_through_the_providers_webhook_within_2s(
        live_campaign, rpc_client, relay, collect_events):
    events = collect_events("payments")
    started = time.monotonic()
    answer = donate_3ds(rpc_client, live_campaign)
    assert answer["status"] == 201 and answer["body"]["status"] == "pending"
    wait_for(lambda: rpc_client.payments.get_donation(DONOR, answer["body"]["id"])["status"] == "succeeded",
             timeout=2.0, message="3-D Secure capture")
    assert time.monotonic() - started < 2.5
    assert events.wait_for("donation.succeeded")[0]["data"]["amount"] == 25_000
    # The stored answer is the original one: a retry with the key gets it back unchanged.
    assert donate_3ds(rpc_client, live_campaign) == answer
    assert [(e["kind"], e["amount"]) for e in rpc_client.payments.campaign_ledger(live_campaign["id"])["items"]] \
        == [("donation", 25_000)]


def test_a_replayed_webhook_captures_nothing_twice(live_campaign, rpc_client, relay, collect_events):
    events = collect_events("payments")
    answer = donate_3ds(rpc_client, live_campaign)
    wait_for(lambda: relay.received, timeout=3.0, message="the provider's webhook")
    wait_for(lambda: rpc_client.payments.get_donation(DONOR, answer["body"]["id"])["status"] == "succeeded",
             timeout=3.0, message="capture")
    body, _ = relay.received[0]
    fresh = signatures.sign(SECRET, int(time.time()), body)
    assert rpc_client.payments.handle_provider_webhook(body, fresh)["duplicate"] is True
    eventlet.sleep(0.5)
    assert len(events.of_type("donation.succeeded")) == 1
    assert len(rpc_client.payments.campaign_ledger(live_campaign["id"])["items"]) == 1


def test_bad_and_old_signatures_are_refused(live_campaign, rpc_client, relay):
    body = json.dumps({"id": "evt_x", "type": "charge.succeeded", "charge_id": "ch_x", "reference": "x"})
    for signature in (signatures.sign("wrong", int(time.time()), body),
                      signatures.sign(SECRET, int(time.time()) - 600, body),
                      "garbage"):
        with pytest.raises(Exception) as refused:
            rpc_client.payments.handle_provider_webhook(body, signature)
        assert getattr(refused.value, "code", None) == "invalid_signature"


def test_a_gift_confirmed_after_its_campaign_failed_is_refunded_once(
        container_factory, service_config, rpc_client, amqp_uri, database_url_for, collect_events):
    """The card holder passes 3-D Secure only after the all_or_nothing campaign has failed
    and its refund saga has run: the late capture must go back too, and only once."""
    from sqlalchemy import text

    from demeu_common.db import make_engine
    from demeu_common.testing import publish_event

    container_factory(CampaignsService, service_config("campaigns")).start()
    # The sandbox's own webhook goes nowhere: this test delivers it itself, late.
    container_factory(PaymentsService, service_config(
        "payments", PROVIDER_WEBHOOK_URL="http://127.0.0.1:9/nowhere",
        PROVIDER_WEBHOOK_SECRET=SECRET)).start()
    events = collect_events("payments")
    created = rpc_client.campaigns.create_campaign(OWNER, {
        "title": "Observatory for Shymkent", "summary": "A telescope for a school.",
        "category": "science", "region": "KZ-79", "funding_model": "all_or_nothing",
        "goal_amount": 90_000_000, "duration_days": 30,
    })
    rpc_client.campaigns.submit(OWNER, created["id"])
    campaign = rpc_client.campaigns.approve(MODERATOR, created["id"])
    pending = donate_3ds(rpc_client, campaign, key="late-3ds")["body"]
    assert pending["status"] == "pending"

    publish_event(amqp_uri, "campaigns", "campaign.failed",
                  {"campaign_id": campaign["id"], "owner_id": OWNER["user_id"], "status": "failed"})
    engine = make_engine(database_url_for("payments"))
    try:
        with engine.connect() as connection:
            wait_for(lambda: connection.execute(text(
                "SELECT count(*) FROM failed_campaigns WHERE campaign_id = :c"), {"c": campaign["id"]}).scalar(),
                message="payments learned of the failure")
            charge_id = connection.execute(text("SELECT charge_id FROM donations WHERE id = :d"),
                                           {"d": pending["id"]}).scalar()
    finally:
        engine.dispose()

    body = json.dumps({"id": "evt_late", "type": "charge.succeeded", "charge_id": charge_id,
                       "reference": pending["id"]})
    signature = signatures.sign(SECRET, int(time.time()), body.encode())
    rpc_client.payments.handle_provider_webhook(body, signature)
    rpc_client.payments.handle_provider_webhook(body, signature)  # the provider retries

    donation = wait_for(lambda: (lambda d: d if d["status"] == "refunded" else None)(
        rpc_client.payments.get_donation(DONOR, pending["id"])), message="late gift refunded")
    assert donation["refunded_amount"] == donation["captured_amount"] == 25_000
    ledger = rpc_client.payments.campaign_ledger(campaign["id"])["items"]
    assert [(e["kind"], e["amount"]) for e in ledger] == [("donation", 25_000), ("refund", -25_000)]
    assert len(events.wait_for("donation.refunded")) == 1
