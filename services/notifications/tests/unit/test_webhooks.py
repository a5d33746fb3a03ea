"""Webhook signing and the retry schedule."""
import hashlib
import hmac
import random
from datetime import datetime, timedelta, timezone

from notifications.domain import retries, signing


def test_signature_is_hmac_sha256_of_timestamp_dot_raw_body():
    body = '{"id":"e1","data":{"title":"Домбыра"}}'.encode()
    header = signing.signature_header("whsec_x", 1_700_000_000, body)
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_verify_accepts_the_right_secret_only():
    body = b'{"a":1}'
    header = signing.signature_header("s1", 100, body)
    assert signing.verify("s1", header, body, now=120)
    assert not signing.verify("s2", header, body, now=120)
    assert not signing.verify("s1", header, b'{"a":2}', now=120)
    assert not signing.verify("s1", header, body, now=100 + 3600)
    assert not signing.verify("s1", "garbage", body)


def test_secrets_are_long_and_distinct():
    a, b = signing.new_secret(), signing.new_secret()
    assert a != b and len(a) >= 64


def test_first_retry_comes_within_30_seconds_with_default_base():
    delays = [retries.next_delay(1, 10) for _ in range(200)]
    assert all(5 <= d <= 10 for d in delays) and len(set(delays)) > 1


def test_backoff_grows_exponentially_and_is_capped():
    top = lambda n: retries.next_delay(n, 10, rng=lambda: 1.0)
    assert [top(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert top(30) == retries.MAX_DELAY_SECONDS


def test_gives_up_after_the_retry_window():
    created = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert retries.next_attempt(created + timedelta(hours=1), created, 3, 10, 86400) is not None
    assert retries.next_attempt(created + timedelta(hours=24), created, 30, 10, 86400) is None


def test_endpoint_disabled_only_after_many_failures_over_the_whole_window():
    now = datetime(2026, 1, 2, tzinfo=timezone.utc)
    assert not retries.should_disable(100, now - timedelta(minutes=5), now, 50, 86400)
    assert not retries.should_disable(10, now - timedelta(days=2), now, 50, 86400)
    assert retries.should_disable(50, now - timedelta(days=1), now, 50, 86400)
    assert not retries.should_disable(50, None, now, 50, 86400)
