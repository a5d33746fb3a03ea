"""Token-bucket rate limits (contract §2), per gateway process.

Each instance limits what passes through it; with N gateway instances behind a balancer the
effective limit is up to N times higher, which is why a shared store is the next step when
the gateway is scaled out."""
import math
import threading
import time
from collections import OrderedDict

from demeu_common.config import env_flag


class TokenBucket:
    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, per_minute):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.tokens = float(per_minute)
        self.updated = time.monotonic()

    def take(self, now):
        """Returns 0 when a token was taken, else the seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0
        return (1 - self.tokens) / self.rate


class Buckets:
    def __init__(self, per_minute, max_keys=100_000):
        self.per_minute = per_minute
        self.max_keys = max_keys
        self.buckets = OrderedDict()

    def take(self, key, now):
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = TokenBucket(self.per_minute)
            if len(self.buckets) > self.max_keys:
                self.buckets.popitem(last=False)
        else:
            self.buckets.move_to_end(key)
        return bucket.take(now)


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
        def number(name, default):
            return int(config.get(name) or default)

        return cls(
            user_money=number("RATE_LIMIT_USER_MONEY_PER_MINUTE", 120),
            user_all=number("RATE_LIMIT_USER_PER_MINUTE", 600),
            ip_all=number("RATE_LIMIT_IP_PER_MINUTE", 60_000),
            dev_tokens=number("RATE_LIMIT_DEV_TOKENS_PER_MINUTE", 600),
            enabled=not env_flag("DEMEU_RATE_LIMITS_OFF"),
        )

    def check(self, request, actor, money=False, dev_token=False):
        if not self.enabled:
            return
        now = time.monotonic()
        ip = request.remote_addr or "unknown"
        checks = [(self.ip_all, ip)]
        if dev_token:
            checks.append((self.dev_tokens, ip))
        if actor.get("user_id"):
            checks.append((self.user_all, actor["user_id"]))
            if money:
                checks.append((self.user_money, actor["user_id"]))
        with self.lock:
            for buckets, key in checks:
                wait = buckets.take(key, now)
                if wait:
                    from gateway.http import HttpProblem

                    raise HttpProblem(429, "rate_limited", "Too many requests",
                                      "Slow down and retry after the time in Retry-After.",
                                      headers={"Retry-After": str(max(1, math.ceil(wait)))})
