"""The payments service: Nameko entrypoints only. Money moves in one transaction with its
ledger postings, its public chain link, its outbox event and its idempotency answer."""
from nameko.dependency_providers import Config
from sqlalchemy import select

from demeu_common.clock import Clock
from demeu_common.db import Database
from demeu_common.entrypoints import rpc
from demeu_common.errors import DomainError, NotFound, ValidationFailed
from demeu_common.health import HealthRpc
from demeu_common.inbox import Inbox
from demeu_common.outbox import Outbox
from demeu_common.pagination import newest_first_page
from demeu_common.rpc import TimedRpcProxy
from demeu_common.schemas import load

from payments import bookkeeping, events, keys
from payments.dependencies import Provider
from payments.domain import idempotency, ledger
from payments.models import Base, ChainEntry, Donation, OutboxRecord, ProcessedEvent
from payments.providers import DECLINED, PENDING, SUCCEEDED
from payments.schemas import DonationRequestSchema, donation_view, public_donation_view

PAYMENT_DECLINED = DomainError("The card was declined; nothing was charged.",
                               code="payment_declined", status=402)


class PaymentsService(HealthRpc):
    name = "payments"

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

