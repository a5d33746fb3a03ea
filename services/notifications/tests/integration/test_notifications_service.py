"""The notifications service in a real container, on the real broker and database, with a
real SMTP server (aiosmtpd, in a subprocess) and a real HTTP receiver for webhooks."""
import email
import email.policy
import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sqlalchemy import text

from demeu_common.db import make_engine
from demeu_common.errors import Forbidden, NotFound, ValidationFailed
from demeu_common.testing import publish_event, wait_for

from notifications.domain import signing
from notifications.service import NotificationsService

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
DONOR = {"user_id": "donor-1", "roles": []}
SUBSCRIBER = {"user_id": "gov-1", "roles": ["subscriber"]}


def donation_data(**overrides):
    data = {
        "donation_id": str(uuid.uuid4()), "campaign_id": str(uuid.uuid4()),
        "campaign_owner_id": OWNER["user_id"], "campaign_title": "Dombra for every school",
        "amount": 1_250_000, "currency": "KZT", "donor_id": DONOR["user_id"], "anonymous": False,
        "backer_ref": "b1", "reward_id": None, "created_at": "2026-01-01T00:00:00Z",
    }
    data.update(overrides)
    return data


def campaign_data(**overrides):
    data = {
        "campaign_id": str(uuid.uuid4()), "owner_id": OWNER["user_id"], "title": "Dombra for every school",
        "category": "culture", "region": "KZ-61", "funding_model": "all_or_nothing",
        "goal_amount": 1_000_000, "raised_amount": 1_250_000, "matched_amount": 0,
        "currency": "KZT", "status": "succeeded",
    }
    data.update(overrides)
    return data


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def start_service(container_factory, service_config):
    def start(**overrides):
        overrides.setdefault("SMTP_HOST", "")
        container = container_factory(NotificationsService, service_config("notifications", **overrides))
        container.start()
        return container
    return start


@pytest.fixture
def notifications(start_service):
    return start_service()


def inbox(rpc, actor, **kwargs):
    return rpc.notifications.list_notifications(actor, **kwargs)["items"]


# --- SMTP -----------------------------------------------------------------------------------

SMTP_SERVER = textwrap.dedent("""
    import json, sys, time
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            with open(sys.argv[2], "a", encoding="utf-8") as out:
                out.write(json.dumps({"to": envelope.rcpt_tos,
                                      "data": envelope.content.decode("utf-8", "replace")}) + "\\n")
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)
""")


