"""Matching pools (contract §5) as pure rules: which pools fit a gift, how much each matches,
how much of a match goes back when its gift is refunded, and a pool's status. No framework,
no database: the service applies these under row locks, and the property tests drive them
through :class:`payments.domain.book.Book`.

Rules:
* a pool fits a gift when it is active, not expired, and the campaign's category and region
  are in its lists (an empty list means all);
* pools match oldest first (created_at, id) — also the order their rows are locked in, so
  concurrent gifts never deadlock;
* each pool matches min(amount × ratio, cap_per_donation, cap_per_campaign − what it already
  matches (net) for that campaign, remaining);
* a refund releases the match in proportion to what has been refunded of the gift, rounded
  down, and all of it once the gift is wholly refunded: released = match × refunded ÷ captured;
* a pool with nothing left is ``exhausted``; money released into it makes it ``active`` again
  unless it has expired; at expiry what remains goes back to the patron (``expired``).
"""
from datetime import datetime, timezone

ACTIVE, EXHAUSTED, EXPIRED, PENDING = "active", "exhausted", "expired", "pending"
STATUSES = (ACTIVE, EXHAUSTED, EXPIRED)


def fits(categories, regions, category, region):
    return (not categories or category in categories) and (not regions or region in regions)


def is_open(status, expires_at, now):
    return status == ACTIVE and expires_at > now


def match_amount(amount, ratio, cap_per_donation, cap_per_campaign, matched_for_campaign, remaining):
    """What one pool adds to one gift; 0 when nothing."""
    return max(0, min(amount * ratio, cap_per_donation, cap_per_campaign - matched_for_campaign, remaining))


def release_target(match, refunded_total, captured):
    """How much of ``match`` should be back in its pool once ``refunded_total`` of a gift of
    ``captured`` has been refunded: proportional, rounded down, all of it on a full refund."""
    if captured <= 0 or refunded_total >= captured:
        return match
    return match * max(0, refunded_total) // captured


def to_release(match, already_released, refunded_total, captured):
    return max(0, release_target(match, refunded_total, captured) - already_released)


def status_after(remaining, current):
    """A pool's status after its remaining changed. Expiry is the sweep's to decide: an
    expired pool stays expired (money released into it goes back to the patron)."""
    if current == EXPIRED or current == PENDING:
        return current
    return ACTIVE if remaining > 0 else EXHAUSTED


def expiry_reference(pool_id, returns_before=0):
    """``pool-expiry:<id>`` for the unused budget at expiry; later money released into an
    expired pool goes back under ``pool-expiry:<id>:<n>``."""
    return f"pool-expiry:{pool_id}" if returns_before == 0 else f"pool-expiry:{pool_id}:{returns_before}"


def parse_time(value):
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
