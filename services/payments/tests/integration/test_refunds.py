"""Refunds on the real broker and PostgreSQL: admin refunds, whole and partial, never more
than was captured, and the automatic refunds of a failed all_or_nothing campaign."""
import eventlet
import pytest
from sqlalchemy import select

from demeu_common.db import make_engine
from demeu_common.testing import publish_event, wait_for

from campaigns.service import CampaignsService
from payments.models import Refund, SandboxOperation
from payments.service import PaymentsService

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}
DONOR = {"user_id": "donor-1", "roles": []}
ADMIN = {"user_id": "admin-1", "roles": ["admin"]}


@pytest.fixture
def platform(container_factory, service_config):
    for service in (CampaignsService, PaymentsService):
        container_factory(service, service_config(service.name)).start()


def make_live(rpc, funding_model="keep_it_all", goal=5_000_000):
    created = rpc.campaigns.create_campaign(OWNER, {
        "title": "Robotics club in Kyzylorda", "summary": "Kits for 40 pupils.",
        "category": "technology", "region": "KZ-43", "funding_model": funding_model,
        "goal_amount": goal, "duration_days": 30,
    })
    rpc.campaigns.submit(OWNER, created["id"])
    return rpc.campaigns.approve(MODERATOR, created["id"])


@pytest.fixture
def live_campaign(platform, rpc_client):
    return make_live(rpc_client)


def donate(rpc, campaign, key, amount=10_000, donor=DONOR):
    body = {"amount": amount, "payment_method": {"type": "card", "token": "tok_success"}}
    answer = rpc.payments.create_donation(donor, campaign["id"], body, key)
    assert answer["status"] == 201, answer
    return answer["body"]


def refund(rpc, donation_id, key, amount=None, actor=ADMIN):
    return rpc.payments.refund_donation(actor, donation_id, {} if amount is None else {"amount": amount}, key)


def ledger_kinds(rpc, campaign_id):
    return [(e["kind"], e["amount"]) for e in rpc.payments.campaign_ledger(campaign_id)["items"]]


def test_only_admins_refund(live_campaign, rpc_client):
    donation = donate(rpc_client, live_campaign, "d-1")
    with pytest.raises(Exception) as refused:
        refund(rpc_client, donation["id"], "r-1", actor=DONOR)
    assert getattr(refused.value, "code", None) == "forbidden"


def test_partial_then_full_refund_posts_chain_and_events(live_campaign, rpc_client, collect_events):
    events = collect_events("payments")
    donation = donate(rpc_client, live_campaign, "d-1", amount=10_000)

    partial = refund(rpc_client, donation["id"], "r-1", amount=3_000)
    assert partial["status"] == 200
    assert partial["body"]["status"] == "partially_refunded" and partial["body"]["refunded_amount"] == 3_000
    assert refund(rpc_client, donation["id"], "r-1", amount=3_000) == partial  # replay: nothing twice

    rest = refund(rpc_client, donation["id"], "r-2")
    assert rest["body"]["status"] == "refunded" and rest["body"]["refunded_amount"] == 10_000

    refunded = events.wait_for("donation.refunded", count=2)
    assert [e["data"]["amount"] for e in refunded] == [3_000, 7_000]
    assert refunded[1]["data"]["refunded_total"] == 10_000
    assert refunded[1]["data"]["captured_amount"] == 10_000
    assert ledger_kinds(rpc_client, live_campaign["id"]) == [
        ("donation", 10_000), ("refund", -3_000), ("refund", -7_000)]
    check = rpc_client.payments.ledger_check()
    assert check["balanced"]
    assert not [m for m in check["mismatches"] if "journal_id" in m or "chain" in m["problem"]]


def test_refund_never_exceeds_captured(live_campaign, rpc_client):
    donation = donate(rpc_client, live_campaign, "d-1", amount=10_000)
    too_much = refund(rpc_client, donation["id"], "r-1", amount=10_001)
    assert too_much["status"] == 422 and too_much["body"]["code"] == "refund_exceeds_captured"
    refund(rpc_client, donation["id"], "r-2")
    again = refund(rpc_client, donation["id"], "r-3", amount=1)
    assert again["status"] in (409, 422)
    assert rpc_client.payments.get_donation(ADMIN, donation["id"])["refunded_amount"] == 10_000


def test_refund_of_an_unknown_donation_is_404(live_campaign, rpc_client):
    answer = refund(rpc_client, "00000000-0000-0000-0000-000000000000", "r-1")
    assert answer["status"] == 404 and answer["body"]["code"] == "donation_not_found"


