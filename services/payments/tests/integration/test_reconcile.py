"""``python -m payments.reconcile`` agrees with healthy books and finds tampered ones."""
import io
import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from demeu_common.db import make_engine

from campaigns.service import CampaignsService
from payments import reconcile
from payments.service import PaymentsService

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}
DONOR = {"user_id": "donor-1", "roles": []}
ADMIN = {"user_id": "admin-1", "roles": ["admin"]}


@pytest.fixture
def books(container_factory, service_config, rpc_client, database_url_for):
    """Some history: donations, a decline, partial and whole refunds, a payout."""
    container_factory(CampaignsService, service_config("campaigns")).start()
    container_factory(PaymentsService, service_config("payments", PLATFORM_FEE_BPS=100)).start()
    created = rpc_client.campaigns.create_campaign(OWNER, {
        "title": "Robotics club in Kyzylorda", "summary": "Kits for 40 pupils.",
        "category": "technology", "region": "KZ-43", "funding_model": "keep_it_all",
        "goal_amount": 5_000_000, "duration_days": 30,
    })
    rpc_client.campaigns.submit(OWNER, created["id"])
    campaign = rpc_client.campaigns.approve(MODERATOR, created["id"])
    gifts = []
    for index, token in enumerate(["tok_success", "tok_success", "tok_decline", "tok_success"]):
        body = {"amount": 10_000 * (index + 1), "payment_method": {"type": "card", "token": token}}
        gifts.append(rpc_client.payments.create_donation(DONOR, campaign["id"], body, f"d-{index}")["body"])
    rpc_client.payments.refund_donation(ADMIN, gifts[0]["id"], {"amount": 2_500}, "r-1")
    rpc_client.payments.refund_donation(ADMIN, gifts[1]["id"], {}, "r-2")
    rpc_client.campaigns.close(ADMIN, campaign["id"])
    assert rpc_client.payments.create_payout(ADMIN, campaign["id"], "p-1")["status"] == 201
    return database_url_for("payments"), gifts


def run(url):
    out = io.StringIO()
    return reconcile.main(["--database-url", url], out=out), out.getvalue()


def test_healthy_books_reconcile_with_exit_zero(books):
    url, _ = books
    code, output = run(url)
    assert code == 0, output
    assert "0 discrepancies" in output


def test_the_module_runs_from_the_command_line(books):
    url, _ = books
    done = subprocess.run([sys.executable, "-m", "payments.reconcile"], capture_output=True, text=True,
                          env={**os.environ, "PAYMENTS_DATABASE_URL": url}, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_tampered_books_are_reported_with_exit_one(books):
    url, gifts = books
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE donations SET captured_amount = captured_amount + 1 WHERE id = :id"),
                               {"id": gifts[3]["id"]})
            connection.execute(text("UPDATE sandbox_operations SET amount = amount - 7 WHERE reference = :id"),
                               {"id": gifts[0]["id"]})
    finally:
        engine.dispose()
    code, output = run(url)
    assert code == 1
    assert "captured amount differs from postings" in output
    assert "provider charge amount differs" in output
    assert "provider clearing differs" in output
