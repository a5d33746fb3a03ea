"""The sandbox acquirer of the contract, used when no real provider is configured.

tok_success → captured; tok_decline → declined, nothing charged; tok_3ds → pending, then the
provider's signed webhook confirms it within 2 s; tok_error → the provider cannot be
reached, nothing charged. Its books live in the ``sandbox_*`` tables of payments' own
database, standing in for the acquirer's side of reconciliation.
"""
import hashlib
import hmac
import json
import logging
import time
import uuid

import eventlet
import requests
from sqlalchemy import select

from demeu_common.errors import ProviderUnavailable

from payments.models import SandboxOperation
from payments.providers import DECLINED, PENDING, SUCCEEDED, ChargeResult, PaymentProvider, RefundResult

log = logging.getLogger(__name__)

TOKENS = {"tok_success": SUCCEEDED, "tok_decline": DECLINED, "tok_3ds": PENDING}
THREE_DS_DELAY = 0.5


def sign(secret, timestamp, raw_body):
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class SandboxProvider(PaymentProvider):
    name = "sandbox"

    def __init__(self, session_factory, clock, webhook_url, webhook_secret):
        self.session_factory = session_factory
        self.clock = clock
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret

    def charge(self, reference, token, amount, currency):
        if token == "tok_error":
            raise ProviderUnavailable("The card provider did not answer; nothing was charged.")
        outcome = TOKENS.get(token, DECLINED)
        with self.session_factory() as session:
            existing = session.scalars(
                select(SandboxOperation).where(SandboxOperation.reference == reference)
            ).one_or_none()
            if existing is not None:
                return ChargeResult(existing.status, existing.operation_id)
            if outcome == DECLINED:
                return ChargeResult(DECLINED, None, "card_declined" if token == "tok_decline" else "unknown_token")
            operation = SandboxOperation(
                operation_id=f"ch_{uuid.uuid4().hex}", reference=reference, kind="charge",
                amount=amount, currency=currency, status=outcome, created_at=self.clock.now(),
            )
            session.add(operation)
            session.commit()
        if outcome == PENDING:
            eventlet.spawn_after(THREE_DS_DELAY, self._confirm_3ds, operation.operation_id, reference)
        return ChargeResult(outcome, operation.operation_id)

    def refund(self, charge_id, reference, amount, currency):
        with self.session_factory() as session:
            existing = session.scalars(
                select(SandboxOperation).where(SandboxOperation.reference == reference)
            ).one_or_none()
            if existing is None:
                existing = SandboxOperation(
                    operation_id=f"re_{uuid.uuid4().hex}", reference=reference, kind="refund",
                    amount=amount, currency=currency, status=SUCCEEDED, charge_id=charge_id,
                    created_at=self.clock.now(),
                )
                session.add(existing)
                session.commit()
            return RefundResult(existing.operation_id)

    def settlements(self):
        with self.session_factory() as session:
            rows = session.scalars(
                select(SandboxOperation).where(SandboxOperation.status == SUCCEEDED)
            ).all()
            return [
                {"operation_id": r.operation_id, "reference": r.reference, "kind": r.kind,
                 "amount": r.amount, "currency": r.currency}
                for r in rows
            ]

    def _confirm_3ds(self, charge_id, reference):
        """The card holder passed 3-D Secure: mark our side captured and tell the platform
        through the signed webhook, retrying a few times as a real acquirer would."""
        with self.session_factory() as session:
            operation = session.scalars(
                select(SandboxOperation).where(SandboxOperation.operation_id == charge_id)
            ).one()
            operation.status = SUCCEEDED
            session.commit()
        body = json.dumps({
            "id": f"evt_{uuid.uuid4().hex}", "type": "charge.succeeded",
            "charge_id": charge_id, "reference": reference,
        }).encode()
        for attempt in range(5):
            timestamp = int(time.time())
            try:
                response = requests.post(
                    self.webhook_url, data=body, timeout=5,
                    headers={"content-type": "application/json",
                             "Provider-Signature": sign(self.webhook_secret, timestamp, body)},
                )
                if response.status_code < 300:
                    return
                log.warning("sandbox webhook answered %s", response.status_code)
            except requests.RequestException:
                log.warning("sandbox webhook to %s failed", self.webhook_url, exc_info=True)
            eventlet.sleep(0.5 * 2 ** attempt)
