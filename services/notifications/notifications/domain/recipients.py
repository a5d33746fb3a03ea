"""Who is told what about an event: ``intents(event)`` → one :class:`Intent` per recipient.

An event whose recipient is missing yields nothing for that recipient (a handler that
raised would be redelivered forever); unknown event types yield nothing at all.
"""
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone


@dataclass(frozen=True)
class Intent:
    recipient_id: str
    type: str
    params: dict = field(default_factory=dict)


def intents(event):
    data = event.get("data") or {}
    if not isinstance(data, dict):
        return []
    rule = RULES.get(event.get("type"))
    if rule is None:
        return []
    found = []
    for recipient_key, notification_type, build in rule:
        recipient = data.get(recipient_key)
        if not recipient or not isinstance(recipient, str):
            continue
        found.append(Intent(recipient, notification_type, build(data, event)))
    return found


def _money(data):
    return data.get("currency") or "KZT"


def _donation(data, _event):
    return {
        "campaign_id": data.get("campaign_id"),
        "campaign_title": data.get("campaign_title") or "",
        "amount": _int(data.get("amount")),
        "currency": _money(data),
        "donation_id": data.get("donation_id"),
    }


def _received(data, event):
    params = _donation(data, event)
    # Anonymous when the donor asked for it or the publisher withheld the donor.
    params["anonymous"] = bool(data.get("anonymous")) or not data.get("donor_id")
    return params


def _campaign(data, event):
    params = {
        "campaign_id": data.get("campaign_id"),
        "title": data.get("title") or "",
        "goal_amount": _int(data.get("goal_amount")),
        "raised_amount": _int(data.get("raised_amount")),
        "currency": _money(data),
    }
    if event.get("type") == "campaign.rejected":
        params["reason"] = data.get("reason") or ""
    if event.get("type") == "campaign.approved":
        params["days"] = _days_between(data.get("starts_at") or event.get("time"), data.get("ends_at"))
    return params


def _application(data, event):
    params = {
        "application_id": data.get("application_id"),
        "program_id": data.get("program_id"),
        "program_title": data.get("program_title") or "",
    }
    if event.get("type") == "application.offered":
        params["offer_expires_at"] = data.get("offer_expires_at")
        params["days"] = _days_between(event.get("time"), data.get("offer_expires_at"))
    return params


def _pool(data, _event):
    return {
        "pool_id": data.get("pool_id"),
        "name": data.get("name") or "",
        "remaining_amount": _int(data.get("remaining_amount")),
        "currency": _money(data),
    }


RULES = {
    "donation.succeeded": [
        ("campaign_owner_id", "donation.received", _received),
        ("donor_id", "donation.succeeded", _donation),
    ],
    "donation.refunded": [("donor_id", "donation.refunded", _donation)],
    **{t: [("owner_id", t, _campaign)] for t in (
        "campaign.approved", "campaign.rejected", "campaign.succeeded", "campaign.failed")},
    **{t: [("talent_user_id", t, _application)] for t in (
        "application.offered", "application.waitlisted", "application.enrolled")},
    **{t: [("patron_id", t, _pool)] for t in ("pool.exhausted", "pool.expired")},
}


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _parse_time(value):
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _days_between(start, end):
    """Whole days from ``start`` to ``end``, rounded up (a deadline in 36 h is "2 days");
    None when either is unknown or the end has passed."""
    start, end = _parse_time(start), _parse_time(end)
    if start is None or end is None or end <= start:
        return None
    return math.ceil((end - start).total_seconds() / 86400)
