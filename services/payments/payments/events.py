"""The events payments publishes (documented in docs/asyncapi.yaml) and their payloads."""
import hashlib
import hmac

from demeu_common.clock import isoformat

DONATION_SUCCEEDED = "donation.succeeded"
DONATION_FAILED = "donation.failed"
DONATION_REFUNDED = "donation.refunded"
PAYOUT_CREATED = "payout.created"
MATCH_APPLIED = "match.applied"
MATCH_RELEASED = "match.released"
POOL_CREATED = "pool.created"
POOL_EXHAUSTED = "pool.exhausted"
POOL_EXPIRED = "pool.expired"


def backer_ref(key, campaign_id, donor_id):
    """A pseudonym of the donor that is stable within one campaign only: campaigns counts
    distinct backers with it, and nobody can follow an anonymous donor across campaigns."""
    return hmac.new(key.encode(), f"{campaign_id}:{donor_id}".encode(), hashlib.sha256).hexdigest()[:32]


def donation_payload(donation, pseudonym_key, **extra):
    payload = {
        "donation_id": donation.id,
        "campaign_id": donation.campaign_id,
        "campaign_owner_id": donation.campaign_owner_id,
        "campaign_title": donation.campaign_title,
        "category": donation.campaign_category,
        "region": donation.campaign_region,
        "amount": donation.amount,
        "currency": donation.currency,
        "anonymous": donation.anonymous,
        # The donor of an anonymous gift never leaves payments (contract §8).
        "donor_id": None if donation.anonymous else donation.donor_id,
        "backer_ref": backer_ref(pseudonym_key, donation.campaign_id, donation.donor_id),
        "reward_id": donation.reward_id,
        "status": donation.status,
        "created_at": isoformat(donation.created_at),
    }
    payload.update(extra)
    return payload
