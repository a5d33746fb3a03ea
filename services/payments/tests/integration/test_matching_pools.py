"""Matching pools on the real broker and PostgreSQL (contract §5): the budget charged through
the keyed payment path, gifts matched at once and in the ledger, matches going back to their
pools on refunds and failed campaigns, never more than the budget under concurrency, and the
unused budget returned to the patron at expiry exactly once."""
from datetime import datetime, timedelta, timezone

import eventlet
import pytest
from sqlalchemy import select

from demeu_common.clock import FrozenClock, isoformat
from demeu_common.db import make_engine
from demeu_common.testing import wait_for

from campaigns.service import CampaignsService
from payments import reconcile
from payments.domain import ledger
from payments.models import SandboxOperation
from payments.providers.sandbox import SandboxProvider
from payments.service import PaymentsService

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}
DONOR = {"user_id": "donor-1", "roles": []}
PATRON = {"user_id": "patron-1", "roles": []}
ADMIN = {"user_id": "admin-1", "roles": ["admin"]}
START = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    return FrozenClock(START)


@pytest.fixture
def start_payments(container_factory, service_config, clock):
    def start(instances=1, **config):
        for _ in range(instances):
            container = container_factory(PaymentsService, service_config("payments", **config))
            next(d for d in container.dependencies if d.attr_name == "clock").clock = clock
            container.start()
    return start


@pytest.fixture
def platform(container_factory, service_config, start_payments):
    container_factory(CampaignsService, service_config("campaigns")).start()
    start_payments(POOL_SWEEP_SECONDS=3600)


def make_live(rpc, funding_model="keep_it_all", goal=5_000_000, category="technology", region="KZ-43"):
    created = rpc.campaigns.create_campaign(OWNER, {
        "title": "Robotics club in Kyzylorda", "summary": "Kits for 40 pupils.",
        "category": category, "region": region, "funding_model": funding_model,
        "goal_amount": goal, "duration_days": 30,
    })
    rpc.campaigns.submit(OWNER, created["id"])
    return rpc.campaigns.approve(MODERATOR, created["id"])


def pool_body(budget=100_000, ratio=1, cap_per_donation=50_000, cap_per_campaign=1_000_000, token="tok_success",
              expires_at=START + timedelta(days=30), **extra):
    return {"name": "Almaty tech patrons", "budget_amount": budget, "ratio": ratio,
            "cap_per_donation": cap_per_donation, "cap_per_campaign": cap_per_campaign,
            "expires_at": isoformat(expires_at), "payment_method": {"type": "card", "token": token}, **extra}


def open_pool(rpc, key="pool-1", patron=PATRON, **body):
    answer = rpc.payments.create_pool(patron, pool_body(**body), key)
    assert answer["status"] == 201, answer
    return answer["body"]


def donate(rpc, campaign, key, amount=10_000, donor=DONOR):
    body = {"amount": amount, "payment_method": {"type": "card", "token": "tok_success"}}
    answer = rpc.payments.create_donation(donor, campaign["id"], body, key)
    assert answer["status"] == 201, answer
    return answer["body"]


def chain(rpc, campaign_id):
    return [(e["kind"], e["amount"]) for e in rpc.payments.campaign_ledger(campaign_id)["items"]]


def assert_books_balance(rpc, database_url):
    # campaigns' totals follow payments' events, a moment later
    wait_for(lambda: rpc.payments.ledger_check()["mismatches"] == [], message="campaign totals equal the ledger")
    check = rpc.payments.ledger_check()
    assert check["balanced"] and check["mismatches"] == [], check
    engine = make_engine(database_url)
    try:
        from sqlalchemy.orm import Session

        with Session(engine) as session:
            settlements = [
                {"operation_id": o.operation_id, "reference": o.reference, "kind": o.kind, "amount": o.amount,
                 "currency": o.currency}
                for o in session.scalars(select(SandboxOperation).where(SandboxOperation.status == "succeeded"))]
            assert reconcile.reconcile(session, settlements, now=datetime.now(timezone.utc)) == []
    finally:
        engine.dispose()


