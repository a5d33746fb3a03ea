"""Token buckets: sized from configuration, refilled with time, and a refusal costs nothing."""
import pytest

from gateway.http import HttpProblem, client_ip, trusted_networks
from gateway.limits import RateLimiter, TokenBucket


class FakeRequest:
    remote_addr = "10.0.0.1"
    environ = {}


def refused(call):
    with pytest.raises(HttpProblem) as caught:
        call()
    assert caught.value.status == 429 and caught.value.code == "rate_limited"
    return int(caught.value.headers["Retry-After"])


def test_a_bucket_refills_at_its_rate():
    bucket = TokenBucket(60)  # one a second
    now = bucket.updated
    for _ in range(60):
        assert bucket.wait(now) == 0
        bucket.take()
    assert bucket.wait(now) == pytest.approx(1.0)
    assert bucket.wait(now + 0.5) == pytest.approx(0.5)
    assert bucket.wait(now + 1.0) == 0


def test_money_moving_posts_have_their_own_smaller_bucket():
    limiter = RateLimiter(user_money=2, user_all=100, ip_all=1000, dev_tokens=10)
    user = {"user_id": "u1"}
    limiter.check(FakeRequest(), user, money=True)
    limiter.check(FakeRequest(), user, money=True)
    assert refused(lambda: limiter.check(FakeRequest(), user, money=True)) == 30  # 2/min: one per 30 s
    limiter.check(FakeRequest(), user)  # other requests still pass
    limiter.check(FakeRequest(), {"user_id": "u2"}, money=True)  # and other users


def test_a_refused_request_takes_no_token_from_the_other_buckets():
    limiter = RateLimiter(user_money=1, user_all=3, ip_all=1000, dev_tokens=10)
    user = {"user_id": "u1"}
    limiter.check(FakeRequest(), user, money=True)  # user_all: 2 left
    for _ in range(5):
        refused(lambda: limiter.check(FakeRequest(), user, money=True))
    limiter.check(FakeRequest(), user)
    limiter.check(FakeRequest(), user)
    refused(lambda: limiter.check(FakeRequest(), user))


def test_ip_and_dev_token_buckets():
    limiter = RateLimiter(ip_all=2, dev_tokens=1)
    limiter.check_ip("1.2.3.4")
    limiter.check_ip("1.2.3.4")
    refused(lambda: limiter.check_ip("1.2.3.4"))
    limiter.check_ip("5.6.7.8")
    limiter.check(FakeRequest(), {"user_id": None}, dev_token=True)
    refused(lambda: limiter.check(FakeRequest(), {"user_id": None}, dev_token=True))


def test_configuration_keys_and_defaults():
    limiter = RateLimiter.from_config({"RATE_LIMIT_USER_PER_MINUTE": "5", "RATE_LIMIT_IP_PER_MINUTE": ""})
    assert limiter.user_all.per_minute == 5
    assert (limiter.user_money.per_minute, limiter.ip_all.per_minute, limiter.dev_tokens.per_minute) == (120, 60_000, 600)
    with pytest.raises(ValueError):
        RateLimiter.from_config({"RATE_LIMIT_USER_PER_MINUTE": 0})


def test_the_client_address_comes_from_x_forwarded_for_only_behind_a_trusted_proxy():
    trusted = trusted_networks("10.1.0.0/16, 192.168.7.7")
    direct = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "1.1.1.1"}
    assert client_ip(direct, trusted) == "203.0.113.9"  # not our proxy: the header is ignored
    assert client_ip(direct, []) == "203.0.113.9"
    behind = {"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.4, 192.168.7.7"}
    assert client_ip(behind, trusted) == "198.51.100.4"  # the forged left-most entry is not used
    assert client_ip({"REMOTE_ADDR": "10.1.2.3"}, trusted) == "10.1.2.3"
    assert client_ip({"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": "10.1.9.9"}, trusted) == "10.1.9.9"
