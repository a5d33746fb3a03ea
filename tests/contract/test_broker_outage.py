"""Nothing is lost when RabbitMQ is away for a while, and nothing is doubled when a consumer
dies mid-handler — without touching the shared broker: a service reaches RabbitMQ through a
TCP proxy in this test, and the test cuts that proxy (every connection closed, new ones
refused) and restores it."""
import socket
import threading
import urllib.parse
import uuid

import eventlet
import pytest
from nameko.testing.services import entrypoint_hook
from sqlalchemy import text

from demeu_common.db import make_engine
from demeu_common.testing import RABBIT_HOST, publish_event, wait_for

from campaigns.service import CampaignsService
from notifications.service import NotificationsService
from payments.service import PaymentsService

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}
ADMIN = {"user_id": "admin-1", "roles": ["admin"]}
DONOR = {"user_id": "donor-1", "roles": []}


class TcpProxy:
    """127.0.0.1:<port> ↔ the broker, until cut. ``cut()`` drops every connection and stops
    listening (connects are refused); ``restore()`` listens on the same port again.

    Sockets are only ever shut down from outside, never closed: under eventlet, closing a
    socket another greenthread is reading would let its file descriptor be reused under
    that reader. The greenthread that owns a socket closes it once it has stopped."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.port = None
        self.listener = None
        self.sockets = set()
        self.restore()

    def restore(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port or 0))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self):
        listener, self.listener = self.listener, None
        doomed, self.sockets = self.sockets, set()
        for sock in [listener, *doomed]:
            _shutdown(sock)

    def close(self):
        self.cut()

    def _accept(self, listener):
        try:
            while self.listener is listener:
                try:
                    client, _ = listener.accept()
                except OSError:
                    return  # cut: the listener was shut down
                try:
                    upstream = socket.create_connection(self.target, timeout=5)
                    upstream.settimeout(None)
                except OSError:
                    client.close()
                    continue
                if self.listener is not listener:
                    client.close(), upstream.close()
                    return
                self.sockets |= {client, upstream}
                pair = {"running": 2}
                for source, sink in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(source, sink, pair), daemon=True).start()
        finally:
            listener.close()

    def _pump(self, source, sink, pair):
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                sink.sendall(chunk)
        except (OSError, EOFError):
            pass
        _shutdown(source), _shutdown(sink)  # wakes the pump of the other direction
        pair["running"] -= 1
        if pair["running"] == 0:  # the last one out closes both
            self.sockets -= {source, sink}
            source.close(), sink.close()


def _shutdown(sock):
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


@pytest.fixture
def proxy():
    proxy = TcpProxy(RABBIT_HOST, 5672)
    yield proxy
    proxy.close()


def via(proxy, amqp_uri):
    parts = urllib.parse.urlsplit(amqp_uri)
    netloc = f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def outbox_rows(container):
    engine = make_engine(container.config["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT event_id, published_at FROM outbox ORDER BY seq")).all()
    finally:
        engine.dispose()


def campaign_body(n):
    return {"title": f"Village library {n}", "summary": "Books for the school.", "category": "education",
            "region": "KZ-43", "funding_model": "keep_it_all", "goal_amount": 1_000_000, "duration_days": 30}


def test_events_committed_while_the_broker_is_unreachable_arrive_once_when_it_returns(
        proxy, amqp_uri, container_factory, service_config, rpc_client, collect_events):
    through_proxy = {"AMQP_URI": via(proxy, amqp_uri), "OUTBOX_POLL_SECONDS": 0.2}
    campaigns = container_factory(CampaignsService, service_config("campaigns", **through_proxy))
    payments = container_factory(PaymentsService, service_config("payments", **through_proxy))
    campaigns.start(), payments.start()
    collector = collect_events("campaigns", "payments")  # on the real broker, not through the proxy

    live = rpc_client.campaigns.create_campaign(OWNER, campaign_body(0))["id"]
    rpc_client.campaigns.submit(OWNER, live)
    rpc_client.campaigns.approve(MODERATOR, live)
    gifts = []
    for n in range(3):
        body = {"amount": 10_000, "payment_method": {"type": "card", "token": "tok_success"}}
        answer = rpc_client.payments.create_donation(DONOR, live, body, f"gift-{n}")
        assert answer["status"] == 201, answer
        gifts.append(answer["body"]["id"])
    collector.wait_for("donation.succeeded", 3)  # the path through the proxy works
    before = len(collector.drain())

    proxy.cut()
    # The services' own entrypoints, run in their containers without the broker: each
    # commits its change and its outbox row, which the relays cannot publish yet.
    for n in range(1, 4):
        with entrypoint_hook(campaigns, "create_campaign") as create:
            campaign = create(OWNER, campaign_body(n))
        with entrypoint_hook(campaigns, "submit") as submit:
            submit(OWNER, campaign["id"])
        with entrypoint_hook(campaigns, "approve") as approve:
            approve(MODERATOR, campaign["id"])
    for n, gift in enumerate(gifts):
        with entrypoint_hook(payments, "refund_donation") as refund:
            assert refund(ADMIN, gift, {"amount": 1_000}, f"refund-{n}")["status"] == 200
    eventlet.sleep(2)  # a while: the relays have tried and failed
    waiting = [row.event_id for c in (campaigns, payments) for row in outbox_rows(c) if row.published_at is None]
    assert len(waiting) == 9
    assert len(collector.drain()) == before, "nothing can have been published through a cut proxy"

    proxy.restore()
    collector.wait_for("campaign.approved", 4, timeout=20)
    collector.wait_for("donation.refunded", 3, timeout=10)
    wait_for(lambda: all(row.published_at for c in (campaigns, payments) for row in outbox_rows(c)),
             timeout=10, message="every outbox row marked published")
    eventlet.sleep(0.5)
    ids = [event["body"]["id"] for event in collector.drain()]
    assert set(waiting) <= set(ids)  # none lost
    assert len(ids) == len(set(ids)) == before + 9  # none doubled, nothing else
    # And the consumers behind the proxy caught up too: campaigns counted the refunds.
    wait_for(lambda: rpc_client.campaigns.get_campaign(OWNER, live)["raised_amount"] == 27_000,
             timeout=10, message="campaigns' totals after the refunds")


def end_connections(url):
    engine = make_engine(url)
    try:
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    finally:
        engine.dispose()


def inbox_of(rpc, user_id):
    return rpc.notifications.list_notifications({"user_id": user_id, "roles": []})["items"]


def test_a_consumer_killed_mid_handler_leaves_one_notification_after_redelivery(
        amqp_uri, container_factory, service_config, rpc_client):
    config = service_config("notifications", SMTP_HOST="")
    # The first instance stalls in the handler's transaction (its rows written, not
    # committed), and is killed there.
    reached, release = eventlet.Event(), eventlet.Event()

    class StalledNotifications(NotificationsService):
        def _enqueue_deliveries(self, session, event, now):
            result = super()._enqueue_deliveries(session, event, now)
            session.flush()
            if not reached.ready():
                reached.send(True)
            release.wait()
            return result

    doomed = container_factory(StalledNotifications, config)
    doomed.start()
    event = publish_event(amqp_uri, "payments", "donation.succeeded", {
        "donation_id": str(uuid.uuid4()), "campaign_id": str(uuid.uuid4()), "campaign_owner_id": "owner-9",
        "campaign_title": "Dombra for every school", "amount": 10_000, "currency": "KZT",
        "donor_id": "donor-9", "anonymous": False})
    with eventlet.Timeout(10):
        reached.wait()
    doomed.kill()  # no ack was sent: the broker redelivers to the next consumer
    # A dead process's database connections die with it, and PostgreSQL rolls their
    # transactions back; an in-process kill may leave one to the pool, so end them here.
    end_connections(config["DATABASE_URL"])

    survivor = container_factory(NotificationsService, config)
    survivor.start()
    wait_for(lambda: inbox_of(rpc_client, "owner-9") and inbox_of(rpc_client, "donor-9"), timeout=15,
             message="the redelivered event handled")
    eventlet.sleep(0.5)
    assert [n["type"] for n in inbox_of(rpc_client, "owner-9")] == ["donation.received"]
    assert [n["type"] for n in inbox_of(rpc_client, "donor-9")] == ["donation.succeeded"]
    engine = make_engine(config["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            logged = connection.execute(text("SELECT count(*) FROM event_log WHERE event_id = :id"),
                                        {"id": event["id"]}).scalar()
    finally:
        engine.dispose()
    assert logged == 1
