"""What crosses the wire for payments."""
from marshmallow import fields, validate

from demeu_common.clock import isoformat
from demeu_common.schemas import Amount, Category, Region, RequestSchema


class PaymentMethodSchema(RequestSchema):
    type = fields.String(required=True, validate=validate.OneOf(["card"]))
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class DonationRequestSchema(RequestSchema):
    amount = Amount(required=True)
    reward_id = fields.UUID(load_default=None, allow_none=True)
    anonymous = fields.Boolean(load_default=False)
    message = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=280))
    payment_method = fields.Nested(PaymentMethodSchema, required=True)


class RefundRequestSchema(RequestSchema):
    amount = Amount(load_default=None, allow_none=True)  # none: whatever is left to refund


class MatchingPoolRequestSchema(RequestSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    budget_amount = Amount(required=True)
    ratio = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100))
    cap_per_donation = Amount(required=True)
    cap_per_campaign = Amount(required=True)
    categories = fields.List(Category(), load_default=list, validate=validate.Length(max=6))
    regions = fields.List(Region(), load_default=list, validate=validate.Length(max=20))
    expires_at = fields.AwareDateTime(required=True)
    payment_method = fields.Nested(PaymentMethodSchema, required=True)


class RecurringDonationRequestSchema(RequestSchema):
    amount = Amount(required=True)
    anonymous = fields.Boolean(load_default=False)
    payment_method = fields.Nested(PaymentMethodSchema, required=True)


def donation_view(donation):
    """The donor's (or an admin's) view of a donation."""
    return {
        "id": donation.id,
        "campaign_id": donation.campaign_id,
        "donor_id": donation.donor_id,
        "amount": donation.amount,
        "currency": donation.currency,
        "reward_id": donation.reward_id,
        "anonymous": donation.anonymous,
        "message": donation.message,
        "status": donation.status,
        "captured_amount": donation.captured_amount,
        "refunded_amount": donation.refunded_amount,
        "created_at": isoformat(donation.created_at),
    }


def public_donation_view(donation):
    """A campaign's public list: anonymous gifts show no donor."""
    return {
        "id": donation.id,
        "donor": None if donation.anonymous else {"id": donation.donor_id},
        "amount": donation.amount,
        "currency": donation.currency,
        "message": donation.message,
        "created_at": isoformat(donation.created_at),
    }


def recurring_view(plan):
    return {
        "id": plan.id,
        "donor_id": plan.donor_id,
        "campaign_id": plan.campaign_id,
        "amount": plan.amount,
        "currency": plan.currency,
        "anonymous": plan.anonymous,
        "interval": "month",
        "status": plan.status,
        "periods_charged": plan.period,
        "failed_attempts": plan.attempt,
        "next_charge_at": isoformat(plan.next_charge_at) if plan.status == "active" else None,
        "cancel_reason": plan.cancel_reason,
        "created_at": isoformat(plan.created_at),
    }