class SmtpServer:
    def __init__(self, port, mailbox):
        self.port, self.mailbox = port, mailbox
        self.process = subprocess.Popen(
            [sys.executable, "-c", SMTP_SERVER, str(port), str(mailbox)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"

    def messages(self):
        if not self.mailbox.exists():
            return []
        return [json.loads(line) for line in self.mailbox.read_text(encoding="utf-8").splitlines()]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def smtp_server(tmp_path):
    servers = []

    def start(port=None):
        server = SmtpServer(port or free_port(), tmp_path / f"mailbox-{len(servers)}.jsonl")
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# --- HTTP receiver --------------------------------------------------------------------------

class Receiver:
    """Records every POST; answers with the next status of ``statuses`` (then 200)."""

    def __init__(self, statuses=(), delay=0):
        self.statuses = list(statuses)
        self.delay = delay
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(receiver.delay)
                receiver.requests.append({"headers": dict(self.headers), "body": raw})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receivers = []

    def make(statuses=(), delay=0):
        r = Receiver(statuses, delay)
        receivers.append(r)
        return r

    yield make
    for r in receivers:
        r.stop()


# --- inbox ----------------------------------------------------------------------------------

def test_ping_answers_when_the_database_does(notifications, rpc_client):
    assert rpc_client.notifications.ping() == "ok"


def test_redelivered_donation_creates_one_notification_per_recipient(notifications, rpc_client, amqp_uri):
    event_id = str(uuid.uuid4())
    data = donation_data()
    for _ in range(3):
        publish_event(amqp_uri, "payments", "donation.succeeded", data, event_id=event_id)
    wait_for(lambda: inbox(rpc_client, OWNER) and inbox(rpc_client, DONOR), message="both notified")
    # A later, separate redelivery changes nothing either.
    publish_event(amqp_uri, "payments", "donation.succeeded", data, event_id=event_id)
    marker = publish_event(amqp_uri, "payments", "donation.succeeded",
                           donation_data(campaign_title="Second campaign"))
    wait_for(lambda: len(inbox(rpc_client, OWNER)) == 2, message="the second donation")
    owner_items, donor_items = inbox(rpc_client, OWNER), inbox(rpc_client, DONOR)
    assert [i["type"] for i in owner_items] == ["donation.received", "donation.received"]
    assert [i["type"] for i in donor_items] == ["donation.succeeded", "donation.succeeded"]
    assert marker["id"] != event_id


def test_unique_constraint_holds_even_if_the_processed_event_record_is_lost(
        notifications, rpc_client, amqp_uri):
    event_id = str(uuid.uuid4())
    data = donation_data()
    publish_event(amqp_uri, "payments", "donation.succeeded", data, event_id=event_id)
    wait_for(lambda: inbox(rpc_client, OWNER) and inbox(rpc_client, DONOR))
    engine = make_engine(notifications.config["DATABASE_URL"])
    try:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM processed_events"))
    finally:
        engine.dispose()
    publish_event(amqp_uri, "payments", "donation.succeeded", data, event_id=event_id)
    wait_for(lambda: _processed_count(notifications) == 1, message="the redelivery handled")
    assert len(inbox(rpc_client, OWNER)) == 1 and len(inbox(rpc_client, DONOR)) == 1


def _processed_count(container):
    engine = make_engine(container.config["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM processed_events")).scalar()
    finally:
        engine.dispose()


def test_inbox_renders_in_the_recipients_locale(notifications, rpc_client, amqp_uri):
    rpc_client.notifications.remember_contact(OWNER["user_id"], None, "kk")
    rpc_client.notifications.remember_contact(DONOR["user_id"], "donor@example.kz", "en")
    publish_event(amqp_uri, "payments", "donation.succeeded", donation_data(amount=1_250_050))
    owner_item = wait_for(lambda: inbox(rpc_client, OWNER))[0]
    donor_item = wait_for(lambda: inbox(rpc_client, DONOR))[0]
    assert owner_item["title"] == "Жаңа жарна: «Dombra for every school»"
    assert "12 500,50 ₸" in owner_item["body"] and owner_item["read"] is False
    assert donor_item["body"] == "Your donation of 12 500,50 ₸ to “Dombra for every school” went through."
    assert set(owner_item) == {"id", "type", "title", "body", "created_at", "read"}


def test_anonymous_donation_tells_only_the_owner(notifications, rpc_client, amqp_uri):
    rpc_client.notifications.remember_contact(OWNER["user_id"], None, "en")
    publish_event(amqp_uri, "payments", "donation.succeeded", donation_data(donor_id=None, anonymous=True))
    item = wait_for(lambda: inbox(rpc_client, OWNER))[0]
    assert item["body"].startswith("Someone anonymous donated 12 500 ₸")
    publish_event(amqp_uri, "campaigns", "campaign.succeeded", campaign_data())
    wait_for(lambda: len(inbox(rpc_client, OWNER)) == 2)
    assert inbox(rpc_client, DONOR) == []


def test_campaign_events_reach_the_owner_newest_first_with_a_cursor(notifications, rpc_client, amqp_uri):
    for event_type in ("campaign.approved", "campaign.rejected", "campaign.succeeded", "campaign.failed"):
        publish_event(amqp_uri, "campaigns", event_type, campaign_data(reason="No budget"))
        wait_for(lambda: [i["type"] for i in inbox(rpc_client, OWNER, limit=1)] == [event_type], message=event_type)
    first = rpc_client.notifications.list_notifications(OWNER, limit=3)
    assert [i["type"] for i in first["items"]] == ["campaign.failed", "campaign.succeeded", "campaign.rejected"]
    second = rpc_client.notifications.list_notifications(OWNER, limit=3, cursor=first["next_cursor"])
    assert [i["type"] for i in second["items"]] == ["campaign.approved"] and second["next_cursor"] is None
    rejected = first["items"][2]
    assert rejected["title"] == "Кампания не прошла модерацию" and "No budget" in rejected["body"]


def test_events_without_a_recipient_are_skipped_and_others_still_flow(notifications, rpc_client, amqp_uri):
    publish_event(amqp_uri, "campaigns", "campaign.approved", campaign_data(owner_id=None))
    publish_event(amqp_uri, "talent", "application.offered", {"application_id": "a1"})
    publish_event(amqp_uri, "talent", "application.enrolled", {
        "application_id": "a1", "program_id": "p1", "program_title": "Robotics", "talent_user_id": "t-1"})
    item = wait_for(lambda: inbox(rpc_client, {"user_id": "t-1", "roles": []}))[0]
    assert item["type"] == "application.enrolled" and "Robotics" in item["body"]


def test_mark_read_is_for_the_recipient_only(notifications, rpc_client, amqp_uri):
    publish_event(amqp_uri, "campaigns", "campaign.approved", campaign_data())
    item = wait_for(lambda: inbox(rpc_client, OWNER))[0]
    with pytest.raises(NotFound):
        rpc_client.notifications.mark_read(DONOR, item["id"])
    with pytest.raises(NotFound):
        rpc_client.notifications.mark_read(OWNER, "not-a-uuid")
    assert rpc_client.notifications.mark_read(OWNER, item["id"])["read"] is True
    assert inbox(rpc_client, OWNER)[0]["read"] is True


def test_inbox_preference_off_stops_new_items(notifications, rpc_client, amqp_uri):
    assert rpc_client.notifications.get_preferences(OWNER) == {"email": True, "inbox": True}
    with pytest.raises(ValidationFailed):
        rpc_client.notifications.set_preferences(OWNER, {"email": "no", "inbox": True})
    rpc_client.notifications.set_preferences(OWNER, {"email": True, "inbox": False})
    assert rpc_client.notifications.get_preferences(OWNER) == {"email": True, "inbox": False}
    publish_event(amqp_uri, "payments", "donation.succeeded", donation_data())
    wait_for(lambda: inbox(rpc_client, DONOR), message="the donor's item")
    assert inbox(rpc_client, OWNER) == []


def test_remember_contact_defaults_to_russian_and_keeps_a_known_email(notifications, rpc_client):
    assert rpc_client.notifications.remember_contact("u-9", None, None)["locale"] == "ru"
    rpc_client.notifications.remember_contact("u-9", "u9@example.kz", "xx")
    again = rpc_client.notifications.remember_contact("u-9", None, "en")
    assert again == {"user_id": "u-9", "email": "u9@example.kz", "locale": "en"}


# --- email ----------------------------------------------------------------------------------

def test_email_arrives_at_the_smtp_server_in_the_recipients_locale(start_service, smtp_server, rpc_client, amqp_uri):
    smtp = smtp_server()
    start_service(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port)
    rpc_client.notifications.remember_contact(OWNER["user_id"], "owner@example.kz", "ru")
    rpc_client.notifications.remember_contact(DONOR["user_id"], "donor@example.kz", "en")
    rpc_client.notifications.set_preferences(DONOR, {"email": False, "inbox": True})
    event_id = str(uuid.uuid4())
    for _ in range(2):
        publish_event(amqp_uri, "payments", "donation.succeeded", donation_data(), event_id=event_id)
    message = wait_for(smtp.messages, message="an email")[0]
    assert message["to"] == ["owner@example.kz"]
    parsed = email.message_from_string(message["data"], policy=email.policy.default)
    assert parsed["Subject"] == "Новое пожертвование: «Dombra for every school»"
    assert parsed.get_content().strip() == \
        "На кампанию «Dombra for every school» поступило пожертвование 12 500 ₸."
    wait_for(lambda: inbox(rpc_client, DONOR))
    time.sleep(1.5)
    assert len(smtp.messages()) == 1  # the donor opted out; the redelivery sent nothing


def test_email_waits_out_a_down_smtp_server(start_service, smtp_server, rpc_client, amqp_uri):
    port = free_port()
    start_service(SMTP_HOST="127.0.0.1", SMTP_PORT=port, EMAIL_RETRY_BASE_SECONDS=0.5)
    rpc_client.notifications.remember_contact(OWNER["user_id"], "owner@example.kz", "kk")
    publish_event(amqp_uri, "campaigns", "campaign.approved", campaign_data())
    wait_for(lambda: inbox(rpc_client, OWNER), message="the inbox item, with SMTP down")
    time.sleep(1.0)
    smtp = smtp_server(port)
    message = wait_for(smtp.messages, timeout=15, message="the email after SMTP came back")[0]
    assert message["to"] == ["owner@example.kz"]


# --- webhooks -------------------------------------------------------------------------------

def test_webhooks_are_for_subscribers_and_their_owners(notifications, rpc_client, receiver):
    url = receiver().url
    with pytest.raises(Forbidden):
        rpc_client.notifications.create_webhook(OWNER, {"url": url, "event_types": ["donation.succeeded"]})
    with pytest.raises(ValidationFailed):
        rpc_client.notifications.create_webhook(SUBSCRIBER, {"url": "ftp://x", "event_types": ["nope"]})
    hook = rpc_client.notifications.create_webhook(SUBSCRIBER, {"url": url, "event_types": ["campaign.approved"]})
    assert hook["secret"] and hook["status"] == "active"
    other = {"user_id": "gov-2", "roles": ["subscriber"]}
    with pytest.raises(NotFound):
        rpc_client.notifications.rotate_secret(other, hook["id"])
    assert rpc_client.notifications.list_webhooks(other)["items"] == []
    rotated = rpc_client.notifications.rotate_secret(SUBSCRIBER, hook["id"])
    assert rotated["secret"] != hook["secret"]
    rpc_client.notifications.delete_webhook(SUBSCRIBER, hook["id"])
    assert rpc_client.notifications.list_webhooks(SUBSCRIBER)["items"] == []


def test_webhook_delivery_is_signed_cloudevent(notifications, rpc_client, receiver, amqp_uri):
    sink = receiver()
    hook = rpc_client.notifications.create_webhook(
        SUBSCRIBER, {"url": sink.url, "event_types": ["donation.succeeded", "match.applied"]})
    published = publish_event(amqp_uri, "payments", "donation.succeeded", donation_data(), event_id=None)
    publish_event(amqp_uri, "campaigns", "campaign.approved", campaign_data())  # not subscribed
    request = wait_for(lambda: sink.requests, message="a delivery")[0]
    header = request["headers"]["Demeu-Signature"]
    assert signing.verify(hook["secret"], header, request["body"], now=int(time.time()))
    assert json.loads(request["body"]) == published
    time.sleep(1.0)
    assert len(sink.requests) == 1
    deliveries = rpc_client.notifications.list_deliveries(SUBSCRIBER, hook["id"])
    assert [(d["event_type"], d["status"], d["attempts"]) for d in deliveries["items"]] == [
        ("donation.succeeded", "delivered", 1)]


def test_failing_receiver_is_retried_until_it_answers(start_service, rpc_client, receiver, amqp_uri):
    start_service(WEBHOOK_RETRY_BASE_SECONDS=0.3)
    flaky = receiver(statuses=[500, 503])
    steady = receiver()
    flaky_hook = rpc_client.notifications.create_webhook(
        SUBSCRIBER, {"url": flaky.url, "event_types": ["pool.expired"]})
    rpc_client.notifications.create_webhook(SUBSCRIBER, {"url": steady.url, "event_types": ["pool.expired"]})
    published = publish_event(amqp_uri, "payments", "pool.expired", {
        "pool_id": "p1", "patron_id": "patron-1", "name": "Fund", "remaining_amount": 0, "currency": "KZT"})
    wait_for(lambda: len(flaky.requests) >= 3, timeout=15, message="two retries")
    assert len(steady.requests) == 1
    assert {r["body"] for r in flaky.requests} == {steady.requests[0]["body"]}
    assert json.loads(flaky.requests[-1]["body"])["id"] == published["id"]
    delivery = wait_for(lambda: [d for d in rpc_client.notifications.list_deliveries(
        SUBSCRIBER, flaky_hook["id"])["items"] if d["status"] == "delivered"])[0]
    assert delivery["attempts"] == 3 and delivery["last_status_code"] == 200


def test_dead_endpoint_is_disabled_after_consecutive_failures(start_service, rpc_client, receiver, amqp_uri):
    start_service(WEBHOOK_RETRY_BASE_SECONDS=0.2, WEBHOOK_DISABLE_AFTER_FAILURES=3,
                  WEBHOOK_DISABLE_AFTER_SECONDS=0.5)
    dead = receiver(statuses=[500] * 100)
    hook = rpc_client.notifications.create_webhook(SUBSCRIBER, {"url": dead.url, "event_types": ["pool.created"]})
    for _ in range(3):
        publish_event(amqp_uri, "payments", "pool.created", {"pool_id": str(uuid.uuid4())})
    wait_for(lambda: rpc_client.notifications.get_webhook(SUBSCRIBER, hook["id"])["status"] == "disabled",
             timeout=15, message="the webhook disabled")
    time.sleep(1.0)
    calls = len(dead.requests)
    time.sleep(1.0)
    assert len(dead.requests) == calls  # a disabled endpoint is left alone
    dead.statuses = []
    rpc_client.notifications.enable_webhook(SUBSCRIBER, hook["id"])
    wait_for(lambda: all(d["status"] == "delivered" for d in rpc_client.notifications.list_deliveries(
        SUBSCRIBER, hook["id"])["items"]), timeout=15, message="pending deliveries resumed")


def test_a_slow_subscriber_does_not_hold_up_the_others(start_service, rpc_client, receiver, amqp_uri):
    start_service(WEBHOOK_TIMEOUT_SECONDS=2, WEBHOOK_RETRY_BASE_SECONDS=30)
    slow = receiver(delay=2.5)
    fast = receiver()
    for sink in (slow, fast):
        rpc_client.notifications.create_webhook(SUBSCRIBER, {"url": sink.url, "event_types": ["campaign.submitted"]})
    started = time.monotonic()
    for _ in range(6):
        publish_event(amqp_uri, "campaigns", "campaign.submitted", campaign_data(status="pending_review"))
    wait_for(lambda: len(fast.requests) == 6, timeout=10, message="all six at the fast subscriber")
    assert time.monotonic() - started < 2.0
