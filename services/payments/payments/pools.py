"""Matching pools in payments' database: opening one, matching a captured gift, giving a
match back when its gift is refunded, and returning unused budget at expiry. Each function
works in the caller's transaction (rows, postings, chain links and outbox events together);
the rules themselves are :mod:`payments.domain.matching`.

Locking: every change to a pool happens under its row lock (SELECT … FOR UPDATE), and a
transaction that locks several pools takes them in (created_at, id) order, after its
campaign's chain head, so concurrent gifts queue instead of deadlocking and
``remaining_amount`` can never go below zero (a CHECK constraint says so as well).
"""
import json
import uuid
from collections import defaultdict

from sqlalchemy import and_, func, or_, select

from demeu_common.clock import as_utc, isoformat

from payments import bookkeeping, events
from payments.domain import ledger, matching
from payments.models import Match, MatchingPool, PoolReturn

_RELEASE_NAMESPACE = uuid.UUID("0b5d8f3e-2a71-4c3e-9d5b-7e8a1c2f4d60")


def pool_view(pool, now=None):
    status = pool.status
    if now is not None and status in (matching.ACTIVE, matching.EXHAUSTED) and as_utc(pool.expires_at) <= now:
        status = matching.EXPIRED  # past its end; the sweep returns what is left shortly
    return {
        "id": pool.id,
        "patron_id": pool.patron_id,
        "name": pool.name,
        "budget_amount": pool.budget_amount,
        "ratio": pool.ratio,
        "cap_per_donation": pool.cap_per_donation,
        "cap_per_campaign": pool.cap_per_campaign,
        "categories": json.loads(pool.categories),
        "regions": json.loads(pool.regions),
        "expires_at": isoformat(as_utc(pool.expires_at)),
        "remaining_amount": pool.remaining_amount,
        "matched_amount": pool.matched_amount,
        "returned_amount": pool.returned_amount,
        "status": status,
        "currency": pool.currency,
        "created_at": isoformat(as_utc(pool.created_at)),
    }


def pool_event(pool, **extra):
    data = {"pool_id": pool.id, "patron_id": pool.patron_id, "name": pool.name,
            "budget_amount": pool.budget_amount, "remaining_amount": pool.remaining_amount,
            "matched_amount": pool.matched_amount, "currency": pool.currency}
    data.update(extra)
    return data


def fund(session, outbox, pool, now):
    """The budget was captured: post it to the pool's account and open the pool."""
    bookkeeping.record_unchained(session, kind=ledger.POOL_BUDGET, reference=f"pool:{pool.id}",
                                 postings=ledger.pool_funded(pool.id, pool.budget_amount), now=now)
    pool.status, pool.updated_at = matching.ACTIVE, now
    outbox.record(session, events.POOL_CREATED, pool_event(
        pool, ratio=pool.ratio, expires_at=isoformat(as_utc(pool.expires_at)),
        categories=json.loads(pool.categories), regions=json.loads(pool.regions)), subject=pool.id)


def _matched_for_campaign(session, pool_id, campaign_id):
    return int(session.scalar(
        select(func.coalesce(func.sum(Match.amount - Match.released_amount), 0))
        .where(Match.pool_id == pool_id, Match.campaign_id == campaign_id)
    ))


def apply_matches(session, outbox, donation, now):
    """Match a gift that was just captured, from every open pool that fits it, oldest first.
    Returns the list of (pool id, amount) matched."""
    if not donation.campaign_live:
        return []
    candidates = session.execute(
        select(MatchingPool.id, MatchingPool.categories, MatchingPool.regions)
        .where(MatchingPool.status == matching.ACTIVE, MatchingPool.expires_at > now)
        .order_by(MatchingPool.created_at, MatchingPool.id)
    ).all()
    fitting = [pool_id for pool_id, categories, regions in candidates
               if matching.fits(json.loads(categories), json.loads(regions),
                                donation.campaign_category, donation.campaign_region)]
    if not fitting:
        return []
    bookkeeping.lock_head(session, donation.campaign_id)  # chain head first, then pools: one order
    pools = session.scalars(
        select(MatchingPool).where(MatchingPool.id.in_(fitting))
        .order_by(MatchingPool.created_at, MatchingPool.id).with_for_update().execution_options(populate_existing=True)
    ).all()
    applied = []
    for pool in pools:
        if not matching.is_open(pool.status, as_utc(pool.expires_at), now):
            continue  # exhausted or expired while we waited for its lock
        amount = matching.match_amount(
            donation.captured_amount, pool.ratio, pool.cap_per_donation, pool.cap_per_campaign,
            _matched_for_campaign(session, pool.id, donation.campaign_id), pool.remaining_amount)
        if amount <= 0:
            continue
        pool.remaining_amount -= amount
        pool.matched_amount += amount
        pool.updated_at = now
        session.add(Match(donation_id=donation.id, pool_id=pool.id, campaign_id=donation.campaign_id,
                          campaign_region=donation.campaign_region, amount=amount, released_amount=0,
                          created_at=now))
        bookkeeping.record(
            session, kind=ledger.MATCH, reference=f"match:{donation.id}:{pool.id}",
            postings=ledger.match_applied(donation.campaign_id, pool.id, amount),
            campaign_id=donation.campaign_id, donation_id=donation.id, now=now, public_amount=amount,
        )
        outbox.record(session, events.MATCH_APPLIED, {
            "campaign_id": donation.campaign_id, "donation_id": donation.id, "pool_id": pool.id,
            "amount": amount, "ratio": pool.ratio, "currency": pool.currency,
        }, subject=donation.campaign_id)
        applied.append((pool.id, amount))
        if pool.remaining_amount == 0:
            pool.status = matching.EXHAUSTED
            outbox.record(session, events.POOL_EXHAUSTED, pool_event(pool), subject=pool.id)
    return applied


