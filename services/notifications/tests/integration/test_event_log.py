"""The event log behind GET /v1/events: every event once, in recording order, replayable from an
opaque cursor that is never null — on the real broker and database."""
import json
import threading
import time
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from demeu_common.clock import utcnow
from demeu_common.cloudevents import make_event
from demeu_common.db import make_engine
from demeu_common.errors import Forbidden, ValidationFailed
from demeu_common.pagination import encode_cursor
from demeu_common.testing import publish_event, wait_for

from notifications import eventlog
from notifications.service import NotificationsService

pytestmark = pytest.mark.integration

SUBSCRIBER = {"user_id": "gov-1", "roles": ["subscriber"]}
ADMIN = {"user_id": "admin-1", "roles": ["admin"]}
PLAIN = {"user_id": "user-1", "roles": []}


@pytest.fixture
def notifications(container_factory, service_config):
    container = container_factory(NotificationsService, service_config("notifications", SMTP_HOST=""))
    container.start()
    return container


def campaign_data(title="Dombra for every school"):
    return {"campaign_id": str(uuid.uuid4()), "owner_id": "owner-1", "title": title,
            "category": "culture", "region": "KZ-61", "status": "pending_review"}


def logged_count(container):
    engine = make_engine(container.config["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM event_log")).scalar()
    finally:
        engine.dispose()


