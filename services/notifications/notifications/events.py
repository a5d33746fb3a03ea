"""The events notifications listens to. It publishes none of its own.

Everything the platform publishes (contract §8) is heard, so subscribers' webhooks can ask
for any of it and the event log (``GET /v1/events``) holds all of it;
:mod:`notifications.domain.recipients` decides which of them also reach a
person's inbox and email.
"""

SUBSCRIBED = {
    "campaigns": (
        "campaign.submitted", "campaign.approved", "campaign.rejected", "campaign.succeeded",
        "campaign.failed",
    ),
    "payments": (
        "donation.succeeded", "donation.failed", "donation.refunded", "payout.created",
        "match.applied", "match.released", "pool.created", "pool.exhausted", "pool.expired",
    ),
    "talent": (
        "talent.registered", "program.created", "program.selected", "application.submitted",
        "application.offered", "application.waitlisted", "application.enrolled",
        "application.declined", "application.expired", "application.completed",
    ),
}

EVENT_TYPES = tuple(t for types in SUBSCRIBED.values() for t in types)