def release_matches(session, outbox, donation, refund_reference, refunded_total, now):
    """A refund of ``donation`` settled: give back to each pool the part of its match that the
    refunded share no longer earns, once per refund reference. Returns [(pool id, amount)]."""
    matches = session.execute(
        select(Match, MatchingPool.created_at).join(MatchingPool, MatchingPool.id == Match.pool_id)
        .where(Match.donation_id == donation.id)
        .order_by(MatchingPool.created_at, MatchingPool.id)
    ).scalars().all()
    released = []
    for match in matches:
        amount = matching.to_release(match.amount, match.released_amount, refunded_total, donation.captured_amount)
        if amount <= 0:
            continue
        reference = f"match-release:{uuid.uuid5(_RELEASE_NAMESPACE, f'{refund_reference}:{match.pool_id}')}"
        if bookkeeping.posted(session, reference):
            continue
        pool = session.scalars(
            select(MatchingPool).where(MatchingPool.id == match.pool_id).with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        match.released_amount += amount
        pool.remaining_amount += amount
        pool.matched_amount -= amount
        pool.status = matching.status_after(pool.remaining_amount, pool.status)
        pool.updated_at = now
        bookkeeping.record(
            session, kind=ledger.MATCH_RELEASED, reference=reference,
            postings=ledger.match_released(donation.campaign_id, pool.id, amount),
            campaign_id=donation.campaign_id, donation_id=donation.id, now=now, public_amount=-amount,
        )
        outbox.record(session, events.MATCH_RELEASED, {
            "campaign_id": donation.campaign_id, "donation_id": donation.id, "pool_id": pool.id,
            "amount": amount, "ratio": pool.ratio, "currency": pool.currency,
            "refund_reference": refund_reference,
        }, subject=donation.campaign_id)
        released.append((pool.id, amount))
    return released


def due_for_return(now):
    """Pools whose unused money should go back to the patron now."""
    return or_(
        and_(MatchingPool.status.in_((matching.ACTIVE, matching.EXHAUSTED)), MatchingPool.expires_at <= now),
        and_(MatchingPool.status == matching.EXPIRED, MatchingPool.remaining_amount > 0),
    )


def claim_return(session, outbox, pool_id, now):
    """Take what is left off an expired pool (under its row lock, so of several sweeping
    instances one does it) and write the return ``pending``. Returns the PoolReturn or None."""
    pool = session.scalars(
        select(MatchingPool).where(MatchingPool.id == pool_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if pool is None:
        return None
    expiring = pool.status in (matching.ACTIVE, matching.EXHAUSTED) and as_utc(pool.expires_at) <= now
    leftover = pool.status == matching.EXPIRED and pool.remaining_amount > 0
    if not (expiring or leftover):
        return None
    amount = pool.remaining_amount
    returns_before = session.scalar(select(func.count()).select_from(PoolReturn).where(PoolReturn.pool_id == pool.id))
    pool.status, pool.remaining_amount, pool.updated_at = matching.EXPIRED, 0, now
    pool.returned_amount += amount
    pool_return = None
    if amount > 0:
        pool_return = PoolReturn(reference=matching.expiry_reference(pool.id, returns_before), pool_id=pool.id,
                                 amount=amount, status="pending", created_at=now, updated_at=now)
        session.add(pool_return)
    if expiring:
        # remaining_amount: what was left at expiry, the sum going back to the patron
        outbox.record(session, events.POOL_EXPIRED, pool_event(pool, remaining_amount=amount, returned_amount=amount),
                      subject=pool.id)
    return pool_return


def settle_return(session, reference, provider_refund_id, now):
    pool_return = session.scalars(
        select(PoolReturn).where(PoolReturn.reference == reference).with_for_update()
    ).one()
    if pool_return.status != "pending":
        return False
    pool_return.status, pool_return.provider_refund_id, pool_return.updated_at = "succeeded", provider_refund_id, now
    bookkeeping.record_unchained(session, kind=ledger.POOL_RETURN, reference=reference,
                                 postings=ledger.pool_returned(pool_return.pool_id, pool_return.amount), now=now)
    return True


def patron_breakdown(session, pool_ids):
    """Net matched per campaign and per region for each of ``pool_ids``."""
    by_campaign, by_region = defaultdict(dict), defaultdict(dict)
    if not pool_ids:
        return by_campaign, by_region
    rows = session.execute(
        select(Match.pool_id, Match.campaign_id, Match.campaign_region,
               func.sum(Match.amount - Match.released_amount))
        .where(Match.pool_id.in_(pool_ids))
        .group_by(Match.pool_id, Match.campaign_id, Match.campaign_region)
    ).all()
    for pool_id, campaign_id, region, amount in rows:
        by_campaign[pool_id][campaign_id] = by_campaign[pool_id].get(campaign_id, 0) + int(amount)
        by_region[pool_id][region] = by_region[pool_id].get(region, 0) + int(amount)
    return by_campaign, by_region
