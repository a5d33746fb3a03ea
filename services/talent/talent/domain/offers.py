"""Offers: how long they stand and when they lapse."""
from datetime import timedelta

DEFAULT_OFFER_HOURS = 72


def expires_at(now, hours=None):
    return now + timedelta(hours=hours or DEFAULT_OFFER_HOURS)


def is_expired(offer_expires_at, now):
    return offer_expires_at is not None and offer_expires_at <= now


def due(offers, now):
    """The offers among ``(application_id, offer_expires_at)`` pairs that have lapsed."""
    return [application_id for application_id, at in offers if is_expired(at, now)]
