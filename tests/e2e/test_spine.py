"""A person's walk through the platform, over HTTP, against `make up`."""
import time

import pytest
import requests

from demeu_common.testing import wait_for

pytestmark = pytest.mark.e2e


def test_one_donation_flows_through_every_service(platform):
    api = platform.url
    owner = platform.token("aigerim", email="aigerim@example.kz", locale="kk")
    moderator = platform.token("moderator-1", "moderator")
    donor = platform.token("nurlan", locale="ru")

    assert requests.get(f"{api}/health", timeout=10).json()["status"] == "ok"
    campaign = requests.post(f"{api}/v1/campaigns", headers=owner, json={
        "title": "Dombra for every school", "summary": "Instruments for rural music classes.",
        "category": "culture", "region": "KZ-61", "funding_model": "all_or_nothing",
        "goal_amount": 100_000_000, "currency": "KZT", "duration_days": 30,
    }).json()
    requests.post(f"{api}/v1/campaigns/{campaign['id']}/submit", headers=owner).raise_for_status()
    live = requests.post(f"{api}/v1/campaigns/{campaign['id']}/approve", headers=moderator).json()
    assert live["status"] == "live"

    gift = {"amount": 1_250_000, "payment_method": {"type": "card", "token": "tok_success"}}
    keyed = {**donor, "Idempotency-Key": "e2e-first-gift"}
    donation = requests.post(f"{api}/v1/campaigns/{campaign['id']}/donations", headers=keyed, json=gift)
    assert donation.status_code == 201 and donation.json()["status"] == "succeeded", donation.text
    replay = requests.post(f"{api}/v1/campaigns/{campaign['id']}/donations", headers=keyed, json=gift)
    assert replay.json() == donation.json()

    counted = wait_for(lambda: (lambda c: c if c["raised_amount"] == 1_250_000 else None)(
        requests.get(f"{api}/v1/campaigns/{campaign['id']}").json()), message="donation counted")
    assert counted["backers_count"] == 1

    inbox = wait_for(lambda: [n for n in requests.get(f"{api}/v1/me/notifications", headers=owner).json()["items"]
                              if n["type"] == "donation.received"], message="owner notified")
    assert len(inbox) == 1 and "12 500 ₸" in inbox[0]["body"]

    ledger = requests.get(f"{api}/v1/campaigns/{campaign['id']}/ledger").json()["items"]
    assert [(e["seq"], e["kind"], e["amount"]) for e in ledger] == [(1, "donation", 1_250_000)]
    assert ledger[0]["prev_hash"] == "0" * 64


def test_a_stopped_service_is_a_quick_503_and_a_retry_with_the_same_key_succeeds_later(platform):
    api = platform.url
    owner, moderator = platform.token("dana"), platform.token("moderator-1", "moderator")
    donor = {**platform.token("arman"), "Idempotency-Key": "e2e-fault-1"}
    campaign = requests.post(f"{api}/v1/campaigns", headers=owner, json={
        "title": "Astana robotics camp", "summary": "Two weeks of robotics for 30 pupils.",
        "category": "technology", "region": "KZ-71", "funding_model": "keep_it_all",
        "goal_amount": 5_000_000, "currency": "KZT", "duration_days": 60,
    }).json()
    requests.post(f"{api}/v1/campaigns/{campaign['id']}/submit", headers=owner).raise_for_status()
    requests.post(f"{api}/v1/campaigns/{campaign['id']}/approve", headers=moderator).raise_for_status()
    gift = {"amount": 500_000, "payment_method": {"type": "card", "token": "tok_success"}}

    platform.make("stop-service", "name=payments")
    try:
        started = time.monotonic()
        down = requests.post(f"{api}/v1/campaigns/{campaign['id']}/donations", headers=donor, json=gift, timeout=30)
        assert down.status_code == 503 and down.json()["code"] in ("service_timeout", "service_unavailable")
        assert time.monotonic() - started < 10
        health = requests.get(f"{api}/health", timeout=10)
        assert health.status_code == 503 and health.json()["services"]["payments"] == "unavailable"
    finally:
        platform.make("start-service", "name=payments")

    def donated():
        answer = requests.post(f"{api}/v1/campaigns/{campaign['id']}/donations", headers=donor, json=gift, timeout=30)
        return answer if answer.status_code == 201 else None

    answer = wait_for(donated, timeout=30, interval=0.5, message="payments back")
    assert answer.json()["status"] == "succeeded"
    wait_for(lambda: requests.get(f"{api}/v1/campaigns/{campaign['id']}").json()["raised_amount"] == 500_000,
             message="counted exactly once")
    mine = requests.get(f"{api}/v1/me/donations", headers=donor).json()["items"]
    assert len(mine) == 1
