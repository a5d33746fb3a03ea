"""Reconciliation: ``python -m payments.reconcile`` (``make reconcile``).

Re-derives every balance from the postings and compares it with what the donations say
(captured and refunded amounts) and with the provider's own settlement list. Prints every
discrepancy and exits 1 when there is any, 0 when the books agree. Operations still in
flight (a 3-D Secure charge awaiting its webhook, a refund between reservation and
settlement) are given ``--grace`` seconds before they count.
"""
import argparse
import sys
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from demeu_common.clock import SystemClock, as_utc, utcnow
from demeu_common.config import database_url
from demeu_common.db import make_engine

from payments import bookkeeping
from payments.domain import ledger
from payments.models import Donation, JournalEntry, Match, MatchingPool, PoolReturn, Posting, Refund
from payments.providers.sandbox import SandboxProvider

CAPTURED = ("succeeded", "partially_refunded", "refunded")


def reconcile(session, settlements, now=None, grace=timedelta(minutes=5)):
    """Returns the list of discrepancies (each a dict with a ``problem``)."""
    now = now or utcnow()
    problems = []
    report = bookkeeping.check(session)
    if not report["balanced"]:
        problems.append({"problem": "the ledger does not sum to zero"})
    problems.extend(report["mismatches"])

    # Postings by (journal kind, donation) and by account.
    by_donation = defaultdict(int)
    for kind, donation_id, amount in session.execute(
        select(JournalEntry.kind, JournalEntry.donation_id, func.sum(Posting.amount))
        .join(Posting, Posting.journal_id == JournalEntry.id)
        .where(Posting.account == ledger.PROVIDER_CLEARING)
        .group_by(JournalEntry.kind, JournalEntry.donation_id)
    ):
        by_donation[(kind, donation_id)] += int(amount)
    balances = dict(session.execute(select(Posting.account, func.sum(Posting.amount)).group_by(Posting.account)).all())

    settled_refunds = defaultdict(int)
    refunds = {r.reference: r for r in session.scalars(select(Refund))}
    for refund in refunds.values():
        if refund.status == "succeeded":
            settled_refunds[refund.donation_id] += refund.amount
        elif now - as_utc(refund.updated_at) > grace:
            problems.append({"donation_id": refund.donation_id, "reference": refund.reference,
                             "problem": "refund reserved but never settled"})

    donations = {d.id: d for d in session.scalars(select(Donation))}
    escrow_expected = defaultdict(int)
    for donation in donations.values():
        captured = by_donation.get((ledger.DONATION, donation.id), 0)
        refunded = -by_donation.get((ledger.REFUND, donation.id), 0)
        expected_captured = donation.captured_amount if donation.status in CAPTURED else 0
        if captured != expected_captured:
            problems.append({"donation_id": donation.id, "problem": "captured amount differs from postings",
                             "captured_amount": expected_captured, "posted_amount": captured})
        if refunded != settled_refunds[donation.id]:
            problems.append({"donation_id": donation.id, "problem": "refunds differ from postings",
                             "refunded_amount": settled_refunds[donation.id], "posted_amount": refunded})
        if not 0 <= donation.refunded_amount <= donation.captured_amount:
            problems.append({"donation_id": donation.id, "problem": "refunded more than captured",
                             "refunded_amount": donation.refunded_amount,
                             "captured_amount": donation.captured_amount})
        escrow_expected[donation.campaign_id] += expected_captured - settled_refunds[donation.id]

    # Matches: what pools put into a campaign's escrow, less what went back to them.
    for campaign_id, net in session.execute(
        select(Match.campaign_id, func.sum(Match.amount - Match.released_amount)).group_by(Match.campaign_id)
    ):
        escrow_expected[campaign_id] += int(net)
    pools = {p.id: p for p in session.scalars(select(MatchingPool))}
    pool_returns = {r.reference: r for r in session.scalars(select(PoolReturn))}
    for pool in pools.values():
        balance = int(balances.get(ledger.pool_account(pool.id)) or 0)
        in_flight = sum(r.amount for r in pool_returns.values() if r.pool_id == pool.id and r.status == "pending")
        if pool.status != "pending" and balance != -(pool.remaining_amount + in_flight):
            problems.append({"pool_id": pool.id, "problem": "pool account differs from its remaining budget",
                             "pool_balance": balance, "remaining_amount": pool.remaining_amount})

    # Escrow: what donations say is owed, less payouts, equals the escrow account.
    payouts = defaultdict(int)
    for campaign_id, amount in session.execute(
        select(JournalEntry.campaign_id, func.sum(Posting.amount))
        .join(Posting, Posting.journal_id == JournalEntry.id)
        .where(JournalEntry.kind == ledger.PAYOUT, Posting.account.like("campaign:%:escrow"))
        .group_by(JournalEntry.campaign_id)
    ):
        payouts[campaign_id] = int(amount)
    campaigns = set(escrow_expected) | set(payouts)
    for campaign_id in sorted(campaigns):
        derived = -int(balances.get(ledger.escrow(campaign_id)) or 0)
        expected = escrow_expected[campaign_id] - payouts[campaign_id]
        if derived != expected:
            problems.append({"campaign_id": campaign_id, "problem": "escrow balance differs from donations",
                             "escrow_balance": derived, "expected": expected})
        if derived < 0:
            problems.append({"campaign_id": campaign_id, "problem": "escrow is overdrawn",
                             "escrow_balance": derived})

    # The provider's books.
    charged, refunded_at_provider = 0, 0
    seen_charges = set()
    for operation in settlements:
        if operation["kind"] == "charge":
            charged += operation["amount"]
            seen_charges.add(operation["reference"])
            if operation["reference"].startswith("pool:"):
                pool = pools.get(operation["reference"][len("pool:"):])
                if pool is None or pool.budget_amount != operation["amount"]:
                    problems.append({"operation_id": operation["operation_id"],
                                     "problem": "provider charge without a matching pool", "amount": operation["amount"]})
                continue
            donation = donations.get(operation["reference"])
            if donation is None:
                problems.append({"operation_id": operation["operation_id"],
                                 "problem": "provider charge without a donation", "amount": operation["amount"]})
            elif donation.status not in CAPTURED:
                if donation.status != "pending" or now - as_utc(donation.created_at) > grace:
                    problems.append({"donation_id": donation.id, "problem": "provider captured a donation we did not",
                                     "status": donation.status, "amount": operation["amount"]})
            elif operation["amount"] != donation.captured_amount:
                problems.append({"donation_id": donation.id, "problem": "provider charge amount differs",
                                 "provider_amount": operation["amount"], "captured_amount": donation.captured_amount})
        elif operation["kind"] == "refund":
            refunded_at_provider += operation["amount"]
            if operation["reference"].startswith("pool-expiry:"):
                pool_return = pool_returns.get(operation["reference"])
                if pool_return is None or pool_return.amount != operation["amount"]:
                    problems.append({"operation_id": operation["operation_id"],
                                     "problem": "provider refund of a pool we have no record of",
                                     "amount": operation["amount"]})
                continue
            refund = refunds.get(operation["reference"])
            if refund is None:
                problems.append({"operation_id": operation["operation_id"],
                                 "problem": "provider refund we have no record of", "amount": operation["amount"]})
            elif refund.amount != operation["amount"]:
                problems.append({"reference": refund.reference, "problem": "provider refund amount differs",
                                 "provider_amount": operation["amount"], "refund_amount": refund.amount})
    for donation in donations.values():
        if donation.status in CAPTURED and donation.id not in seen_charges:
            problems.append({"donation_id": donation.id, "problem": "captured donation the provider never settled"})
    clearing = int(balances.get(ledger.PROVIDER_CLEARING) or 0)
    if clearing != charged - refunded_at_provider:
        problems.append({"problem": "provider clearing differs from the provider's settlements",
                         "clearing_balance": clearing, "provider_net": charged - refunded_at_provider})
    return problems


def main(argv=None, out=sys.stdout):
    parser = argparse.ArgumentParser(prog="python -m payments.reconcile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None, help="default: PAYMENTS_DATABASE_URL or var/payments.db")
    parser.add_argument("--grace", type=float, default=300.0, help="seconds in-flight operations may take")
    args = parser.parse_args(argv)
    engine = make_engine(database_url("payments", args.database_url))
    try:
        Session = sessionmaker(bind=engine, expire_on_commit=False)
        provider = SandboxProvider(Session, SystemClock(), webhook_url=None, webhook_secret=None)
        settlements = provider.settlements()
        with Session() as session:
            problems = reconcile(session, settlements, grace=timedelta(seconds=args.grace))
            entries = session.scalar(select(func.count()).select_from(JournalEntry))
    finally:
        engine.dispose()
    for problem in problems:
        details = ", ".join(f"{k}={v}" for k, v in problem.items() if k != "problem")
        print(f"DISCREPANCY: {problem['problem']}" + (f" ({details})" if details else ""), file=out)
    print(f"reconciled {entries} journal entries and {len(settlements)} provider settlements: "
          f"{len(problems)} discrepanc{'y' if len(problems) == 1 else 'ies'}", file=out)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
