"""The payments service: Nameko entrypoints only. Money moves in one transaction with its
ledger postings, its public chain link, its outbox event and its idempotency answer."""
import base64
import json
import logging
from datetime import timedelta, timezone

from nameko.dependency_providers import Config
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from demeu_common.clock import Clock, as_utc, isoformat
from demeu_common.db import Database
from demeu_common.entrypoints import event_handler, rpc, sweep
from demeu_common.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from demeu_common.health import HealthRpc
from demeu_common.inbox import Inbox
from demeu_common.outbox import Outbox
from demeu_common.pagination import newest_first_page
from demeu_common.rpc import TimedRpcProxy
from demeu_common.schemas import load
from demeu_common.logs import RequestContext

from payments import bookkeeping, events, keys, pools, receipts
from payments.dependencies import Provider
from payments.domain import idempotency, ledger, matching, recurring, signatures
from payments.models import (Base, ChainEntry, Donation, FailedCampaign, MatchingPool, OutboxRecord, PoolReturn, ProcessedEvent,
                             ProviderWebhook, RecurringPlan, Refund)
from payments.providers import DECLINED, PENDING, SUCCEEDED
from payments.schemas import (DonationRequestSchema, MatchingPoolRequestSchema, RecurringDonationRequestSchema,
                              RefundRequestSchema, donation_view, public_donation_view, recurring_view)

log = logging.getLogger(__name__)


def payout_reference(campaign_id):
    return f"payout:{campaign_id}"


