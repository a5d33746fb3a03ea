"""demeu-declare-queues: the durable queues of known subscribers and of every service's event
handlers exist before anything is published, so nothing published before a consumer's first
start is dropped — on the real broker."""
import urllib.parse
import uuid

import pytest
from kombu import Connection
from nameko.standalone.events import get_event_exchange
from sqlalchemy import text

from demeu_common import declare
from demeu_common.db import make_engine
from demeu_common.testing import publish_event, wait_for

from notifications.service import NotificationsService

pytestmark = pytest.mark.integration

SUBSCRIBERS = """
subscribers:
  - name: stat-gov-kz
    exchanges:
      payments.events: ["donation.succeeded", "donation.refunded"]
      talent.events: "application.#"
services:
  - notifications.service:NotificationsService
"""


@pytest.fixture
def plan_file(tmp_path):
    path = tmp_path / "subscribers.yaml"
    path.write_text(SUBSCRIBERS, encoding="utf-8")
    return path


def vhost_queues(rabbit_management, amqp_uri):
    vhost = urllib.parse.quote(urllib.parse.unquote(amqp_uri.rsplit("/", 1)[1]), safe="")
    return {q["name"]: q for q in rabbit_management("GET", f"/api/queues/{vhost}")}


def take_all(amqp_uri, queue_name):
    bodies = []
    with Connection(amqp_uri) as connection:
        queue = connection.SimpleQueue(queue_name, no_ack=True)
        try:
            while True:
                bodies.append(queue.get(timeout=0.5).payload)
        except queue.Empty:
            pass
        finally:
            queue.close()
    return bodies


def logged_ids(container):
    engine = make_engine(container.config["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return [row[0] for row in connection.execute(text("SELECT event_id FROM event_log ORDER BY seq"))]
    finally:
        engine.dispose()


def donation(**overrides):
    data = {"donation_id": str(uuid.uuid4()), "campaign_id": str(uuid.uuid4()), "campaign_owner_id": "owner-1",
            "campaign_title": "Dombra for every school", "amount": 10_000, "currency": "KZT",
            "donor_id": "donor-1", "anonymous": False}
    data.update(overrides)
    return data


def test_events_published_before_a_consumer_first_starts_are_kept_for_it(
        plan_file, amqp_uri, rabbit_management, container_factory, service_config):
    with Connection(amqp_uri) as connection:  # the exchange exists (a publisher declared it)...
        get_event_exchange("payments", {})(connection.default_channel).declare()
    lost = publish_event(amqp_uri, "payments", "donation.succeeded", donation())  # ...no queue: dropped

    assert declare.main(["--config", str(plan_file), "--amqp-uri", amqp_uri]) == 0
    assert declare.main(["--config", str(plan_file), "--amqp-uri", amqp_uri]) == 0  # idempotent
    kept = publish_event(amqp_uri, "payments", "donation.succeeded", donation())
    other = publish_event(amqp_uri, "talent", "application.enrolled", {"application_id": "a-1"})

    # The subscriber's queues hold what they are bound to, and only that.
    assert [e["id"] for e in take_all(amqp_uri, "stat-gov-kz.payments.events")] == [kept["id"]]
    assert [e["id"] for e in take_all(amqp_uri, "stat-gov-kz.talent.events")] == [other["id"]]

    # notifications starts only now, and still handles what was published while it was away.
    container = container_factory(NotificationsService, service_config("notifications", SMTP_HOST=""))
    container.start()
    wait_for(lambda: len(logged_ids(container)) == 2, message="the kept events handled")
    assert set(logged_ids(container)) == {kept["id"], other["id"]}
    assert lost["id"] not in logged_ids(container)


def test_declared_handler_queues_are_exactly_the_ones_nameko_uses(
        plan_file, amqp_uri, rabbit_management, container_factory, service_config):
    declare.main(["--config", str(plan_file), "--amqp-uri", amqp_uri])
    before = vhost_queues(rabbit_management, amqp_uri)
    handler_queues = {name for name in before if name.startswith("evt-")}
    assert "evt-payments-donation.succeeded--notifications.on_event" in handler_queues
    assert all(q["durable"] and not q["auto_delete"] and not q["exclusive"] for q in before.values())

    # Started on top of them, the service declares the same queues with the same arguments
    # (a mismatch would fail its start with 406 PRECONDITION_FAILED) and no others.
    container = container_factory(NotificationsService, service_config("notifications", SMTP_HOST=""))
    container.start()
    after = vhost_queues(rabbit_management, amqp_uri)
    nameko_handler_queues = {name for name in after if name.startswith("evt-")}
    assert nameko_handler_queues == handler_queues
    for name in handler_queues:
        assert (after[name]["durable"], after[name]["auto_delete"], after[name]["arguments"]) == \
            (before[name]["durable"], before[name]["auto_delete"], before[name]["arguments"])


def test_a_subscriber_of_an_exchange_that_is_not_a_services_is_refused(tmp_path, amqp_uri):
    path = tmp_path / "bad.yaml"
    path.write_text("subscribers:\n  - name: x\n    exchanges:\n      amq.topic: ['#']\n", encoding="utf-8")
    with pytest.raises(ValueError):
        declare.main(["--config", str(path), "--amqp-uri", amqp_uri])


def test_the_deploy_plan_covers_every_service_that_handles_events():
    from pathlib import Path

    subscribers, services = declare.load_plan(Path(__file__).resolve().parents[2] / "deploy" / "subscribers.yaml")
    specs = declare.plan(subscribers, services, {"AMQP_URI": "amqp://unused/"})
    owners = {spec.owner.split(".")[0] for spec in specs if not spec.owner.startswith("subscriber")}
    assert {"campaigns", "payments", "talent", "notifications"} <= owners
    names = [spec.queue.name for spec in specs]
    assert len(names) == len(set(names))