def test_a_pool_is_charged_once_and_matches_a_gift_in_the_ledger(platform, rpc_client, collect_events,
                                                               database_url_for):
    events = collect_events("payments")
    campaign = make_live(rpc_client)
    pool = open_pool(rpc_client, ratio=2, cap_per_donation=15_000)
    assert rpc_client.payments.create_pool(PATRON, pool_body(ratio=2, cap_per_donation=15_000), "pool-1")["body"] == pool
    assert pool["status"] == "active" and pool["remaining_amount"] == 100_000 and pool["patron_id"] == "patron-1"

    donation = donate(rpc_client, campaign, "d-1", amount=10_000)
    # 10 000 × 2 = 20 000, capped at 15 000 per donation
    assert chain(rpc_client, campaign["id"]) == [("donation", 10_000), ("match", 15_000)]
    match_link = rpc_client.payments.campaign_ledger(campaign["id"])["items"][1]
    assert match_link["donation_id"] == donation["id"]
    pool = rpc_client.payments.get_pool(pool["id"])
    assert (pool["remaining_amount"], pool["matched_amount"]) == (85_000, 15_000)

    applied = events.wait_for("match.applied")[0]["data"]
    assert applied == {"campaign_id": campaign["id"], "donation_id": donation["id"], "pool_id": pool["id"],
                       "amount": 15_000, "ratio": 2, "currency": "KZT"}
    created = events.wait_for("pool.created")[0]["data"]
    assert created["pool_id"] == pool["id"] and created["patron_id"] == "patron-1"
    wait_for(lambda: rpc_client.campaigns.get_campaign(DONOR, campaign["id"])["matched_amount"] == 15_000,
             message="campaign matched total")
    assert rpc_client.campaigns.get_campaign(DONOR, campaign["id"])["raised_amount"] == 25_000
    assert_books_balance(rpc_client, database_url_for("payments"))


def test_a_declined_budget_creates_nothing_and_a_provider_error_frees_the_key(platform, rpc_client):
    declined = rpc_client.payments.create_pool(PATRON, pool_body(token="tok_decline"), "pool-d")
    assert declined["status"] == 402 and declined["body"]["code"] == "payment_declined"
    with pytest.raises(Exception) as unavailable:
        rpc_client.payments.create_pool(PATRON, pool_body(token="tok_error"), "pool-e")
    assert getattr(unavailable.value, "code", None) == "provider_unavailable"
    with pytest.raises(Exception) as again:
        rpc_client.payments.create_pool(PATRON, pool_body(token="tok_error"), "pool-e")
    assert getattr(again.value, "code", None) == "provider_unavailable"
    assert rpc_client.payments.list_pools()["items"] == []
    assert rpc_client.payments.list_my_pools(PATRON)["items"] == []


def test_pools_match_only_gifts_that_fit_their_categories_and_regions(platform, rpc_client):
    tech = make_live(rpc_client, category="technology", region="KZ-43")
    culture = make_live(rpc_client, category="culture", region="KZ-75")
    open_pool(rpc_client, key="p-tech", categories=["technology"])
    open_pool(rpc_client, key="p-almaty", regions=["KZ-75"])
    donate(rpc_client, tech, "d-1", amount=1_000)
    donate(rpc_client, culture, "d-2", amount=2_000)
    assert chain(rpc_client, tech["id"]) == [("donation", 1_000), ("match", 1_000)]
    assert chain(rpc_client, culture["id"]) == [("donation", 2_000), ("match", 2_000)]


def test_the_per_campaign_cap_and_the_budget_are_never_exceeded(platform, rpc_client, collect_events):
    events = collect_events("payments")
    campaign = make_live(rpc_client)
    other = make_live(rpc_client)
    pool = open_pool(rpc_client, budget=30_000, ratio=1, cap_per_donation=8_000, cap_per_campaign=20_000)
    for index in range(3):
        donate(rpc_client, campaign, f"d-{index}", amount=10_000)  # 8 000, 8 000, then 4 000: the campaign cap
    donate(rpc_client, other, "d-other", amount=50_000)  # 8 000 of the 10 000 left
    donate(rpc_client, other, "d-other-2", amount=50_000)  # the last 2 000
    assert [a for k, a in chain(rpc_client, campaign["id"]) if k == "match"] == [8_000, 8_000, 4_000]
    assert [a for k, a in chain(rpc_client, other["id"]) if k == "match"] == [8_000, 2_000]
    pool = rpc_client.payments.get_pool(pool["id"])
    assert (pool["remaining_amount"], pool["status"]) == (0, "exhausted")
    exhausted = events.wait_for("pool.exhausted")[0]["data"]
    assert exhausted["pool_id"] == pool["id"] and exhausted["remaining_amount"] == 0
    assert rpc_client.payments.list_pools(status="active")["items"] == []


def test_concurrent_gifts_never_take_more_than_the_pool_has(platform, rpc_client, amqp_uri, database_url_for):
    from nameko.standalone.rpc import ClusterRpcProxy

    campaigns = [make_live(rpc_client) for _ in range(2)]
    pool = open_pool(rpc_client, budget=50_000, ratio=1, cap_per_donation=10_000)  # covers 5 gifts

    def attempt(index):
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=60) as rpc:
            donor = {"user_id": f"donor-{index}", "roles": []}
            return donate(rpc, campaigns[index % 2], f"d-{index}", amount=10_000, donor=donor)

    gifts = list(eventlet.GreenPool(20).imap(attempt, range(20)))
    assert len(gifts) == 20
    matches = [a for c in campaigns for k, a in chain(rpc_client, c["id"]) if k == "match"]
    assert sorted(matches) == [10_000] * 5
    pool = rpc_client.payments.get_pool(pool["id"])
    assert (pool["remaining_amount"], pool["matched_amount"], pool["status"]) == (0, 50_000, "exhausted")
    assert_books_balance(rpc_client, database_url_for("payments"))


