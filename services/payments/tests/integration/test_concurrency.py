"""Concurrent retries of one donation on PostgreSQL: one key, one donation, one charge."""
import eventlet
import pytest
from sqlalchemy import func, select

from demeu_common.db import make_engine

from campaigns.service import CampaignsService
from payments.models import Donation, JournalEntry, SandboxOperation
from payments.service import PaymentsService

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}
DONOR = {"user_id": "donor-1", "roles": []}


@pytest.fixture
def live_campaign(container_factory, service_config, rpc_client):
    for service in (CampaignsService, PaymentsService):
        container_factory(service, service_config(service.name)).start()
    created = rpc_client.campaigns.create_campaign(OWNER, {
        "title": "Robotics club in Kyzylorda", "summary": "Kits for 40 pupils.",
        "category": "technology", "region": "KZ-43", "funding_model": "keep_it_all",
        "goal_amount": 5_000_000, "duration_days": 30,
    })
    rpc_client.campaigns.submit(OWNER, created["id"])
    return rpc_client.campaigns.approve(MODERATOR, created["id"])


def test_ten_concurrent_retries_with_one_key_charge_once(live_campaign, amqp_uri, database_url_for, rpc_client):
    from nameko.standalone.rpc import ClusterRpcProxy

    body = {"amount": 10_000, "payment_method": {"type": "card", "token": "tok_success"}}

    def attempt(_):
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as rpc:
            try:
                return rpc.payments.create_donation(DONOR, live_campaign["id"], body, "same-key")
            except Exception as error:  # the ones that met the first still running
                return getattr(error, "code", repr(error))

    outcomes = list(eventlet.GreenPool(10).imap(attempt, range(10)))
    answers = [o for o in outcomes if isinstance(o, dict)]
    assert answers and all(a == answers[0] for a in answers)
    assert answers[0]["status"] == 201
    assert set(o for o in outcomes if not isinstance(o, dict)) <= {"request_in_progress"}
    # Once the first has finished, every retry gets its answer.
    assert rpc_client.payments.create_donation(DONOR, live_campaign["id"], body, "same-key") == answers[0]

    engine = make_engine(database_url_for("payments"))
    try:
        with engine.connect() as connection:
            count = lambda query: connection.execute(query).scalar()  # noqa: E731
            assert count(select(func.count()).select_from(Donation)) == 1
            assert count(select(func.count()).select_from(SandboxOperation)
                         .where(SandboxOperation.kind == "charge")) == 1
            assert count(select(func.count()).select_from(JournalEntry)) == 1
    finally:
        engine.dispose()
