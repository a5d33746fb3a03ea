"""Monthly gifts on the real broker and PostgreSQL, on a clock the test moves: charged when
made and then once a month (even with two instances sweeping), a declined month retried after
2 and then 5 days, the plan ended after the third failure or when the campaign ends."""
from datetime import datetime, timedelta, timezone

import eventlet
import pytest

from demeu_common.clock import FrozenClock
from demeu_common.errors import DomainError
from demeu_common.testing import wait_for

from campaigns.service import CampaignsService
from payments.providers import DECLINED, ChargeResult
from payments.providers.sandbox import SandboxProvider
from payments.service import PaymentsService

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}
DONOR = {"user_id": "donor-1", "roles": []}
ADMIN = {"user_id": "admin-1", "roles": ["admin"]}
START = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    return FrozenClock(START)


@pytest.fixture
def platform(container_factory, service_config, clock):
    container_factory(CampaignsService, service_config("campaigns")).start()
    for _ in range(2):  # competing instances, both sweeping
        container = container_factory(PaymentsService, service_config("payments", RECURRING_SWEEP_SECONDS=0.05,
                                                                       POOL_SWEEP_SECONDS=3600))
        next(d for d in container.dependencies if d.attr_name == "clock").clock = clock
        container.start()


@pytest.fixture
def campaign(platform, rpc_client):
    created = rpc_client.campaigns.create_campaign(OWNER, {
        "title": "Dombra lessons in Shymkent", "summary": "Instruments and a teacher for a year.",
        "category": "culture", "region": "KZ-79", "funding_model": "keep_it_all",
        "goal_amount": 5_000_000, "duration_days": 365,
    })
    rpc_client.campaigns.submit(OWNER, created["id"])
    return rpc_client.campaigns.approve(MODERATOR, created["id"])


@pytest.fixture
def declines(monkeypatch):
    """References (prefixes) the sandbox declines from now on."""
    refused, real_charge = set(), SandboxProvider.charge

    def charge(provider, reference, token, amount, currency):
        if reference in refused:
            return ChargeResult(DECLINED, None, "card_declined")
        return real_charge(provider, reference, token, amount, currency)

    monkeypatch.setattr(SandboxProvider, "charge", charge)
    return refused


def start_plan(rpc, campaign, key="m-1", amount=5_000, token="tok_success"):
    return rpc.payments.create_recurring(DONOR, campaign["id"], {
        "amount": amount, "payment_method": {"type": "card", "token": token}, "anonymous": True}, key)


def gifts(rpc):
    return sorted(rpc.payments.list_my_donations(DONOR, limit=100)["items"], key=lambda d: d["created_at"])


def settle():
    eventlet.sleep(0.4)  # several sweeps of both instances


def test_three_months_with_a_declined_month_retried(campaign, rpc_client, clock, declines):
    answer = start_plan(rpc_client, campaign)
    assert answer["status"] == 201, answer
    plan = answer["body"]
    assert start_plan(rpc_client, campaign) == answer  # the same key: nothing twice
    assert plan["status"] == "active" and plan["first_donation"]["status"] == "succeeded"
    assert plan["first_donation"]["anonymous"] is True
    assert plan["next_charge_at"] == "2026-12-26T12:00:00Z"
    settle()
    assert len(gifts(rpc_client)) == 1  # nothing falls due before its month

    clock.current = datetime(2026, 12, 26, 12, 0, tzinfo=timezone.utc)  # month 1
    wait_for(lambda: len(gifts(rpc_client)) == 2, message="month 1 charged")
    settle()
    assert [g["status"] for g in gifts(rpc_client)] == ["succeeded", "succeeded"]

    # month 2: the card is declined twice, then goes through on the second retry
    month_2 = datetime(2027, 1, 26, 12, 0, tzinfo=timezone.utc)
    plan_id = plan["id"]
    from payments import keys
    from payments.domain import recurring

    for attempt in (0, 1):
        reference = recurring.charge_reference(plan_id, 2, attempt)
        declines.add(keys.derived_id("donor-1", reference, "donation"))
    clock.current = month_2
    wait_for(lambda: len(gifts(rpc_client)) == 3, message="month 2 first attempt")
    settle()
    mine = rpc_client.payments.list_my_recurring(DONOR)["items"][0]
    assert (mine["failed_attempts"], mine["next_charge_at"]) == (1, "2027-01-28T12:00:00Z")
    clock.advance(days=2)
    wait_for(lambda: len(gifts(rpc_client)) == 4, message="month 2 retry after 2 days")
    settle()
    assert rpc_client.payments.list_my_recurring(DONOR)["items"][0]["next_charge_at"] == "2027-02-02T12:00:00Z"
    clock.advance(days=5)
    wait_for(lambda: len(gifts(rpc_client)) == 5, message="month 2 retry after 5 more days")
    settle()
    statuses = [g["status"] for g in gifts(rpc_client)]
    assert statuses == ["succeeded", "succeeded", "failed", "failed", "succeeded"]
    mine = rpc_client.payments.list_my_recurring(DONOR)["items"][0]
    assert (mine["status"], mine["periods_charged"], mine["failed_attempts"]) == ("active", 3, 0)
    assert mine["next_charge_at"] == "2027-02-26T12:00:00Z"  # month 3, anchored to the first gift

    clock.current = datetime(2027, 2, 26, 12, 0, tzinfo=timezone.utc)  # month 3
    wait_for(lambda: len(gifts(rpc_client)) == 6, message="month 3 charged")
    settle()
    assert len(gifts(rpc_client)) == 6
    succeeded = [g for g in gifts(rpc_client) if g["status"] == "succeeded"]
    assert len(succeeded) == 4 and all(g["amount"] == 5_000 and g["anonymous"] for g in succeeded)
    ledger = rpc_client.payments.campaign_ledger(campaign["id"])["items"]
    assert [(e["kind"], e["amount"]) for e in ledger] == [("donation", 5_000)] * 4