def test_a_refund_gives_the_match_back_in_proportion(platform, rpc_client, collect_events, database_url_for):
    events = collect_events("payments")
    campaign = make_live(rpc_client)
    pool = open_pool(rpc_client, budget=20_000, ratio=2, cap_per_donation=20_000)
    donation = donate(rpc_client, campaign, "d-1", amount=10_000)  # matched 20 000: the pool is exhausted
    assert rpc_client.payments.get_pool(pool["id"])["status"] == "exhausted"

    rpc_client.payments.refund_donation(ADMIN, donation["id"], {"amount": 2_500}, "r-1")  # a quarter
    pool = rpc_client.payments.get_pool(pool["id"])
    assert (pool["remaining_amount"], pool["status"]) == (5_000, "active")
    rpc_client.payments.refund_donation(ADMIN, donation["id"], {}, "r-2")  # the rest
    assert rpc_client.payments.get_pool(pool["id"])["remaining_amount"] == 20_000
    assert chain(rpc_client, campaign["id"]) == [
        ("donation", 10_000), ("match", 20_000), ("refund", -2_500), ("match_released", -5_000),
        ("refund", -7_500), ("match_released", -15_000)]
    released = events.wait_for("match.released", count=2)
    assert [e["data"]["amount"] for e in released] == [5_000, 15_000]
    wait_for(lambda: rpc_client.campaigns.get_campaign(DONOR, campaign["id"])["raised_amount"] == 0,
             message="campaign total back to zero")
    assert_books_balance(rpc_client, database_url_for("payments"))


def test_a_failed_campaign_returns_every_match_to_its_pool(platform, rpc_client, collect_events, database_url_for):
    events = collect_events("payments")
    campaign = make_live(rpc_client, funding_model="all_or_nothing", goal=10_000_000)
    first = open_pool(rpc_client, key="p-1", budget=30_000, cap_per_donation=5_000)
    second = open_pool(rpc_client, key="p-2", budget=30_000, cap_per_donation=5_000)
    for index in range(3):
        donate(rpc_client, campaign, f"d-{index}", amount=4_000)
    assert rpc_client.payments.get_pool(first["id"])["remaining_amount"] == 18_000
    assert rpc_client.payments.get_pool(second["id"])["remaining_amount"] == 18_000

    rpc_client.campaigns.close(ADMIN, campaign["id"])
    events.wait_for("match.released", count=6, timeout=20)
    for pool in (first, second):
        assert wait_for(lambda: rpc_client.payments.get_pool(pool["id"])["remaining_amount"] == 30_000,
                        message="matches back in the pool")
    eventlet.sleep(0.5)
    assert len(events.of_type("match.released")) == 6
    assert_books_balance(rpc_client, database_url_for("payments"))


def test_expiry_returns_the_unused_budget_exactly_once_with_two_instances(
        container_factory, service_config, start_payments, clock, rpc_client, collect_events, database_url_for):
    container_factory(CampaignsService, service_config("campaigns")).start()
    start_payments(instances=2, POOL_SWEEP_SECONDS=0.05)
    events = collect_events("payments")
    campaign = make_live(rpc_client)
    pool = open_pool(rpc_client, budget=40_000, cap_per_donation=15_000, expires_at=START + timedelta(days=7))
    donation = donate(rpc_client, campaign, "d-1", amount=15_000)
    eventlet.sleep(0.3)
    assert rpc_client.payments.get_pool(pool["id"])["status"] == "active"

    clock.advance(days=7)
    expired = events.wait_for("pool.expired")[0]["data"]
    assert expired["pool_id"] == pool["id"] and expired["returned_amount"] == expired["remaining_amount"] == 25_000
    assert expired["patron_id"] == "patron-1" and expired["name"] == pool["name"]
    eventlet.sleep(0.5)
    assert len(events.of_type("pool.expired")) == 1
    view = rpc_client.payments.get_pool(pool["id"])
    assert (view["status"], view["remaining_amount"], view["returned_amount"]) == ("expired", 0, 25_000)
    # An expired pool matches nothing more.
    donate(rpc_client, campaign, "d-2", amount=1_000)
    assert [k for k, _ in chain(rpc_client, campaign["id"])] == ["donation", "match", "donation"]

    # A refund after expiry puts the match back; the patron gets it too, under its own reference.
    rpc_client.payments.refund_donation(ADMIN, donation["id"], {}, "r-1")
    wait_for(lambda: rpc_client.payments.get_pool(pool["id"])["returned_amount"] == 40_000,
             message="released match returned to the patron")
    engine = make_engine(database_url_for("payments"))
    try:
        with engine.connect() as connection:
            returns = connection.execute(select(SandboxOperation.reference, SandboxOperation.amount).where(
                SandboxOperation.kind == "refund", SandboxOperation.reference.like("pool-expiry:%"))).all()
    finally:
        engine.dispose()
    assert sorted(returns) == sorted([(f"pool-expiry:{pool['id']}", 25_000),
                                      (f"pool-expiry:{pool['id']}:1", 15_000)])
    assert_books_balance(rpc_client, database_url_for("payments"))


