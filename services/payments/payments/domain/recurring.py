"""Monthly gifts as pure rules: when each period falls due, what happens after a declined
charge (retried 2 days later, then 5 days after that; the plan ends after the third
failure), and the reference of each charge."""
import calendar
from datetime import timedelta

RETRY_DELAYS = (timedelta(days=2), timedelta(days=5))
MAX_FAILURES = len(RETRY_DELAYS) + 1
ACTIVE, CANCELLED = "active", "cancelled"


def add_months(moment, months):
    """The same day and time ``months`` later, the month's last day when it is shorter."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def due_at(anchor, period):
    return add_months(anchor, period)


def charge_reference(plan_id, period, attempt=0):
    """``recurring:<plan>:<period>`` — one charge per period; a retry after a decline is
    ``…:<attempt>`` (the declined attempt stays on the books as a failed donation)."""
    base = f"recurring:{plan_id}:{period}"
    return base if attempt == 0 else f"{base}:{attempt}"


def after_success(anchor, period):
    """(next period, its attempt, when it falls due)."""
    return period + 1, 0, due_at(anchor, period + 1)


def after_decline(attempt, now):
    """(status, failures so far, next attempt at) after a declined charge."""
    failures = attempt + 1
    if failures >= MAX_FAILURES:
        return CANCELLED, failures, None
    return ACTIVE, failures, now + RETRY_DELAYS[failures - 1]
