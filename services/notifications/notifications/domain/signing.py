"""Webhook signatures (contract §7): ``Demeu-Signature: t=<unix>,v1=<hex>`` where the hex is
HMAC-SHA256 of ``"<t>.<raw body>"`` keyed with the webhook's secret."""
import hashlib
import hmac
import secrets

HEADER = "Demeu-Signature"


def new_secret():
    return "whsec_" + secrets.token_hex(32)


def signature(secret, timestamp, raw_body):
    if isinstance(raw_body, str):
        raw_body = raw_body.encode("utf-8")
    message = str(int(timestamp)).encode() + b"." + raw_body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret, timestamp, raw_body):
    return f"t={int(timestamp)},v1={signature(secret, timestamp, raw_body)}"


def verify(secret, header, raw_body, now=None, tolerance=300):
    """What a subscriber does: True when ``header`` signs ``raw_body`` with ``secret`` and,
    given ``now``, is no older than ``tolerance`` seconds."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError, AttributeError):
        return False
    if now is not None and abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(given, signature(secret, timestamp, raw_body))