REFUNDABLE = ("succeeded", "partially_refunded")
POOL_SWEEP_SECONDS = 30  # default; config POOL_SWEEP_SECONDS overrides
RECURRING_SWEEP_SECONDS = 60  # default; config RECURRING_SWEEP_SECONDS overrides
SWEEP_BATCH = 200
MAX_POOL_LIFETIME = timedelta(days=5 * 366)
# A pool return or monthly charge left half-way (a crash, a provider away) is resumed by a
# later sweep once it is this old, so a healthy sweep in flight is never doubled.
RESUME_AFTER = timedelta(seconds=60)

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
        data = load(DonationRequestSchema, body)
        user_id = actor["user_id"]
        fingerprint = idempotency.fingerprint("donate", campaign_id, body)
        donation_id = keys.derived_id(user_id, idempotency_key, "donation")
        return self._keyed(user_id, idempotency_key, fingerprint,
                           lambda: self._donate(actor, campaign_id, data, donation_id, idempotency_key))

    def _keyed(self, user_id, idempotency_key, fingerprint, work):
        """Run ``work()`` → ``{"status", "body"}`` under an Idempotency-Key (contract §2): a
        refusal is an answer kept for the key; a 5xx or a crash keeps nothing."""
        replay = keys.begin(self.db.Session, user_id, idempotency_key, fingerprint, self.clock.now())
        if replay is not None:
            return replay
        try:
            return work()
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

    def _donate(self, actor, campaign_id, data, donation_id, idempotency_key, recurring_plan_id=None):
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
            campaign_live=campaign.get("status", "live") == "live", recurring_plan_id=recurring_plan_id,
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
            answer = self._finish(session, donation, idempotency_key)
        if donation.status == "succeeded":
            self._refund_if_campaign_failed(donation.id)
        return answer

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
        # Matched at once, in the same transaction as the capture: both land or neither.
        pools.apply_matches(session, self.outbox, donation, now)

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
            charge = event_type == "charge.succeeded"
            donation_charge = charge and not str(event.get("reference", "")).startswith("pool:")
            if claimed and charge and not donation_charge:
                self._confirm_pool_charge(session, event, now)
            elif claimed and donation_charge:
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
        if donation_charge:
            # Also on a repeated webhook: the provider retries until this has gone through.
            self._refund_if_campaign_failed(str(event.get("reference")), raise_errors=True)
        return {"received": True, "duplicate": not claimed}

    # --- refunds --------------------------------------------------------------------------------

    @rpc
    def refund_donation(self, actor, donation_id, body, idempotency_key):
        """Admin refund, whole or ``{"amount"}`` in part. Returns ``{"status", "body"}`` like
        ``create_donation``; the answer is kept for the key."""
        if "admin" not in (actor.get("roles") or ()):
            raise Forbidden("Only an admin may refund a donation.")
        body = body or {}
        data = load(RefundRequestSchema, body)
        user_id = actor["user_id"]
        fingerprint = idempotency.fingerprint("refund", str(donation_id), body)
        reference = f"refund:{keys.derived_id(user_id, idempotency_key, 'refund')}"

        def complete(session, donation):
            answer = {"status": 200, "body": donation_view(donation)}
            keys.complete(session, user_id, idempotency_key, answer["status"], answer["body"])
            return answer

        return self._keyed(user_id, idempotency_key, fingerprint,
                           lambda: self._refund(str(donation_id), data.get("amount"), reference, complete))

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
        # Its matches go back to their pools, in proportion, in the same transaction.
        pools.release_matches(session, self.outbox, donation, refund.reference, refunded_total, now)

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

        def work():
            campaign = self.campaigns.get_campaign(actor, campaign_id)
            if campaign["status"] != "succeeded":
                raise Conflict(f"Only a succeeded campaign is paid out; this one is {campaign['status']}.",
                               code="campaign_not_succeeded")
            payout_id = keys.derived_id(user_id, idempotency_key, "payout")
            with self.db.get_session() as session:
                answer = {"status": 201, "body": self._pay_out(session, campaign, payout_id)}
                keys.complete(session, user_id, idempotency_key, answer["status"], answer["body"])
            return answer

        return self._keyed(user_id, idempotency_key, fingerprint, work)

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
            # Known as failed before the gifts are listed: a gift captured after the listing
            # sees this mark and is refunded by its capturer (same reference, so once).
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            session.execute(dialect.insert(FailedCampaign).values(
                campaign_id=campaign_id, failed_at=self.clock.now()).on_conflict_do_nothing())
        with self.db.get_session() as session:
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

    def _refund_if_campaign_failed(self, donation_id, raise_errors=False):
        """A gift captured after its all_or_nothing campaign failed (a late 3-D Secure
        confirmation, a charge that raced the close) goes back like the others, under the
        saga's reference, so whichever of the two gets there first refunds it, once."""
        with self.db.get_session() as session:
            donation = session.get(Donation, donation_id)
            if (donation is None or donation.status not in REFUNDABLE
                    or session.get(FailedCampaign, donation.campaign_id) is None):
                return
        try:
            self._refund(donation_id, None, f"auto-refund:{donation_id}")
        except DomainError as error:
            if raise_errors and error.status >= 500:
                raise  # the provider's webhook is retried, and with it this refund
            log.warning("refund of %s, captured after its campaign failed, did not go through: %s",
                        donation_id, error)

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
    def donation_receipt(self, actor, donation_id, fmt="json"):
        """The donor's (or an admin's) receipt: the gift, its ledger entries and the chain
        proof from its first entry to the campaign's head. ``fmt="pdf"`` answers
        ``{"content_type", "filename", "data_base64"}`` (bytes do not cross RPC as JSON)."""
        with self.db.get_session() as session:
            donation = self._visible_donation(session, actor, donation_id)
            receipt = receipts.build(session, donation, self.clock.now())
        if fmt != "pdf":
            return receipt
        return {"content_type": "application/pdf", "filename": f"demeu-receipt-{receipt['donation_id']}.pdf",
                "data_base64": base64.b64encode(receipts.render_pdf(receipt)).decode("ascii")}

    def _visible_donation(self, session, actor, donation_id):
        donation = session.get(Donation, str(donation_id))
        is_admin = "admin" in (actor.get("roles") or ())
        if donation is None or (donation.donor_id != actor.get("user_id") and not is_admin):
            raise NotFound("No such donation.", code="donation_not_found")
        return donation

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


    # --- patronage: matching pools (contract §5) -------------------------------------------

    @rpc
    def create_pool(self, actor, body, idempotency_key):
        """Open a matching pool, charging its budget to the patron through the same keyed
        payment path as a donation. Returns ``{"status", "body"}``, kept for the key."""
        data = load(MatchingPoolRequestSchema, body)
        now = self.clock.now()
        try:
            data["expires_at"] = data["expires_at"].astimezone(timezone.utc)  # stored and shown in UTC
        except (OverflowError, ValueError):
            data["expires_at"] = None
        if data["expires_at"] is None or not now < data["expires_at"] <= now + MAX_POOL_LIFETIME:
            raise ValidationFailed("The pool must expire in the future, within five years.",
                                   errors={"expires_at": ["Must be later than now and within five years."]})
        user_id = actor["user_id"]
        fingerprint = idempotency.fingerprint("pool", "", body)
        pool_id = keys.derived_id(user_id, idempotency_key, "pool")

        def work():
            return self._open_pool(user_id, data, pool_id, idempotency_key)

        return self._keyed(user_id, idempotency_key, fingerprint, work)

    def _open_pool(self, user_id, data, pool_id, idempotency_key):
        with self.db.get_session() as session:
            earlier = session.get(MatchingPool, pool_id)
            if earlier is not None:  # a retry taking over a crashed attempt
                return self._pool_answer(session, earlier, idempotency_key)
        charge = self.provider.charge(f"pool:{pool_id}", data["payment_method"]["token"],
                                      data["budget_amount"], "KZT")
        if charge.status == DECLINED:
            raise PAYMENT_DECLINED  # nothing created, the answer kept for the key
        now = self.clock.now()
        pool = MatchingPool(
            id=pool_id, patron_id=user_id, name=data["name"], budget_amount=data["budget_amount"],
            ratio=data["ratio"], cap_per_donation=data["cap_per_donation"],
            cap_per_campaign=data["cap_per_campaign"],
            categories=json.dumps(sorted(set(data["categories"]))), regions=json.dumps(sorted(set(data["regions"]))),
            expires_at=data["expires_at"], remaining_amount=data["budget_amount"], matched_amount=0,
            returned_amount=0, status=matching.PENDING, currency="KZT", charge_id=charge.charge_id,
            created_at=now, updated_at=now,
        )
        with self.db.get_session() as session:
            session.add(pool)
            if charge.status == SUCCEEDED:
                pools.fund(session, self.outbox, pool, now)
            return self._pool_answer(session, pool, idempotency_key)

    def _pool_answer(self, session, pool, idempotency_key):
        answer = {"status": 201, "body": pools.pool_view(pool)}
        keys.complete(session, pool.patron_id, idempotency_key, answer["status"], answer["body"])
        return answer

    def _confirm_pool_charge(self, session, event, now):
        """3-D Secure passed for a pool's budget: fund and open it."""
        pool_id = str(event["reference"])[len("pool:"):]
        pool = session.scalars(select(MatchingPool).where(MatchingPool.id == pool_id).with_for_update()).one_or_none()
        if pool is None:
            raise NotFound("No pool for this charge yet.", code="pool_not_found")
        if pool.charge_id != event.get("charge_id"):
            raise ValidationFailed("The charge does not belong to this pool.", code="invalid_webhook")
        if pool.status == matching.PENDING:
            pools.fund(session, self.outbox, pool, now)

    @rpc
    def get_pool(self, pool_id):
        with self.db.get_session() as session:
            pool = session.get(MatchingPool, str(pool_id))
            if pool is None or pool.status == matching.PENDING:
                raise NotFound("No such matching pool.", code="pool_not_found")
            return pools.pool_view(pool, self.clock.now())

    @rpc
    def list_pools(self, status=None, limit=20, cursor=None):
        now = self.clock.now()
        query = select(MatchingPool).where(MatchingPool.status != matching.PENDING)
        if status == matching.ACTIVE:
            query = query.where(MatchingPool.status == matching.ACTIVE, MatchingPool.expires_at > now)
        elif status == matching.EXHAUSTED:
            query = query.where(MatchingPool.status == matching.EXHAUSTED, MatchingPool.expires_at > now)
        elif status == matching.EXPIRED:
            query = query.where((MatchingPool.status == matching.EXPIRED) | (MatchingPool.expires_at <= now))
        elif status is not None:
            raise ValidationFailed("Unknown pool status.", errors={"status": [
                f"Must be one of: {', '.join(matching.STATUSES)}."]})
        with self.db.get_session() as session:
            return newest_first_page(session, query, MatchingPool.created_at, MatchingPool.id, limit, cursor,
                                     lambda pool: pools.pool_view(pool, now))

    @rpc
    def list_my_pools(self, actor, limit=20, cursor=None):
        """The patron's pools, each with what it matched (net of releases) per campaign and
        per region."""
        now = self.clock.now()
        query = select(MatchingPool).where(MatchingPool.patron_id == actor["user_id"])
        with self.db.get_session() as session:
            page = newest_first_page(session, query, MatchingPool.created_at, MatchingPool.id, limit, cursor,
                                     lambda pool: pools.pool_view(pool, now))
            by_campaign, by_region = pools.patron_breakdown(session, [p["id"] for p in page["items"]])
        for item in page["items"]:
            item["matched_by_campaign"] = [{"campaign_id": c, "matched_amount": a}
                                           for c, a in sorted(by_campaign[item["id"]].items())]
            item["matched_by_region"] = [{"region": r, "matched_amount": a}
                                         for r, a in sorted(by_region[item["id"]].items())]
        return page

    @sweep("POOL_SWEEP_SECONDS", POOL_SWEEP_SECONDS)
    def sweep_pools(self):
        """Give the unused budget of every expired pool back to its patron, once: each pool
        is claimed under its row lock, so of several instances sweeping one does it; the
        provider refund is keyed ``pool-expiry:<id>``. A return left pending (the provider
        was away) is finished by a later sweep."""
        now = self.clock.now()
        with self.db.get_session() as session:
            due = session.scalars(select(MatchingPool.id).where(pools.due_for_return(now))
                                  .order_by(MatchingPool.expires_at, MatchingPool.id).limit(SWEEP_BATCH)).all()
            stale = session.scalars(select(PoolReturn.reference).where(
                PoolReturn.status == "pending", PoolReturn.updated_at <= now - RESUME_AFTER)).all()
        for pool_id in due:
            try:
                with self.db.get_session() as session:
                    pool_return = pools.claim_return(session, self.outbox, pool_id, now)
                    reference = pool_return.reference if pool_return is not None else None
                if reference:
                    self._finish_pool_return(reference)
            except Exception:  # one bad pool must not keep the others; retried next tick
                log.exception("could not return the budget of pool %s", pool_id)
        for reference in stale:
            try:
                with self.db.get_session() as session:
                    # a new lease on it: of several instances, one resumes it
                    claimed = session.execute(
                        update(PoolReturn).where(PoolReturn.reference == reference, PoolReturn.status == "pending",
                                                 PoolReturn.updated_at <= now - RESUME_AFTER)
                        .values(updated_at=now)
                    ).rowcount
                if claimed:
                    self._finish_pool_return(reference)
            except Exception:
                log.exception("could not finish pool return %s", reference)

    def _finish_pool_return(self, reference):
        with self.db.get_session() as session:
            pool_return = session.get(PoolReturn, reference)
            if pool_return is None or pool_return.status != "pending":
                return
            pool = session.get(MatchingPool, pool_return.pool_id)
            charge_id, amount, currency = pool.charge_id, pool_return.amount, pool.currency
        result = self.provider.refund(charge_id, reference, amount, currency)
        with self.db.get_session() as session:
            pools.settle_return(session, reference, result.refund_id, self.clock.now())

    # --- monthly gifts ---------------------------------------------------------------------

    @rpc
    def create_recurring(self, actor, campaign_id, body, idempotency_key):
        """A monthly gift: the first month is charged now, as a normal donation; the plan
        follows only when that charge went through. Returns ``{"status", "body"}``."""
        data = load(RecurringDonationRequestSchema, body)
        user_id = actor["user_id"]
        fingerprint = idempotency.fingerprint("recurring", str(campaign_id), body)
        plan_id = keys.derived_id(user_id, idempotency_key, "recurring")

        def work():
            return self._start_plan(actor, str(campaign_id), data, plan_id, idempotency_key)

        return self._keyed(user_id, idempotency_key, fingerprint, work)

    def _start_plan(self, actor, campaign_id, data, plan_id, idempotency_key):
        user_id = actor["user_id"]
        reference = recurring.charge_reference(plan_id, 0)
        donation_id = keys.derived_id(user_id, reference, "donation")
        gift = {"amount": data["amount"], "payment_method": data["payment_method"],
                "anonymous": data["anonymous"], "reward_id": None, "message": None}
        # The donation's own key answer goes nowhere (no key row is named ``reference``):
        # the answer kept for the caller's key is the plan's.
        first = self._donate(actor, campaign_id, gift, donation_id, reference, recurring_plan_id=plan_id)
        with self.db.get_session() as session:
            if first["status"] != 201:
                keys.complete(session, user_id, idempotency_key, first["status"], first["body"])
                return first
            plan = session.get(RecurringPlan, plan_id)
            if plan is None:
                now = self.clock.now()
                anchor = as_utc(session.get(Donation, donation_id).created_at)
                period, attempt, next_at = recurring.after_success(anchor, 0)
                plan = RecurringPlan(
                    id=plan_id, donor_id=user_id, campaign_id=first["body"]["campaign_id"], amount=data["amount"],
                    currency=first["body"]["currency"], payment_token=data["payment_method"]["token"],
                    anonymous=data["anonymous"], status=recurring.ACTIVE, period=period, attempt=attempt,
                    anchor_at=anchor, next_charge_at=next_at, created_at=now, updated_at=now,
                )
                session.add(plan)
            answer = {"status": 201, "body": dict(recurring_view(plan), first_donation=first["body"])}
            keys.complete(session, user_id, idempotency_key, answer["status"], answer["body"])
            return answer

    @rpc
    def cancel_recurring(self, actor, plan_id):
        """The donor, or an admin, ends a monthly gift (what was given stays given)."""
        is_admin = "admin" in (actor.get("roles") or ())
        with self.db.get_session() as session:
            plan = session.scalars(select(RecurringPlan).where(RecurringPlan.id == str(plan_id))
                                   .with_for_update()).one_or_none()
            if plan is None or (plan.donor_id != actor.get("user_id") and not is_admin):
                raise NotFound("No such monthly gift.", code="recurring_donation_not_found")
            if plan.status == recurring.ACTIVE:
                plan.status, plan.next_charge_at, plan.updated_at = recurring.CANCELLED, None, self.clock.now()
                plan.cancelled_by = actor["user_id"]
                plan.cancel_reason = "cancelled_by_donor" if plan.donor_id == actor["user_id"] else "cancelled_by_admin"
            return recurring_view(plan)

    @rpc
    def list_my_recurring(self, actor, limit=20, cursor=None):
        query = select(RecurringPlan).where(RecurringPlan.donor_id == actor["user_id"])
        with self.db.get_session() as session:
            return newest_first_page(session, query, RecurringPlan.created_at, RecurringPlan.id, limit, cursor,
                                     recurring_view)

    @sweep("RECURRING_SWEEP_SECONDS", RECURRING_SWEEP_SECONDS)
    def sweep_recurring(self):
        """Charge every monthly gift that fell due. Each (plan, period, attempt) is claimed by
        one conditional UPDATE, so of several instances one charges it; the charge itself is
        a donation whose id derives from ``recurring:<plan>:<period>``, so even a retry after a
        crash charges the card once."""
        now = self.clock.now()
        with self.db.get_session() as session:
            due = session.execute(
                select(RecurringPlan.id, RecurringPlan.period, RecurringPlan.attempt)
                .where(RecurringPlan.status == recurring.ACTIVE, RecurringPlan.next_charge_at <= now)
                .order_by(RecurringPlan.next_charge_at, RecurringPlan.id).limit(SWEEP_BATCH)
            ).all()
        for plan_id, period, attempt in due:
            try:
                self._charge_period(plan_id, period, attempt, now)
            except Exception:  # one plan must not hold up the others; its lease ends, and it is retried
                log.exception("could not charge monthly gift %s for period %s", plan_id, period)

    def _charge_period(self, plan_id, period, attempt, now):
        with self.db.get_session() as session:
            claimed = session.execute(
                update(RecurringPlan)
                .where(RecurringPlan.id == plan_id, RecurringPlan.status == recurring.ACTIVE,
                       RecurringPlan.period == period, RecurringPlan.attempt == attempt,
                       RecurringPlan.next_charge_at <= now)
                .values(next_charge_at=now + RESUME_AFTER, updated_at=now)  # a lease, in case we crash
            ).rowcount
            plan = session.get(RecurringPlan, plan_id) if claimed else None
        if plan is None:
            return  # another instance has it
        actor = {"user_id": plan.donor_id, "roles": []}
        reference = recurring.charge_reference(plan.id, period, attempt)
        gift = {"amount": plan.amount, "payment_method": {"type": "card", "token": plan.payment_token},
                "anonymous": plan.anonymous, "reward_id": None, "message": None}
        try:
            answer = self._donate(actor, plan.campaign_id, gift, keys.derived_id(plan.donor_id, reference, "donation"),
                                  reference, recurring_plan_id=plan.id)
        except DomainError as error:
            if error.status >= 500:
                raise  # the provider or campaigns is away: the lease ends and the sweep tries again
            answer = {"status": error.status, "body": error.to_problem()}
        with self.db.get_session() as session:
            query = update(RecurringPlan).where(RecurringPlan.id == plan.id, RecurringPlan.period == period,
                                                RecurringPlan.attempt == attempt,
                                                RecurringPlan.status == recurring.ACTIVE)
            if answer["status"] == 201:
                next_period, next_attempt, next_at = recurring.after_success(as_utc(plan.anchor_at), period)
                values = {"period": next_period, "attempt": next_attempt, "next_charge_at": next_at}
            elif answer["status"] == 402:
                status, failures, next_at = recurring.after_decline(attempt, now)
                values = {"status": status, "attempt": failures, "next_charge_at": next_at}
                if status == recurring.CANCELLED:
                    values["cancel_reason"] = "payment_failed"
            else:  # the campaign no longer takes gifts (ended, failed, hidden): the plan ends
                values = {"status": recurring.CANCELLED, "next_charge_at": None,
                          "cancel_reason": "campaign_not_live"}
            session.execute(query.values(updated_at=now, **values))
