"""What crosses the wire for notifications: request validation and the public views."""
import json
from urllib.parse import urlsplit

from marshmallow import ValidationError, fields, validate, validates

from demeu_common.clock import isoformat
from demeu_common.schemas import RequestSchema

from notifications.events import EVENT_TYPES


class StrictBoolean(fields.Boolean):
    """JSON true or false only; "yes", 1 and "false" are refused, not guessed at."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class PreferencesSchema(RequestSchema):
    email = StrictBoolean(required=True)
    inbox = StrictBoolean(required=True)


class WebhookSchema(RequestSchema):
    url = fields.String(required=True, validate=validate.Length(min=8, max=2000))
    event_types = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        required=True, validate=validate.Length(min=1, max=len(EVENT_TYPES)),
    )

    @validates("url")
    def _http_url(self, value, **kwargs):
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValidationError("Must be an http(s) URL.")


def notification_view(notification, title, body):
    return {
        "id": notification.id,
        "type": notification.type,
        "title": title,
        "body": body,
        "created_at": isoformat(notification.created_at),
        "read": notification.read_at is not None,
    }


def preferences_view(preference):
    if preference is None:
        return {"email": True, "inbox": True}
    return {"email": preference.email, "inbox": preference.inbox}


def webhook_view(webhook, with_secret=False):
    view = {
        "id": webhook.id,
        "url": webhook.url,
        "event_types": json.loads(webhook.event_types),
        "status": webhook.status,
        "created_at": isoformat(webhook.created_at),
    }
    if with_secret:
        view["secret"] = webhook.secret
    return view


def delivery_view(delivery):
    return {
        "id": str(delivery.id),
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "next_attempt_at": isoformat(delivery.next_attempt_at) if delivery.status == "pending" else None,
        "created_at": isoformat(delivery.created_at),
        "delivered_at": isoformat(delivery.delivered_at),
    }
