"""Payments' own dependency providers."""
import os

from nameko.extensions import DependencyProvider
from sqlalchemy.orm import sessionmaker

from demeu_common.clock import SystemClock
from demeu_common.config import database_url
from demeu_common.db import make_engine


class Provider(DependencyProvider):
    """The card acquirer chosen by ``PAYMENT_PROVIDER`` (only ``sandbox`` exists so far)."""

    def setup(self):
        config = self.container.config
        name = config.get("PAYMENT_PROVIDER") or "sandbox"
        if name != "sandbox":
            raise RuntimeError(f"unknown PAYMENT_PROVIDER {name!r}")
        from payments.providers.sandbox import SandboxProvider

        url = database_url(self.container.service_name, config.get("DATABASE_URL"))
        # The sandbox's own books see one short statement per charge: a small pool.
        pool = {"pool_size": 5, "max_overflow": 5} if url.startswith("postgresql") else {}
        self.engine = make_engine(url, **pool)
        webhook_url = config.get("PROVIDER_WEBHOOK_URL") or (
            f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '8000')}/v1/payments/webhooks/sandbox"
        )
        self.provider = SandboxProvider(
            sessionmaker(bind=self.engine, expire_on_commit=False), SystemClock(), webhook_url,
            config.get("PROVIDER_WEBHOOK_SECRET") or "sandbox-webhook-secret",
        )

    def stop(self):
        self.engine.dispose()

    def get_dependency(self, worker_ctx):
        return self.provider