def logged_order(container):
    engine = make_engine(container.config["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return [row[0] for row in connection.execute(text("SELECT event_id FROM event_log ORDER BY seq"))]
    finally:
        engine.dispose()


def replay_all(rpc, actor=SUBSCRIBER, **kwargs):
    items, cursor = [], None
    while True:
        page = rpc.notifications.replay_events(actor, cursor=cursor, **kwargs)
        assert page["next_cursor"]
        items += page["items"]
        if not page["items"]:
            return items, page["next_cursor"]
        cursor = page["next_cursor"]


def test_each_event_is_logged_once_and_replayed_in_recording_order(notifications, rpc_client, amqp_uri):
    published = []
    for n in range(5):
        event = publish_event(amqp_uri, "campaigns", "campaign.submitted", campaign_data(f"Campaign {n}"))
        published.append(event)
        wait_for(lambda: logged_count(notifications) == n + 1, message=f"event {n} logged")
    # Redeliveries of events already logged add nothing.
    for event in published[:2]:
        publish_event(amqp_uri, "campaigns", "campaign.submitted", event["data"], event_id=event["id"])
    marker = publish_event(amqp_uri, "payments", "donation.failed", {"donation_id": str(uuid.uuid4())})
    wait_for(lambda: logged_count(notifications) == 6, message="the marker logged")

    first = rpc_client.notifications.replay_events(SUBSCRIBER, limit=4)
    assert [e["id"] for e in first["items"]] == [e["id"] for e in published[:4]]
    assert first["items"][0] == published[0]  # the CloudEvent exactly as published
    rest = rpc_client.notifications.replay_events(SUBSCRIBER, cursor=first["next_cursor"], limit=4)
    assert [e["id"] for e in rest["items"]] == [published[4]["id"], marker["id"]]


def test_next_cursor_at_the_end_is_where_to_poll_from_later(notifications, rpc_client, amqp_uri):
    empty = rpc_client.notifications.replay_events(SUBSCRIBER)
    assert empty["items"] == [] and empty["next_cursor"]
    publish_event(amqp_uri, "campaigns", "campaign.submitted", campaign_data())
    wait_for(lambda: logged_count(notifications) == 1)
    page = rpc_client.notifications.replay_events(SUBSCRIBER, cursor=empty["next_cursor"])
    assert len(page["items"]) == 1 and page["next_cursor"]
    at_end = rpc_client.notifications.replay_events(SUBSCRIBER, cursor=page["next_cursor"])
    assert at_end["items"] == [] and at_end["next_cursor"]

    later = publish_event(amqp_uri, "talent", "program.created", {"program_id": str(uuid.uuid4())})
    wait_for(lambda: logged_count(notifications) == 2)
    polled = rpc_client.notifications.replay_events(SUBSCRIBER, cursor=at_end["next_cursor"])
    assert [e["id"] for e in polled["items"]] == [later["id"]]


def test_types_filter_the_feed_and_a_rare_type_poller_moves_forward(notifications, rpc_client, amqp_uri):
    kept = []
    for n in range(3):
        publish_event(amqp_uri, "campaigns", "campaign.submitted", campaign_data())
        kept.append(publish_event(amqp_uri, "payments", "donation.failed", {"donation_id": str(n)}))
    wait_for(lambda: logged_count(notifications) == 6)
    items, end = replay_all(rpc_client, types="donation.failed,donation.refunded", limit=2)
    # Events of one queue are handled concurrently, so the log's order is recording order.
    assert [e["id"] for e in items] == [i for i in logged_order(notifications) if i in {e["id"] for e in kept}]
    assert sorted(e["id"] for e in items) == sorted(e["id"] for e in kept)
    assert rpc_client.notifications.replay_events(ADMIN, types=["donation.failed"])["items"] == items

    publish_event(amqp_uri, "campaigns", "campaign.submitted", campaign_data())
    wait_for(lambda: logged_count(notifications) == 7)
    none_yet = rpc_client.notifications.replay_events(SUBSCRIBER, cursor=end, types="donation.failed")
    assert none_yet["items"] == [] and none_yet["next_cursor"] != end  # past the skipped entry


def test_the_log_is_for_subscribers_and_admins(notifications, rpc_client):
    with pytest.raises(Forbidden) as refused:
        rpc_client.notifications.replay_events(PLAIN)
    assert refused.value.status == 403
    with pytest.raises(Forbidden) as anonymous:
        rpc_client.notifications.replay_events({})
    assert anonymous.value.status == 401
    assert rpc_client.notifications.replay_events(ADMIN)["next_cursor"]


@pytest.mark.parametrize("cursor", [
    "not-a-cursor", encode_cursor("x"), encode_cursor("events", -1), encode_cursor("events", "3"),
    encode_cursor("notifications", 3), encode_cursor("events", 2 ** 63),
])
def test_a_cursor_we_did_not_issue_is_refused(notifications, rpc_client, cursor):
    with pytest.raises(ValidationFailed) as refused:
        rpc_client.notifications.replay_events(SUBSCRIBER, cursor=cursor)
    assert refused.value.code == "invalid_cursor"


def test_unknown_types_and_limits_out_of_range_are_refused(notifications, rpc_client):
    with pytest.raises(ValidationFailed) as typo:
        rpc_client.notifications.replay_events(SUBSCRIBER, types="donation.suceeded")
    assert typo.value.code == "unknown_event_type"
    with pytest.raises(ValidationFailed):
        rpc_client.notifications.replay_events(SUBSCRIBER, limit=101)


def test_a_reader_never_sees_a_later_entry_before_an_earlier_one_commits(database_url_for):
    """The race the sequencing lock closes: writer A takes its number first but commits last.
    B must wait for A, so no reader can see B's entry while A's is still in flight."""
    url = database_url_for("notifications")
    engine = make_engine(url)
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the race does not exist there")
    first, second = (make_event("campaigns", "campaign.submitted", {"n": n}) for n in (1, 2))
    b_done = threading.Event()
    a, thread = Session(engine), None
    try:
        eventlog.record(a, first, utcnow())
        a.flush()

        def writer_b():
            with Session(engine) as b:
                eventlog.record(b, second, utcnow())
                b.commit()
            b_done.set()

        thread = threading.Thread(target=writer_b)
        thread.start()
        time.sleep(0.5)
        assert not b_done.is_set(), "B took a number while A's was still in flight"
        with Session(engine) as reader:
            page = eventlog.replay(reader, None, None, 10)
            assert page["items"] == []
        a.commit()
        assert b_done.wait(5)
        with Session(engine) as reader:
            page = eventlog.replay(reader, None, None, 10)
        assert [e["id"] for e in page["items"]] == [first["id"], second["id"]]
        with engine.connect() as connection:
            seqs = connection.execute(text("SELECT event_id, seq FROM event_log ORDER BY seq")).all()
        assert [row.event_id for row in seqs] == [first["id"], second["id"]]
    finally:
        a.close()  # a failed assertion must not leave A's transaction holding the table
        if thread is not None:
            thread.join(5)
        engine.dispose()


def test_the_logged_envelope_round_trips_unchanged(database_url_for):
    engine = make_engine(database_url_for("notifications"))
    event = make_event("talent", "talent.registered", {"talent_id": "t", "display_name": "Әлия"})
    try:
        with Session(engine) as session:
            eventlog.record(session, event, utcnow())
            eventlog.record(session, event, utcnow())  # the second guard: same id, no new row
            session.commit()
        with Session(engine) as session:
            page = eventlog.replay(session, None, ["talent.registered"], 5)
        assert page["items"] == [json.loads(json.dumps(event))]
    finally:
        engine.dispose()
