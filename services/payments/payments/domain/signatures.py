"""Signed provider webhooks: ``Provider-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>``. Pure: the caller passes the time."""
import hashlib
import hmac

from demeu_common.errors import DomainError

TOLERANCE_SECONDS = 300


def invalid(detail):
    return DomainError(detail, code="invalid_signature", status=401)


def sign(secret, timestamp, raw_body):
    if isinstance(raw_body, str):
        raw_body = raw_body.encode("utf-8")
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret, raw_body, header, now, tolerance=TOLERANCE_SECONDS):
    """Raise 401 ``invalid_signature`` unless ``header`` signs ``raw_body`` with ``secret`` at a
    time within ``tolerance`` seconds of ``now`` (either way: no replays, no post-dating)."""
    if isinstance(raw_body, str):
        raw_body = raw_body.encode("utf-8")
    timestamp, candidates = None, []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamp = value
        elif name == "v1":
            candidates.append(value)
    try:
        moment = int(timestamp)
    except (TypeError, ValueError):
        raise invalid("The signature has no valid timestamp.")
    if not candidates:
        raise invalid("The signature has no v1 value.")
    if abs(now - moment) > tolerance:
        raise invalid("The signature's timestamp is outside the tolerated window.")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise invalid("The signature does not match the body.")
    return moment
