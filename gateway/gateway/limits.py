"""Token-bucket rate limits (contract §2), per gateway process.

Four kinds of bucket, sized from configuration (``RATE_LIMIT_*`` in config.yaml, requests a
minute; the contract's defaults): every request per client IP (checked first, before the
token is even read, so unknown routes and bad tokens count too), dev tokens per IP, every
request per user, and money-moving POSTs per user. Past any of them → 429 with
``Retry-After`` in whole seconds. A refused request takes no token from any bucket.

Each instance limits what passes through it; with N gateway instances behind a balancer the
effective limit is up to N times higher, which is why a shared store is the next step when
the gateway is scaled out."""
import math
import threading
import time
from collections import OrderedDict

from demeu_common.config import env_flag

DEFAULTS = {
    "RATE_LIMIT_USER_MONEY_PER_MINUTE": 120,
    "RATE_LIMIT_USER_PER_MINUTE": 600,
    "RATE_LIMIT_IP_PER_MINUTE": 60_000,
    "RATE_LIMIT_DEV_TOKENS_PER_MINUTE": 600,
}


class TokenBucket:
    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, per_minute):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.tokens = float(per_minute)
        self.updated = time.monotonic()

    def wait(self, now):
        """Refills; returns 0 when a token is available, else the seconds until one is."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = max(now, self.updated)
        if self.tokens >= 1:
            return 0
        return (1 - self.tokens) / self.rate

    def take(self):
        self.tokens -= 1


class Buckets:
    def __init__(self, per_minute, max_keys=100_000):
        self.per_minute = per_minute
        self.max_keys = max_keys
        self.buckets = OrderedDict()

    def get(self, key):
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = TokenBucket(self.per_minute)
            if len(self.buckets) > self.max_keys:
                self.buckets.popitem(last=False)  # the least recently seen key
        else:
            self.buckets.move_to_end(key)
        return bucket


class RateLimiter:
    def __init__(self, user_money=120, user_all=600, ip_all=60_000, dev_tokens=600, enabled=True):
        self.enabled = enabled
        self.user_money = Buckets(user_money)
        self.user_all = Buckets(user_all)
        self.ip_all = Buckets(ip_all)
        self.dev_tokens = Buckets(dev_tokens)
        self.lock = threading.Lock()

    @classmethod
    def from_config(cls, config):
        def number(name):
            value = config.get(name)
            value = DEFAULTS[name] if value in (None, "") else int(value)
            if value < 1:
                raise ValueError(f"{name} must be at least 1 (got {value})")
            return value

        return cls(
            user_money=number("RATE_LIMIT_USER_MONEY_PER_MINUTE"),
            user_all=number("RATE_LIMIT_USER_PER_MINUTE"),
            ip_all=number("RATE_LIMIT_IP_PER_MINUTE"),
            dev_tokens=number("RATE_LIMIT_DEV_TOKENS_PER_MINUTE"),
            enabled=not env_flag("DEMEU_RATE_LIMITS_OFF"),
        )

    def check_ip(self, ip):
        """Every request, before anything else is done for it."""
        self._take([(self.ip_all, ip or "unknown")])

    def check(self, request, actor, money=False, dev_token=False):
        """What a route adds once the caller is known: dev tokens per IP, users' requests."""
        checks = []
        if dev_token:
            ip = request.environ.get("demeu.client_ip") or request.remote_addr or "unknown"
            checks.append((self.dev_tokens, ip))
        if actor.get("user_id"):
            checks.append((self.user_all, actor["user_id"]))
            if money:
                checks.append((self.user_money, actor["user_id"]))
        self._take(checks)

    def _take(self, checks):
        if not self.enabled or not checks:
            return
        with self.lock:
            buckets = [kind.get(key) for kind, key in checks]
            now = time.monotonic()
            wait = max(bucket.wait(now) for bucket in buckets)
            if not wait:
                for bucket in buckets:
                    bucket.take()
                return
        from gateway.http import HttpProblem

        raise HttpProblem(429, "rate_limited", "Too many requests",
                          "Slow down and retry after the time in Retry-After.",
                          headers={"Retry-After": str(max(1, math.ceil(wait)))})