def test_concurrent_partial_refunds_never_exceed_captured(live_campaign, rpc_client, amqp_uri):
    from nameko.standalone.rpc import ClusterRpcProxy

    donation = donate(rpc_client, live_campaign, "d-1", amount=10_000)

    def attempt(index):
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as rpc:
            return refund(rpc, donation["id"], f"r-{index}", amount=3_000)

    pool = eventlet.GreenPool(10)
    answers = list(pool.imap(attempt, range(10)))
    assert sorted(a["status"] for a in answers) == [200] * 3 + [422] * 7
    final = rpc_client.payments.get_donation(ADMIN, donation["id"])
    assert final["refunded_amount"] == 9_000 and final["status"] == "partially_refunded"
    refunds = [amount for kind, amount in ledger_kinds(rpc_client, live_campaign["id"]) if kind == "refund"]
    assert refunds == [-3_000] * 3


def test_a_failed_campaign_refunds_every_gift_once(platform, rpc_client, collect_events, amqp_uri,
                                                 database_url_for):
    campaign = make_live(rpc_client, funding_model="all_or_nothing", goal=10_000_000)
    events = collect_events("payments", "campaigns")
    gifts = [donate(rpc_client, campaign, f"d-{i}", amount=1_000 * (i + 1)) for i in range(3)]
    refund(rpc_client, gifts[0]["id"], "r-partial", amount=400)  # an admin was there first, in part

    closed = rpc_client.campaigns.close(ADMIN, campaign["id"])
    assert closed["status"] == "failed"
    refunded = events.wait_for("donation.refunded", count=4, timeout=15)
    # The same event delivered again, and another one under a new id, change nothing.
    failed = events.wait_for("campaign.failed")[0]
    publish_event(amqp_uri, "campaigns", "campaign.failed", failed["data"], event_id=failed["id"])
    publish_event(amqp_uri, "campaigns", "campaign.failed", failed["data"])
    eventlet.sleep(1.5)

    refunded = events.of_type("donation.refunded")
    assert sorted(e["data"]["amount"] for e in refunded) == [400, 600, 2_000, 3_000]
    for gift in gifts:
        view = rpc_client.payments.get_donation(ADMIN, gift["id"])
        assert view["status"] == "refunded" and view["refunded_amount"] == view["amount"]
    engine = make_engine(database_url_for("payments"))
    try:
        with engine.connect() as connection:
            references = connection.execute(
                select(Refund.reference).where(Refund.reference.like("auto-refund:%"))).scalars().all()
            provider_refunds = connection.execute(
                select(SandboxOperation.amount).where(SandboxOperation.kind == "refund")).scalars().all()
    finally:
        engine.dispose()
    assert sorted(references) == sorted(f"auto-refund:{g['id']}" for g in gifts)
    assert sorted(provider_refunds) == [400, 600, 2_000, 3_000]


def test_the_failed_campaign_saga_resumes_after_a_failure_half_way(platform, rpc_client, collect_events,
                                                                  monkeypatch):
    from demeu_common.errors import ProviderUnavailable
    from payments.providers.sandbox import SandboxProvider

    campaign = make_live(rpc_client, funding_model="all_or_nothing", goal=10_000_000)
    events = collect_events("payments")
    gifts = [donate(rpc_client, campaign, f"d-{i}", amount=1_000 * (i + 1)) for i in range(3)]
    real_refund, calls = SandboxProvider.refund, []

    def flaky_refund(provider, charge_id, reference, amount, currency):
        calls.append(reference)
        if reference == f"auto-refund:{gifts[1]['id']}" and calls.count(reference) == 1:
            raise ProviderUnavailable("The card provider did not answer.")
        return real_refund(provider, charge_id, reference, amount, currency)

    monkeypatch.setattr(SandboxProvider, "refund", flaky_refund)
    rpc_client.campaigns.close(ADMIN, campaign["id"])
    refunded = events.wait_for("donation.refunded", count=3, timeout=20)
    eventlet.sleep(1.0)
    refunded = events.of_type("donation.refunded")
    assert sorted(e["data"]["amount"] for e in refunded) == [1_000, 2_000, 3_000]
    assert calls.count(f"auto-refund:{gifts[1]['id']}") == 2  # failed once, then done on redelivery
    assert calls.count(f"auto-refund:{gifts[0]['id']}") == 1  # done before the failure: not again
    for gift in gifts:
        assert rpc_client.payments.get_donation(ADMIN, gift["id"])["status"] == "refunded"
