"""Card acquirers behind one interface.

A provider is asked to charge, refund and list settlements; each call carries our own
``reference`` (the donation or refund id) and the provider must treat a repeated reference
as the same operation, so a retry after a timeout never charges twice. A real Kazakh
acquirer is another implementation of :class:`PaymentProvider`, chosen by the
``PAYMENT_PROVIDER`` setting; nothing else in payments changes.
"""
from dataclasses import dataclass

SUCCEEDED, PENDING, DECLINED = "succeeded", "pending", "declined"


@dataclass(frozen=True)
class ChargeResult:
    status: str  # succeeded | pending | declined
    charge_id: str | None
    decline_reason: str | None = None


@dataclass(frozen=True)
class RefundResult:
    refund_id: str


class PaymentProvider:
    name = "abstract"

    def charge(self, reference, token, amount, currency):
        """Charge a card. Raises ``ProviderUnavailable`` when the outcome is unknown because
        the provider could not be reached (nothing is charged in that case)."""
        raise NotImplementedError

    def refund(self, charge_id, reference, amount, currency):
        raise NotImplementedError

    def settlements(self):
        """Every captured charge and refund as the provider's books have them."""
        raise NotImplementedError