def test_the_plan_ends_after_the_third_failure(campaign, rpc_client, clock, declines):
    plan = start_plan(rpc_client, campaign)["body"]
    from payments import keys
    from payments.domain import recurring

    for attempt in range(3):
        declines.add(keys.derived_id("donor-1", recurring.charge_reference(plan["id"], 1, attempt), "donation"))
    clock.current = datetime(2026, 12, 26, 12, 0, tzinfo=timezone.utc)
    wait_for(lambda: len(gifts(rpc_client)) == 2, message="first failure")
    settle()
    clock.advance(days=2)
    wait_for(lambda: len(gifts(rpc_client)) == 3, message="second failure")
    settle()
    clock.advance(days=5)
    wait_for(lambda: rpc_client.payments.list_my_recurring(DONOR)["items"][0]["status"] == "cancelled",
             message="plan cancelled")
    mine = rpc_client.payments.list_my_recurring(DONOR)["items"][0]
    assert mine["cancel_reason"] == "payment_failed" and mine["next_charge_at"] is None
    clock.advance(days=40)
    settle()
    assert [g["status"] for g in gifts(rpc_client)] == ["succeeded", "failed", "failed", "failed"]


def test_a_declined_first_charge_makes_no_plan(campaign, rpc_client):
    answer = start_plan(rpc_client, campaign, token="tok_decline")
    assert answer["status"] == 402 and answer["body"]["code"] == "payment_declined"
    assert rpc_client.payments.list_my_recurring(DONOR)["items"] == []


def test_donor_and_admin_cancel_others_cannot(campaign, rpc_client, clock):
    first = start_plan(rpc_client, campaign, key="m-1")["body"]
    second = start_plan(rpc_client, campaign, key="m-2")["body"]
    with pytest.raises(DomainError) as hidden:
        rpc_client.payments.cancel_recurring({"user_id": "stranger", "roles": []}, first["id"])
    assert hidden.value.code == "recurring_donation_not_found"
    assert rpc_client.payments.cancel_recurring(DONOR, first["id"])["status"] == "cancelled"
    cancelled = rpc_client.payments.cancel_recurring(ADMIN, second["id"])
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "cancelled_by_admin")
    clock.advance(days=31)
    settle()
    assert len(gifts(rpc_client)) == 2  # nothing charged after cancelling, nothing refunded
    assert all(g["status"] == "succeeded" for g in gifts(rpc_client))


def test_the_plan_ends_when_the_campaign_does(campaign, rpc_client, clock):
    plan = start_plan(rpc_client, campaign)["body"]
    rpc_client.campaigns.close(ADMIN, campaign["id"])
    clock.advance(days=31)
    wait_for(lambda: rpc_client.payments.list_my_recurring(DONOR)["items"][0]["status"] == "cancelled",
             message="plan ended with its campaign")
    assert rpc_client.payments.list_my_recurring(DONOR)["items"][0]["cancel_reason"] == "campaign_not_live"
    assert len(gifts(rpc_client)) == 1
    assert plan["id"]
