"""The payments service: Nameko entrypoints only. Money moves in one transaction with its
ledger postings, its public chain link, its outbox event and its idempotency answer."""
import json
import logging

from nameko.dependency_providers import Config
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from demeu_common.clock import Clock, isoformat
from demeu_common.db import Database
from demeu_common.entrypoints import event_handler, rpc
from demeu_common.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from demeu_common.health import HealthRpc
from demeu_common.inbox import Inbox
from demeu_common.outbox import Outbox
from demeu_common.pagination import newest_first_page
from demeu_common.rpc import TimedRpcProxy
from demeu_common.schemas import load
from demeu_common.logs import RequestContext

from payments import bookkeeping, events, keys
from payments.dependencies import Provider
from payments.domain import idempotency, ledger, signatures
from payments.models import (Base, ChainEntry, Donation, OutboxRecord, ProcessedEvent, ProviderWebhook,
                             Refund)
from payments.providers import DECLINED, PENDING, SUCCEEDED
from payments.schemas import DonationRequestSchema, RefundRequestSchema, donation_view, public_donation_view

log = logging.getLogger(__name__)


def payout_reference(campaign_id):
    return f"payout:{campaign_id}"


REFUNDABLE = ("succeeded", "partially_refunded")

PAYMENT_DECLINED = DomainError("The card was declined; nothing was charged.",
                               code="payment_declined", status=402)


