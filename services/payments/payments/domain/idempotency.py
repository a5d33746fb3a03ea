"""Idempotency keys (contract §2): same key + same body → the first answer again; same key +
other body → 422; same key while the first is running → 409; 5xx answers are not kept."""
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from demeu_common.errors import Conflict, DomainError

# A request that crashed half-way leaves its key "in progress"; after this long a retry may
# take it over (the provider call is itself keyed, so it cannot charge twice).
IN_PROGRESS_LEASE = timedelta(seconds=60)
RETENTION = timedelta(hours=48)


def fingerprint(operation, target, body):
    canonical = json.dumps([operation, target, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Decision:
    replay: dict | None = None  # the stored answer to give back
    take_over: bool = False


def decide(existing_fingerprint, state, locked_until, stored, request_fingerprint, now):
    """What to do with a request whose key is already known."""
    if existing_fingerprint != request_fingerprint:
        raise DomainError(
            "This Idempotency-Key was used with a different request.",
            code="idempotency_key_reused", status=422,
        )
    if state == "completed":
        return Decision(replay=stored)
    if locked_until is not None and locked_until > now:
        raise Conflict("A request with this Idempotency-Key is still running.", code="request_in_progress")
    return Decision(take_over=True)


def storable(status):
    return status < 500
