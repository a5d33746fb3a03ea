"""When to try again: exponential backoff with jitter, and when to give up."""
import random
from datetime import timedelta

MAX_DELAY_SECONDS = 3600


def next_delay(attempts, base_seconds, rng=random.random):
    """Seconds to wait after the ``attempts``-th failure (1-based): half to all of
    ``base × 2^(attempts−1)``, capped at an hour, so the first retry comes within
    ``base`` seconds and a crowd of failures does not retry in lockstep."""
    ceiling = min(base_seconds * (2 ** max(attempts - 1, 0)), MAX_DELAY_SECONDS)
    return ceiling / 2 + rng() * ceiling / 2


def next_attempt(now, created_at, attempts, base_seconds, give_up_seconds, rng=random.random):
    """The moment of the next attempt, or None once the retry window has passed."""
    when = now + timedelta(seconds=next_delay(attempts, base_seconds, rng))
    if when - created_at > timedelta(seconds=give_up_seconds):
        return None
    return when


def should_disable(consecutive_failures, failing_since, now, disable_after, window_seconds):
    """An endpoint is disabled once it has failed ``disable_after`` times in a row over at
    least ``window_seconds`` (a day by default, the retry window): a brief outage with many
    queued events never disables it."""
    if failing_since is None or consecutive_failures < disable_after:
        return False
    return now - failing_since >= timedelta(seconds=window_seconds)
