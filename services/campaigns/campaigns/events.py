"""The events campaigns publishes (documented in docs/asyncapi.yaml) and their payloads."""
from demeu_common.clock import isoformat

SUBMITTED = "campaign.submitted"
APPROVED = "campaign.approved"
REJECTED = "campaign.rejected"
SUCCEEDED = "campaign.succeeded"
FAILED = "campaign.failed"

BY_ACTION = {"submit": SUBMITTED, "approve": APPROVED, "reject": REJECTED}
BY_OUTCOME = {"succeeded": SUCCEEDED, "failed": FAILED}


def campaign_payload(campaign, **extra):
    payload = {
        "campaign_id": campaign.id,
        "owner_id": campaign.owner_id,
        "title": campaign.title,
        "category": campaign.category,
        "region": campaign.region,
        "funding_model": campaign.funding_model,
        "goal_amount": campaign.goal_amount,
        "raised_amount": campaign.raised_amount,
        "matched_amount": campaign.matched_amount,
        "currency": campaign.currency,
        "status": campaign.status,
        "starts_at": isoformat(campaign.starts_at),
        "ends_at": isoformat(campaign.ends_at),
        "program_id": campaign.program_id,
        "seat_cost_amount": campaign.seat_cost_amount,
    }
    payload.update(extra)
    return payload