class PaymentsService(HealthRpc):
    name = "payments"
    request_context = RequestContext()  # request ids in log lines

    db = Database(Base)
    outbox = Outbox(OutboxRecord)
    inbox = Inbox(ProcessedEvent)
    clock = Clock()
    config = Config()
    provider = Provider()
    campaigns = TimedRpcProxy("campaigns")

    # --- donations --------------------------------------------------------------------------

    @rpc
    def create_donation(self, actor, campaign_id, body, idempotency_key):
        """Returns ``{"status", "body"}``: the answer to give, and to give again for the same key."""
        data = load(DonationRequestSchema(), body)
        user_id = actor["user_id"]
        now = self.clock.now()
        fingerprint = idempotency.fingerprint("donate", campaign_id, body)
        replay = keys.begin(self.db.Session, user_id, idempotency_key, fingerprint, now)
        if replay is not None:
            return replay
        donation_id = keys.derived_id(user_id, idempotency_key, "donation")
        try:
            answer = self._donate(actor, campaign_id, data, donation_id, idempotency_key)
        except DomainError as error:
            if error.status >= 500:
                keys.release(self.db.Session, user_id, idempotency_key)
                raise
            answer = {"status": error.status, "body": error.to_problem()}
            with self.db.get_session() as session:
                keys.complete(session, user_id, idempotency_key, answer["status"], answer["body"])
        except Exception:
            keys.release(self.db.Session, user_id, idempotency_key)
            raise
        return answer

    def _donate(self, actor, campaign_id, data, donation_id, idempotency_key):
        user_id = actor["user_id"]
        reward_id = str(data["reward_id"]) if data.get("reward_id") else None
        with self.db.get_session() as session:
            earlier = session.get(Donation, donation_id)
            if earlier is not None:  # a retry taking over a crashed attempt
                return self._finish(session, earlier, idempotency_key)
        # No transaction is open across these remote calls (see demeu_common.db).
        campaign = self.campaigns.prepare_donation(campaign_id, donation_id, data["amount"], reward_id, actor)
        try:
            charge = self.provider.charge(donation_id, data["payment_method"]["token"],
                                          data["amount"], campaign["currency"])
        except DomainError:
            self._release_hold(donation_id)
            raise
        now = self.clock.now()
        donation = Donation(
            id=donation_id, campaign_id=campaign["campaign_id"], donor_id=user_id,
            amount=data["amount"], currency=campaign["currency"], reward_id=reward_id,
            anonymous=data["anonymous"], message=data.get("message"), status=PENDING,
            captured_amount=0, refunded_amount=0, charge_id=charge.charge_id,
            campaign_owner_id=campaign["owner_id"], campaign_title=campaign["title"],
            campaign_category=campaign["category"], campaign_region=campaign["region"],
            created_at=now, updated_at=now,
        )
        with self.db.get_session() as session:
            session.add(donation)
            if charge.status == SUCCEEDED:
                self._capture(session, donation, now)
            elif charge.status == DECLINED:
                donation.status, donation.failure_code = "failed", charge.decline_reason
                self.outbox.record(session, events.DONATION_FAILED, self._payload(donation),
                                   subject=donation.id)
            return self._finish(session, donation, idempotency_key)

    def _finish(self, session, donation, idempotency_key):
        if donation.status == "failed":
            answer = {"status": 402, "body": PAYMENT_DECLINED.to_problem()}
        else:
            answer = {"status": 201, "body": donation_view(donation)}
        keys.complete(session, donation.donor_id, idempotency_key, answer["status"], answer["body"])
        return answer

    def _capture(self, session, donation, now):
        donation.status = "succeeded"
        donation.captured_amount = donation.amount
        donation.updated_at = now
        bookkeeping.record(
            session, kind=ledger.DONATION, reference=f"donation:{donation.id}",
            postings=ledger.donation_captured(donation.campaign_id, donation.amount),
            campaign_id=donation.campaign_id, donation_id=donation.id, now=now,
            public_amount=donation.amount,
        )
        self.outbox.record(session, events.DONATION_SUCCEEDED, self._payload(donation), subject=donation.id)

    # --- 3-D Secure: the provider's signed webhook -------------------------------------------

    @rpc
    def handle_provider_webhook(self, raw_body, signature):
        """A provider webhook, verified and handled once per provider event id. A
        ``charge.succeeded`` captures its pending donation (the stored answer of the original
        request stays what it was: a replay gives the original answer)."""
        secret = self.config.get("PROVIDER_WEBHOOK_SECRET") or "sandbox-webhook-secret"
        now = self.clock.now()
        signatures.verify(secret, raw_body, signature, now.timestamp())
        try:
            event = json.loads(raw_body)
            event_id, event_type = str(event["id"]), event["type"]
        except (ValueError, KeyError, TypeError):
            raise ValidationFailed("The webhook body is not a provider event.", code="invalid_webhook")
        with self.db.get_session() as session:
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            claimed = session.execute(
                dialect.insert(ProviderWebhook).values(event_id=event_id, received_at=now)
                .on_conflict_do_nothing()
            ).rowcount
            if not claimed:
                return {"received": True, "duplicate": True}
            if event_type == "charge.succeeded":
                donation = session.scalars(
                    select(Donation).where(Donation.id == str(event.get("reference"))).with_for_update()
                ).one_or_none()
                if donation is None:
                    # Not written yet (the charge answered just now): no claim is kept, and the
                    # provider's retry finds it.
                    raise NotFound("No donation for this charge yet.", code="donation_not_found")
                if donation.charge_id != event.get("charge_id"):
                    raise ValidationFailed("The charge does not belong to this donation.",
                                           code="invalid_webhook")
                if donation.status == PENDING:
                    self._capture(session, donation, now)
            return {"received": True, "duplicate": False}

    # --- refunds --------------------------------------------------------------------------------

    @rpc
    def refund_donation(self, actor, donation_id, body, idempotency_key):
        """Admin refund, whole or ``{"amount"}`` in part. Returns ``{"status", "body"}`` like
        ``create_donation``; the answer is kept for the key."""
        if "admin" not in (actor.get("roles") or ()):
            raise Forbidden("Only an admin may refund a donation.")
        body = body or {}
        data = load(RefundRequestSchema(), body)
        user_id = actor["user_id"]
        fingerprint = idempotency.fingerprint("refund", str(donation_id), body)
        replay = keys.begin(self.db.Session, user_id, idempotency_key, fingerprint, self.clock.now())
        if replay is not None:
            return replay
        reference = f"refund:{keys.derived_id(user_id, idempotency_key, 'refund')}"

        def complete(session, donation):
            answer = {"status": 200, "body": donation_view(donation)}
            keys.complete(session, user_id, idempotency_key, answer["status"], answer["body"])
            return answer

        try:
            return self._refund(str(donation_id), data.get("amount"), reference, complete)
        except DomainError as error:
            if error.status >= 500:
                keys.release(self.db.Session, user_id, idempotency_key)
                raise
            answer = {"status": error.status, "body": error.to_problem()}
            with self.db.get_session() as session:
                keys.complete(session, user_id, idempotency_key, answer["status"], answer["body"])
            return answer
        except Exception:
            keys.release(self.db.Session, user_id, idempotency_key)
            raise

    def _refund(self, donation_id, amount, reference, complete=None):
        """Refund ``amount`` (None: all that is left) of a donation under ``reference``, once.

        1. reserve: lock the donation row, check the amount fits, add it to refunded_amount
           and write the refund ``pending`` — concurrent refunds queue on the row lock, so
           their sum never exceeds what was captured;
        2. ask the provider (keyed by ``reference``), with no transaction open;
        3. settle: postings, chain link, status and ``donation.refunded``, exactly once.
        """
        now = self.clock.now()
        with self.db.get_session() as session:
            refund = session.get(Refund, reference)
            if refund is None:
                donation = self._lock_donation(session, donation_id)
                if donation.status not in REFUNDABLE:
                    raise Conflict(f"A {donation.status} donation cannot be refunded.",
                                   code="donation_not_refundable")
                if bookkeeping.posted(session, payout_reference(donation.campaign_id)):
                    raise Conflict("The campaign has been paid out; its gifts can no longer be refunded.",
                                   code="campaign_paid_out")
                remaining = donation.captured_amount - donation.refunded_amount
                amount = remaining if amount is None else amount
                if amount <= 0 or amount > remaining:
                    raise DomainError(
                        f"Refunds may not exceed what was captured; {remaining} tiyn is left to refund.",
                        code="refund_exceeds_captured", status=422,
                        extra={"refundable_amount": remaining},
                    )
                donation.refunded_amount += amount
                donation.updated_at = now
                refund = Refund(reference=reference, donation_id=donation.id, amount=amount,
                                status="pending", created_at=now, updated_at=now)
                session.add(refund)
            else:
                donation = session.get(Donation, refund.donation_id)
            settled = refund.status == "succeeded"
            charge_id, currency, refund_amount = donation.charge_id, donation.currency, refund.amount
        if not settled:
            try:
                result = self.provider.refund(charge_id, reference, refund_amount, currency)
            except DomainError:
                self._unreserve(reference)
                raise
        with self.db.get_session() as session:
            donation = self._lock_donation(session, donation_id)
            refund = session.scalars(select(Refund).where(Refund.reference == reference).with_for_update()).one()
            if refund.status == "pending":
                refund.status, refund.provider_refund_id, refund.updated_at = "succeeded", result.refund_id, now
                self._settle_refund(session, donation, refund, now)
            return complete(session, donation) if complete else donation

    def _settle_refund(self, session, donation, refund, now):
        session.flush()
        settled = session.scalars(
            select(Refund.amount).where(Refund.donation_id == donation.id, Refund.status == "succeeded")
        ).all()
        refunded_total = sum(settled)
        donation.status = "refunded" if refunded_total >= donation.captured_amount else "partially_refunded"
        donation.updated_at = now
        bookkeeping.record(
            session, kind=ledger.REFUND, reference=refund.reference,
            postings=ledger.donation_refunded(donation.campaign_id, refund.amount),
            campaign_id=donation.campaign_id, donation_id=donation.id, now=now,
            public_amount=-refund.amount,
        )
        self.outbox.record(session, events.DONATION_REFUNDED, self._payload(
            donation, amount=refund.amount, refund_amount=refund.amount, refunded_total=refunded_total,
            captured_amount=donation.captured_amount, refund_reference=refund.reference,
        ), subject=donation.id)

    def _unreserve(self, reference):
        """The provider refunded nothing: give the reserved amount back."""
        with self.db.get_session() as session:
            refund = session.scalars(select(Refund).where(Refund.reference == reference).with_for_update()).one_or_none()
            if refund is None or refund.status != "pending":
                return
            donation = self._lock_donation(session, refund.donation_id)
            donation.refunded_amount -= refund.amount
            session.delete(refund)

    def _lock_donation(self, session, donation_id):
        donation = session.scalars(
            select(Donation).where(Donation.id == donation_id).with_for_update()
        ).one_or_none()
        if donation is None:
            raise NotFound("No such donation.", code="donation_not_found")
        return donation

    # --- payouts --------------------------------------------------------------------------------

    @rpc
    def create_payout(self, actor, campaign_id, idempotency_key):
        """Admin: pay a succeeded campaign's escrow (what is left after refunds) out to its
        owner, less the platform fee, once per campaign. Returns ``{"status", "body"}``."""
        if "admin" not in (actor.get("roles") or ()):
            raise Forbidden("Only an admin may pay a campaign out.")
        campaign_id = str(campaign_id)
        user_id = actor["user_id"]
        fingerprint = idempotency.fingerprint("payout", campaign_id, {})
        replay = keys.begin(self.db.Session, user_id, idempotency_key, fingerprint, self.clock.now())
        if replay is not None:
            return replay
        try:
            campaign = self.campaigns.get_campaign(actor, campaign_id)
            if campaign["status"] != "succeeded":
                raise Conflict(f"Only a succeeded campaign is paid out; this one is {campaign['status']}.",
                               code="campaign_not_succeeded")
            payout_id = keys.derived_id(user_id, idempotency_key, "payout")
            with self.db.get_session() as session:
                answer = {"status": 201, "body": self._pay_out(session, campaign, payout_id)}
                keys.complete(session, user_id, idempotency_key, answer["status"], answer["body"])
            return answer
        except DomainError as error:
            if error.status >= 500:
                keys.release(self.db.Session, user_id, idempotency_key)
                raise
            answer = {"status": error.status, "body": error.to_problem()}
            with self.db.get_session() as session:
                keys.complete(session, user_id, idempotency_key, answer["status"], answer["body"])
            return answer
        except Exception:
            keys.release(self.db.Session, user_id, idempotency_key)
            raise

    def _pay_out(self, session, campaign, payout_id):
        campaign_id, now = campaign["id"], self.clock.now()
        bookkeeping.lock_head(session, campaign_id)  # one payout (or refund link) at a time
        if bookkeeping.posted(session, payout_reference(campaign_id)):
            raise Conflict("This campaign has been paid out already.", code="payout_exists")
        if session.scalar(select(Refund.reference).join(Donation, Donation.id == Refund.donation_id)
                          .where(Donation.campaign_id == campaign_id, Refund.status == "pending").limit(1)):
            raise Conflict("A refund of this campaign is still under way; try again shortly.",
                           code="refund_in_progress")
        amount = bookkeeping.escrow_balance(session, campaign_id)
        if amount <= 0:
            raise Conflict("Nothing is left in escrow to pay out.", code="nothing_to_pay_out")
        fee = ledger.fee_for(amount, int(self.config.get("PLATFORM_FEE_BPS") or 0))
        bookkeeping.record(
            session, kind=ledger.PAYOUT, reference=payout_reference(campaign_id),
            postings=ledger.payout(campaign_id, amount, fee), campaign_id=campaign_id, now=now,
            public_amount=-(amount - fee), extra_links=((ledger.FEE, -fee),) if fee else (),
        )
        payout = {
            "id": payout_id, "campaign_id": campaign_id, "owner_id": campaign["owner_id"],
            "amount": amount, "fee_amount": fee, "net_amount": amount - fee,
            "currency": campaign.get("currency") or "KZT", "status": "paid",
            "created_at": isoformat(now),
        }
        self.outbox.record(session, events.PAYOUT_CREATED, dict(payout, payout_id=payout_id),
                           subject=campaign_id)
        return payout

    @event_handler("campaigns", "campaign.failed")
    def refund_failed_campaign(self, event):
        """An all_or_nothing campaign failed: refund every gift it kept, one donation per
        transaction, each under ``auto-refund:<donation id>``. A crash half-way requeues the
        event; the redelivery skips what was refunded and finishes the rest. The inbox record
        is written last, once all are done."""
        campaign_id = str(event["data"]["campaign_id"])
        with self.db.get_session() as session:
            if session.get(ProcessedEvent, (self.inbox.consumer, event["id"])) is not None:
                return
            donation_ids = session.scalars(
                select(Donation.id).where(Donation.campaign_id == campaign_id,
                                          Donation.status.in_(REFUNDABLE))
                .order_by(Donation.created_at, Donation.id)
            ).all()
        for donation_id in donation_ids:
            reference = f"auto-refund:{donation_id}"
            try:
                self._refund(donation_id, None, reference)
            except DomainError as error:
                if error.status >= 500:
                    raise  # the provider is away: requeue and try again
                # Nothing left to refund (say an admin refunded it all): an outcome, not a failure.
                log.info("auto-refund of %s skipped: %s", donation_id, error)
        with self.db.get_session() as session:
            self.inbox.claim(session, event)

    def _release_hold(self, donation_id):
        try:
            self.campaigns.release_reservation(donation_id)
        except DomainError:
            pass  # the hold expires on its own

    def _payload(self, donation, **extra):
        return events.donation_payload(donation, self.config.get("BACKER_PSEUDONYM_KEY") or "dev", **extra)

    @rpc
    def get_donation(self, actor, donation_id):
        with self.db.get_session() as session:
            donation = session.get(Donation, str(donation_id))
            is_admin = "admin" in (actor.get("roles") or ())
            if donation is None or (donation.donor_id != actor.get("user_id") and not is_admin):
                raise NotFound("No such donation.", code="donation_not_found")
            return donation_view(donation)

    @rpc
    def list_my_donations(self, actor, limit=20, cursor=None):
        query = select(Donation).where(Donation.donor_id == actor["user_id"])
        return self._page(query, limit, cursor, donation_view)

    @rpc
    def list_campaign_donations(self, campaign_id, limit=20, cursor=None):
        query = select(Donation).where(Donation.campaign_id == str(campaign_id),
                                       Donation.status.in_(["succeeded", "partially_refunded"]))
        return self._page(query, limit, cursor, public_donation_view)

    def _page(self, query, limit, cursor, view):
        with self.db.get_session() as session:
            return newest_first_page(session, query, Donation.created_at, Donation.id, limit, cursor, view)

    # --- the ledger ---------------------------------------------------------------------------

    @rpc
    def campaign_ledger(self, campaign_id, limit=100, cursor=None):
        after = 0
        if cursor:
            try:
                after = int(cursor)
            except ValueError:
                raise ValidationFailed("The cursor is not valid.", code="invalid_cursor",
                                       errors={"cursor": ["Not a cursor this API issued."]})
        with self.db.get_session() as session:
            rows = session.scalars(
                select(ChainEntry).where(ChainEntry.campaign_id == str(campaign_id), ChainEntry.seq > after)
                .order_by(ChainEntry.seq).limit(limit + 1)
            ).all()
            items = [bookkeeping.chain_view(e) for e in rows[:limit]]
        return {"items": items, "next_cursor": str(items[-1]["seq"]) if len(rows) > limit else None}

    @rpc
    def ledger_check(self):
        with self.db.get_session() as session:
            report = bookkeeping.check(session)
        raised = report.pop("raised_by_campaign")
        if raised:
            totals = self.campaigns.raised_amounts(sorted(raised))
            for campaign_id, posted in raised.items():
                shown = totals.get(campaign_id)
                if shown != posted:
                    report["mismatches"].append({
                        "campaign_id": campaign_id, "problem": "raised_amount differs from the ledger",
                        "raised_amount": shown, "ledger_amount": posted,
                    })
        return report

