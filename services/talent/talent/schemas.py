"""What crosses the wire for talent: request validation and the contract's objects.

Views are built field by field. The public profile and the blind application never touch
private fields; only :func:`profile_view` with ``private`` given (owner or admin) shows them.
"""
import json

from marshmallow import ValidationError, fields, validate, validates_schema

from demeu_common.clock import isoformat
from demeu_common.reference import CATEGORIES
from demeu_common.schemas import Category, Region, RequestSchema

KINDS = ("course", "master_class")


class GuardianConsentSchema(RequestSchema):
    guardian_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    relation = fields.String(required=True, validate=validate.Length(min=1, max=50))
    consented_at = fields.AwareDateTime(required=True, default_timezone=None)


class CreateProfileSchema(RequestSchema):
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    birth_date = fields.Date(required=True)
    region = Region(required=True)
    bio = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    iin = fields.String(load_default=None, allow_none=True)
    guardian_consent = fields.Nested(GuardianConsentSchema, load_default=None, allow_none=True)
    # Last: from here on, ``fields`` in this class body is this field, not marshmallow's module.
    fields = fields.List(Category(), required=True, validate=validate.Length(min=1, max=len(CATEGORIES)))


class CreateProgramSchema(RequestSchema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    field = Category(required=True)
    description = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10_000))
    seats = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10_000))
    regional_quota = fields.Integer(load_default=None, allow_none=True, strict=True,
                                    validate=validate.Range(min=1, max=10_000))
    application_deadline = fields.AwareDateTime(required=True)
    starts_at = fields.AwareDateTime(required=True)
    min_age = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=14, max=120))
    max_age = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=14, max=120))
    offer_hours = fields.Integer(load_default=72, strict=True, validate=validate.Range(min=1, max=24 * 30))

    @validates_schema
    def _consistent(self, data, **kwargs):
        errors = {}
        if data.get("min_age") and data.get("max_age") and data["min_age"] > data["max_age"]:
            errors["max_age"] = ["Must not be below min_age."]
        if data["starts_at"] < data["application_deadline"]:
            errors["starts_at"] = ["Must not be before the application deadline."]
        if errors:
            raise ValidationError(errors)


class ApplySchema(RequestSchema):
    motivation = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    portfolio_urls = fields.List(
        fields.Url(schemes={"http", "https"}, require_tld=True, validate=validate.Length(max=2000)),
        load_default=list, validate=validate.Length(max=20),
    )


class ScoreSchema(RequestSchema):
    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class ProgramFiltersSchema(RequestSchema):
    status = fields.String(validate=validate.OneOf(("open", "selecting", "closed")))
    field = Category()
    kind = fields.String(validate=validate.OneOf(KINDS))
    mentor_id = fields.String()


# --- views ------------------------------------------------------------------------------

def profile_view(talent, age_band, private=None):
    """Public unless ``private`` (the decrypted private fields) is given."""
    view = {
        "id": talent.id,
        "display_name": talent.display_name,
        "region": talent.region,
        "fields": json.loads(talent.fields),
        "bio": talent.bio,
        "age_band": age_band,
        "created_at": isoformat(talent.created_at),
    }
    if private is not None:
        view.update({
            "user_id": talent.user_id,
            "birth_date": private["birth_date"],
            "iin": private["iin"],
            "guardian_consent": private["guardian_consent"],
        })
    return view


def program_view(program, *, waitlist_count=0, offered_count=0, funded_seats=0):
    return {
        "id": program.id,
        "mentor_id": program.mentor_id,
        "kind": program.kind,
        "title": program.title,
        "field": program.field,
        "description": program.description,
        "seats": program.seats,
        "regional_quota": program.regional_quota,
        "application_deadline": isoformat(program.application_deadline),
        "starts_at": isoformat(program.starts_at),
        "min_age": program.min_age,
        "max_age": program.max_age,
        "offer_hours": program.offer_hours,
        "enrolled_count": program.enrolled_count,
        "offered_count": offered_count,
        "waitlist_count": waitlist_count,
        "funded_seats": funded_seats,
        "status": program.status,
        "created_at": isoformat(program.created_at),
    }


def application_view(application, program_title=None):
    """What the applicant (and admins) see."""
    return {
        "id": application.id,
        "program_id": application.program_id,
        "program_title": program_title,
        "talent_id": application.talent_id,
        "status": application.status,
        "motivation": application.motivation,
        "portfolio_urls": json.loads(application.portfolio_urls),
        "rank": application.rank,
        "waitlist_position": application.waitlist_position,
        "offer_expires_at": isoformat(application.offer_expires_at),
        "created_at": isoformat(application.created_at),
    }


def blind_application_view(application, my_score=None, mean_score=None, scores_count=0):
    """What a reviewing mentor sees: the work, not the person (no name, region, age, ids)."""
    return {
        "id": application.id,
        "program_id": application.program_id,
        "status": application.status,
        "motivation": application.motivation,
        "portfolio_urls": json.loads(application.portfolio_urls),
        "rank": application.rank,
        "my_score": my_score,
        "mean_score": mean_score,
        "scores_count": scores_count,
        "created_at": isoformat(application.created_at),
    }


def score_view(score):
    return {
        "application_id": score.application_id,
        "mentor_id": score.mentor_id,
        "score": score.score,
        "comment": score.comment,
        "scored_at": isoformat(score.scored_at),
    }
