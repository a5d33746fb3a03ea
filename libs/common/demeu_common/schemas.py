"""Marshmallow building blocks shared by every service's request schemas."""
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from demeu_common.errors import ValidationFailed
from demeu_common.reference import CATEGORIES, CURRENCY, REGION_CODES

MAX_AMOUNT = 10**15  # a quadrillion tiyn: far above any real gift, far below int64 overflow


class RequestSchema(Schema):
    """Request bodies: unknown keys (``owner_id``, ``status``, ``raised_amount``…) are dropped,
    never applied: what a client may set is exactly what the schema names."""

    class Meta:
        unknown = EXCLUDE


class Amount(fields.Integer):
    """Money in tiyn: a positive JSON integer. Floats, strings and booleans are refused."""

    default_error_messages = {"invalid": "Must be an integer amount in tiyn."}

    def __init__(self, **kwargs):
        kwargs.setdefault("strict", True)
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_AMOUNT))
        super().__init__(**kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


def Region(**kwargs):
    return fields.String(validate=validate.OneOf(REGION_CODES), **kwargs)


def Category(**kwargs):
    return fields.String(validate=validate.OneOf(CATEGORIES), **kwargs)


def Currency(**kwargs):
    kwargs.setdefault("load_default", CURRENCY)
    return fields.String(validate=validate.Equal(CURRENCY), **kwargs)


_instances = {}


def load(schema, data, **kwargs):
    """Validate ``data`` with ``schema`` (a schema class) or raise the platform's 422 with
    per-field messages.

    Building a marshmallow schema deep-copies its fields, which measured as the largest single
    cost of a donation; each class is instantiated once per process and reused (loading
    keeps no state on the instance)."""
    if isinstance(schema, type):
        schema = _instances.get(schema) or _instances.setdefault(schema, schema())
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.", errors={"_schema": ["Expected an object."]})
    try:
        return schema.load(data, **kwargs)
    except ValidationError as error:
        raise ValidationFailed.from_marshmallow(error)
