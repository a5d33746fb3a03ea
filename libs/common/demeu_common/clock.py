"""Time as a dependency, so rules about deadlines and expiries are tested without sleeping."""
from datetime import datetime, timedelta, timezone

from nameko.extensions import DependencyProvider


def utcnow():
    return datetime.now(timezone.utc)


def isoformat(moment):
    """RFC 3339 in UTC with a ``Z``, as the contract writes times."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def as_utc(moment):
    """SQLite hands back naive datetimes; treat every stored time as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


class SystemClock:
    def now(self):
        return utcnow()


class FrozenClock:
    """A clock for tests: stands still until told to move."""

    def __init__(self, start=None):
        self.current = start or utcnow()

    def now(self):
        return self.current

    def advance(self, **delta):
        self.current = self.current + timedelta(**delta)
        return self.current


class Clock(DependencyProvider):
    """Injects the service's clock. Tests swap it with ``replace_dependencies`` or by
    assigning ``clock`` on the provider before the container starts."""

    def __init__(self, clock=None):
        self.clock = clock or SystemClock()

    def get_dependency(self, worker_ctx):
        return self.clock
