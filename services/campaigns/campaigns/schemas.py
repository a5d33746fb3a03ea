"""What crosses the wire for campaigns: request validation and the public campaign object."""
from marshmallow import ValidationError, fields, validate, validates_schema

from demeu_common.clock import isoformat
from demeu_common.schemas import Amount, Category, Currency, Region, RequestSchema

from campaigns.domain.lifecycle import ALL_OR_NOTHING, KEEP_IT_ALL, MAX_DURATION_DAYS
from campaigns.domain.rewards import remaining


class RewardSchema(RequestSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=120))
    description = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    min_amount = Amount(required=True)
    quantity = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1, max=1_000_000)
    )


class CampaignFields(RequestSchema):
    title = fields.String(required=True, validate=validate.Length(min=5, max=120))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=500))
    story = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50_000))
    category = Category(required=True)
    region = Region(required=True)
    funding_model = fields.String(required=True, validate=validate.OneOf([ALL_OR_NOTHING, KEEP_IT_ALL]))
    goal_amount = Amount(required=True)
    currency = Currency()
    duration_days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=365))
    rewards = fields.List(fields.Nested(RewardSchema), load_default=list, validate=validate.Length(max=50))
    program_id = fields.UUID(load_default=None, allow_none=True)
    seat_cost_amount = Amount(load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _duration_fits_model(self, data, partial=None, **kwargs):
        model, days = data.get("funding_model"), data.get("duration_days")
        if model in MAX_DURATION_DAYS and isinstance(days, int) and days > MAX_DURATION_DAYS[model]:
            raise ValidationError(
                f"{model} campaigns last 1–{MAX_DURATION_DAYS[model]} days.", "duration_days"
            )
        if (data.get("program_id") or data.get("seat_cost_amount")) and data.get("category") not in (None, "education"):
            raise ValidationError("Only education campaigns fund program seats.", "program_id")


class CreateCampaignSchema(CampaignFields):
    pass


class UpdateCampaignSchema(CampaignFields):
    """PATCH: every field optional; the merged result is validated as a whole again."""


class RejectSchema(RequestSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


def reward_view(reward):
    return {
        "id": reward.id,
        "title": reward.title,
        "description": reward.description,
        "min_amount": reward.min_amount,
        "quantity": reward.quantity,
        "remaining": remaining(reward.quantity, reward.taken),
    }


def campaign_view(campaign):
    """The contract's campaign object, built field by field (never a model dump)."""
    return {
        "id": campaign.id,
        "owner_id": campaign.owner_id,
        "title": campaign.title,
        "summary": campaign.summary,
        "story": campaign.story,
        "category": campaign.category,
        "region": campaign.region,
        "funding_model": campaign.funding_model,
        "goal_amount": campaign.goal_amount,
        "raised_amount": campaign.raised_amount,
        "matched_amount": campaign.matched_amount,
        "backers_count": campaign.backers_count,
        "currency": campaign.currency,
        "status": campaign.status,
        "duration_days": campaign.duration_days,
        "starts_at": isoformat(campaign.starts_at),
        "ends_at": isoformat(campaign.ends_at),
        "rewards": [reward_view(r) for r in campaign.rewards],
        "program_id": campaign.program_id,
        "seat_cost_amount": campaign.seat_cost_amount,
        "created_at": isoformat(campaign.created_at),
    }


def moderation_view(entry):
    return {
        "action": entry.action,
        "from_status": entry.from_status,
        "to_status": entry.to_status,
        "actor_id": entry.actor_id,
        "reason": entry.reason,
        "at": isoformat(entry.at),
    }