def test_the_patron_sees_matched_amounts_per_campaign_and_region(platform, rpc_client):
    north = make_live(rpc_client, region="KZ-59")
    south = make_live(rpc_client, region="KZ-79")
    pool = open_pool(rpc_client)
    donate(rpc_client, north, "d-1", amount=1_000)
    donate(rpc_client, north, "d-2", amount=2_000)
    donate(rpc_client, south, "d-3", amount=4_000)
    mine = rpc_client.payments.list_my_pools(PATRON)["items"]
    assert [p["id"] for p in mine] == [pool["id"]]
    assert mine[0]["matched_by_region"] == [{"region": "KZ-59", "matched_amount": 3_000},
                                            {"region": "KZ-79", "matched_amount": 4_000}]
    assert sorted(c["matched_amount"] for c in mine[0]["matched_by_campaign"]) == [3_000, 4_000]
    assert rpc_client.payments.list_my_pools(DONOR)["items"] == []


def test_a_budget_behind_3_d_secure_opens_the_pool_when_the_provider_confirms(
        container_factory, service_config, start_payments, clock, rpc_client, amqp_uri, collect_events,
        database_url_for):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("payments_3ds", Path(__file__).with_name("test_three_d_secure.py"))
    three_ds = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(three_ds)
    clock.current = datetime.now(timezone.utc)  # the webhook's signature is checked against it
    relay = three_ds.WebhookRelay(amqp_uri)
    try:
        container_factory(CampaignsService, service_config("campaigns")).start()
        start_payments(PROVIDER_WEBHOOK_URL=relay.url, PROVIDER_WEBHOOK_SECRET=three_ds.SECRET)
        events = collect_events("payments")
        campaign = make_live(rpc_client)
        answer = rpc_client.payments.create_pool(PATRON, pool_body(token="tok_3ds"), "pool-3ds")
        assert answer["status"] == 201 and answer["body"]["status"] == "pending"
        pool_id = answer["body"]["id"]
        events.wait_for("pool.created", timeout=15)
        assert rpc_client.payments.get_pool(pool_id)["status"] == "active"
        donate(rpc_client, campaign, "d-1", amount=1_000)
        assert chain(rpc_client, campaign["id"]) == [("donation", 1_000), ("match", 1_000)]
        assert_books_balance(rpc_client, database_url_for("payments"))
    finally:
        relay.close()


def test_a_return_the_provider_failed_is_finished_by_a_later_sweep_once(
        container_factory, service_config, start_payments, clock, rpc_client, collect_events, database_url_for,
        monkeypatch):
    from demeu_common.errors import ProviderUnavailable

    real_refund, calls = SandboxProvider.refund, []

    def flaky_refund(provider, charge_id, reference, amount, currency):
        calls.append(reference)
        if len(calls) == 1:
            raise ProviderUnavailable("The card provider did not answer.")
        return real_refund(provider, charge_id, reference, amount, currency)

    monkeypatch.setattr(SandboxProvider, "refund", flaky_refund)
    container_factory(CampaignsService, service_config("campaigns")).start()
    start_payments(instances=2, POOL_SWEEP_SECONDS=0.05)
    events = collect_events("payments")
    pool = open_pool(rpc_client, budget=40_000, expires_at=START + timedelta(days=1))
    clock.advance(days=1)
    events.wait_for("pool.expired")
    eventlet.sleep(0.5)
    assert calls == [f"pool-expiry:{pool['id']}"]  # failed, and left pending: not retried at once
    clock.advance(seconds=61)
    wait_for(lambda: len(calls) == 2, message="the pending return resumed")
    eventlet.sleep(0.5)
    assert calls == [f"pool-expiry:{pool['id']}"] * 2
    assert rpc_client.payments.get_pool(pool["id"])["returned_amount"] == 40_000
    assert_books_balance(rpc_client, database_url_for("payments"))
