"""The campaigns service: Nameko entrypoints only. Each validates, applies the rules of
:mod:`campaigns.domain` inside one unit of work (rows + outbox event), and returns."""
import logging
import uuid
from datetime import timedelta

from sqlalchemy import case, func, or_, select, update

from demeu_common.clock import Clock, as_utc
from demeu_common.db import Database
from demeu_common.entrypoints import event_handler, rpc, sweep
from demeu_common.errors import NotFound
from demeu_common.health import HealthRpc
from demeu_common.ids import is_uuid
from demeu_common.inbox import Inbox
from demeu_common.outbox import Outbox
from demeu_common.pagination import newest_first_page
from demeu_common.schemas import load
from demeu_common.logs import RequestContext

from campaigns import events, projection
from campaigns.domain import lifecycle, rewards as reward_rules
from campaigns.domain.lifecycle import Actor
from campaigns.models import (
    Base, Campaign, Contribution, ModerationEntry, OutboxRecord, ProcessedEvent, Reward,
    RewardReservation,
)
from campaigns.schemas import (
    CreateCampaignSchema, RejectSchema, UpdateCampaignSchema, campaign_view, moderation_view,
)

RESERVATION_HOLD = timedelta(minutes=15)
DEADLINE_SWEEP_SECONDS = 5  # default; config DEADLINE_SWEEP_SECONDS overrides
SWEEP_BATCH = 200

log = logging.getLogger(__name__)


class CampaignsService(HealthRpc):
    name = "campaigns"
    request_context = RequestContext()  # request ids in log lines

    db = Database(Base)
    outbox = Outbox(OutboxRecord)
    inbox = Inbox(ProcessedEvent)
    clock = Clock()

    # --- owners ---------------------------------------------------------------------------

    @rpc
    def create_campaign(self, actor, body):
        actor = Actor.from_wire(actor)
        data = load(CreateCampaignSchema, body)
        now = self.clock.now()
        campaign = Campaign(
            id=str(uuid.uuid4()),
            owner_id=actor.user_id,
            status=lifecycle.DRAFT,
            created_at=now,
            updated_at=now,
            raised_amount=0,
            matched_amount=0,
            backers_count=0,
        )
        _apply_fields(campaign, data)
        with self.db.get_session() as session:
            session.add(campaign)
        return campaign_view(campaign)

    @rpc
    def update_campaign(self, actor, campaign_id, body):
        actor = Actor.from_wire(actor)
        with self.db.get_session() as session:
            campaign = self._visible(session, actor, campaign_id, for_update=True)
            lifecycle.ensure_editable(actor, campaign.status, campaign.owner_id)
            changes = load(UpdateCampaignSchema, body, partial=True)
            merged = {**_editable_fields(campaign), **changes}
            merged_for_check = {k: (str(v) if k == "program_id" and v else v) for k, v in merged.items()}
            data = load(CreateCampaignSchema, merged_for_check)
            _apply_fields(campaign, data, rewards="rewards" in changes)
            campaign.updated_at = self.clock.now()
            return campaign_view(campaign)

    @rpc
    def get_campaign(self, actor, campaign_id):
        actor = Actor.from_wire(actor)
        with self.db.get_session() as session:
            return campaign_view(self._visible(session, actor, campaign_id))

    @rpc
    def list_campaigns(self, actor, filters=None, limit=20, cursor=None):
        actor = Actor.from_wire(actor)
        filters = filters or {}
        query = select(Campaign)
        statuses = [filters["status"]] if filters.get("status") else None
        if filters.get("owner") == "me":
            query = query.where(Campaign.owner_id == actor.user_id)
            if statuses:
                query = query.where(Campaign.status.in_(statuses))
        elif actor.is_staff:
            if statuses:
                query = query.where(Campaign.status.in_(statuses))
        else:
            visible = sorted(lifecycle.PUBLIC_STATUSES & set(statuses or lifecycle.PUBLIC_STATUSES))
            query = query.where(Campaign.status.in_(visible))
        if filters.get("category"):
            query = query.where(Campaign.category == filters["category"])
        if filters.get("region"):
            query = query.where(Campaign.region == filters["region"])
        if filters.get("q"):
            pattern = f"%{_escape_like(filters['q'].lower())}%"
            query = query.where(
                or_(func.lower(Campaign.title).like(pattern, escape="\\"),
                    func.lower(Campaign.summary).like(pattern, escape="\\"))
            )
        with self.db.get_session() as session:
            return newest_first_page(session, query, Campaign.created_at, Campaign.id, limit, cursor,
                                     campaign_view)

    @rpc
    def raised_amounts(self, campaign_ids):
        """``{campaign_id: raised_amount}``, for payments' ledger check."""
        with self.db.get_session() as session:
            rows = session.execute(
                select(Campaign.id, Campaign.raised_amount).where(Campaign.id.in_(list(campaign_ids)))
            ).all()
            return {campaign_id: raised for campaign_id, raised in rows}

    @rpc
    def region_stats(self):
        """``{region: {"campaigns_live", "raised_amount", "donations_count"}}`` over public
        campaigns, for the analytics page (contract §9)."""
        public = Campaign.status.in_(sorted(lifecycle.PUBLIC_STATUSES))
        with self.db.get_session() as session:
            totals = session.execute(
                select(Campaign.region,
                       func.sum(case((Campaign.status == lifecycle.LIVE, 1), else_=0)),
                       func.coalesce(func.sum(Campaign.raised_amount), 0))
                .where(public).group_by(Campaign.region)
            ).all()
            donations = dict(session.execute(
                select(Campaign.region, func.count(Contribution.donation_id))
                .join(Contribution, Contribution.campaign_id == Campaign.id)
                .where(public).group_by(Campaign.region)
            ).all())
        return {
            region: {"campaigns_live": int(live or 0), "raised_amount": int(raised or 0),
                     "donations_count": int(donations.get(region, 0))}
            for region, live, raised in totals
        }

    @rpc
    def moderation_history(self, actor, campaign_id):
        actor = Actor.from_wire(actor)
        with self.db.get_session() as session:
            campaign = self._visible(session, actor, campaign_id)
            if actor.user_id != campaign.owner_id and not actor.is_staff:
                raise NotFound("No such campaign.", code="campaign_not_found")
            entries = session.scalars(
                select(ModerationEntry)
                .where(ModerationEntry.campaign_id == campaign_id)
                .order_by(ModerationEntry.id)
            ).all()
            return {"items": [moderation_view(e) for e in entries], "next_cursor": None}

    # --- lifecycle ------------------------------------------------------------------------

    @rpc
    def submit(self, actor, campaign_id):
        return self._transition("submit", actor, campaign_id)

    @rpc
    def approve(self, actor, campaign_id):
        return self._transition("approve", actor, campaign_id)

    @rpc
    def reject(self, actor, campaign_id, body):
        reason = load(RejectSchema, body)["reason"]
        return self._transition("reject", actor, campaign_id, reason=reason)

    @rpc
    def close(self, actor, campaign_id):
        return self._transition("close", actor, campaign_id)

    def _transition(self, action, actor, campaign_id, reason=None):
        actor = Actor.from_wire(actor)
        with self.db.get_session() as session:
            campaign = self._visible(session, actor, campaign_id, for_update=True)
            self._apply(session, campaign, action, actor, self.clock.now(), reason)
            return campaign_view(campaign)

    def _apply(self, session, campaign, action, actor, now, reason=None):
        """Move a locked campaign by ``action``: its row, its moderation entry and its event,
        in the caller's transaction. The one path for people and for the deadline sweep."""
        lifecycle.authorize(action, actor, campaign.owner_id)
        before = campaign.status
        campaign.status = lifecycle.next_status(
            action, before,
            funding_model=campaign.funding_model,
            raised_amount=campaign.raised_amount,
            goal_amount=campaign.goal_amount,
        )
        if action == "approve":
            campaign.starts_at, campaign.ends_at = lifecycle.live_window(now, campaign.duration_days)
        campaign.updated_at = now
        session.add(ModerationEntry(
            campaign_id=campaign.id, actor_id=actor.user_id, action=action,
            from_status=before, to_status=campaign.status, reason=reason, at=now,
        ))
        event_type = events.BY_ACTION.get(action) or events.BY_OUTCOME[campaign.status]
        self.outbox.record(
            session, event_type,
            events.campaign_payload(campaign, **({"reason": reason} if action == "reject" else {})),
            subject=campaign.id,
        )

    # --- deadlines --------------------------------------------------------------------------

    @sweep("DEADLINE_SWEEP_SECONDS", DEADLINE_SWEEP_SECONDS)
    def sweep_deadlines(self):
        """Close every live campaign whose ``ends_at`` has come and release reward holds that
        expired. Every instance runs this; each campaign and each hold is claimed by one
        conditional UPDATE, so whichever instance claims it acts, once."""
        now = self.clock.now()
        for campaign_id in self._due_campaigns(now):
            try:
                with self.db.get_session() as session:
                    campaign = _claim_due(session, campaign_id, now)
                    if campaign is not None:
                        self._apply(session, campaign, "close", lifecycle.SYSTEM, now,
                                    reason=lifecycle.DEADLINE_REASON)
            except Exception:  # one bad row must not keep the others open; retried next tick
                log.exception("could not close campaign %s at its deadline", campaign_id)
        for donation_id in self._expired_holds(now):
            with self.db.get_session() as session:
                projection.release_reward(session, donation_id, expired_by=now)

    def _due_campaigns(self, now):
        with self.db.get_session() as session:
            return session.scalars(
                select(Campaign.id)
                .where(Campaign.status == lifecycle.LIVE, Campaign.ends_at <= now)
                .order_by(Campaign.ends_at, Campaign.id)
                .limit(SWEEP_BATCH)
            ).all()

    def _expired_holds(self, now):
        with self.db.get_session() as session:
            return session.scalars(
                select(RewardReservation.donation_id)
                .where(RewardReservation.status == "held", RewardReservation.expires_at <= now)
                .order_by(RewardReservation.expires_at)
                .limit(SWEEP_BATCH)
            ).all()

    # --- donations (called by payments) -----------------------------------------------------

    @rpc
    def prepare_donation(self, campaign_id, donation_id, amount, reward_id=None, actor=None):
        """Check that the campaign takes this gift and hold a reward unit for it.

        Called by payments before it charges the card; the hold is confirmed by
        ``donation.succeeded`` and released by ``donation.failed`` (or by expiry)."""
        actor = Actor.from_wire(actor)
        now = self.clock.now()
        with self.db.get_session() as session:
            campaign = self._visible(session, actor, campaign_id)
            lifecycle.ensure_accepts_donations(campaign.status, as_utc(campaign.ends_at), now)
            if reward_id:
                reward = session.get(Reward, reward_id)
                if reward is not None and reward.campaign_id != campaign.id:
                    reward = None
                reward_rules.ensure_reward_fits(reward, amount)
                existing = session.get(RewardReservation, donation_id)
                if existing is None:
                    # One conditional UPDATE: concurrent donations can never take more units
                    # than exist, on PostgreSQL and SQLite alike.
                    taken = session.execute(
                        update(Reward)
                        .where(Reward.id == reward.id)
                        .where(or_(Reward.quantity.is_(None), Reward.taken < Reward.quantity))
                        .values(taken=Reward.taken + 1)
                    ).rowcount
                    if not taken:
                        raise reward_rules.sold_out()
                    session.add(RewardReservation(
                        donation_id=donation_id, reward_id=reward.id, status="held",
                        expires_at=now + RESERVATION_HOLD,
                    ))
            # What payments needs to keep with the gift: the campaign as its events describe it.
            return events.campaign_payload(campaign)

    @rpc
    def release_reservation(self, donation_id):
        with self.db.get_session() as session:
            return projection.release_reward(session, donation_id)

    @event_handler("payments", "donation.failed")
    def on_donation_failed(self, event):
        with self.db.get_session() as session:
            if self.inbox.claim(session, event):
                projection.release_reward(session, event["data"]["donation_id"])

    @event_handler("payments", "donation.succeeded")
    def on_donation_succeeded(self, event):
        self._project(event, projection.donation_succeeded)

    @event_handler("payments", "donation.refunded")
    def on_donation_refunded(self, event):
        self._project(event, projection.donation_refunded)

    @event_handler("payments", "match.applied")
    def on_match_applied(self, event):
        self._project(event, projection.match_moved, released=False)

    @event_handler("payments", "match.released")
    def on_match_released(self, event):
        self._project(event, projection.match_moved, released=True)

    def _project(self, event, apply, **options):
        """Apply one of payments' money events to its campaign's totals, once."""
        data = event["data"]
        with self.db.get_session() as session:
            if not self.inbox.claim(session, event):
                return
            campaign = _lock_campaign(session, data.get("campaign_id"))
            if campaign is None:
                return
            apply(session, campaign, data, **options)

    # --- helpers --------------------------------------------------------------------------

    def _visible(self, session, actor, campaign_id, for_update=False):
        campaign = _lock_campaign(session, campaign_id) if for_update else _get_campaign(session, campaign_id)
        if campaign is None:
            raise NotFound("No such campaign.", code="campaign_not_found")
        lifecycle.ensure_visible(actor, campaign.status, campaign.owner_id)
        return campaign


def _get_campaign(session, campaign_id):
    if not is_uuid(campaign_id):
        return None
    return session.get(Campaign, campaign_id)


def _lock_campaign(session, campaign_id):
    if not is_uuid(campaign_id):
        return None
    return session.scalars(
        select(Campaign).where(Campaign.id == campaign_id).with_for_update()
    ).one_or_none()


def _claim_due(session, campaign_id, now):
    """Take a due campaign for closing: the conditional UPDATE locks the row (PostgreSQL) or
    the database (SQLite) and matches only while it is still live, so of several sweeping
    instances exactly one gets it. Returns the campaign, or None when another had it."""
    claimed = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status == lifecycle.LIVE, Campaign.ends_at <= now)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return None
    return session.get(Campaign, campaign_id, populate_existing=True)


def _apply_fields(campaign, data, rewards=True):
    for field in ("title", "summary", "story", "category", "region", "funding_model",
                  "goal_amount", "currency", "duration_days", "seat_cost_amount"):
        if field in data:
            setattr(campaign, field, data[field])
    campaign.program_id = str(data["program_id"]) if data.get("program_id") else None
    if rewards:
        campaign.rewards = [
            Reward(id=str(uuid.uuid4()), position=index, title=r["title"],
                   description=r.get("description"), min_amount=r["min_amount"],
                   quantity=r.get("quantity"), taken=0)
            for index, r in enumerate(data.get("rewards") or [])
        ]


def _editable_fields(campaign):
    return {
        "title": campaign.title, "summary": campaign.summary, "story": campaign.story,
        "category": campaign.category, "region": campaign.region,
        "funding_model": campaign.funding_model, "goal_amount": campaign.goal_amount,
        "currency": campaign.currency, "duration_days": campaign.duration_days,
        "program_id": campaign.program_id, "seat_cost_amount": campaign.seat_cost_amount,
        "rewards": [
            {"title": r.title, "description": r.description, "min_amount": r.min_amount,
             "quantity": r.quantity}
            for r in campaign.rewards
        ],
    }


def _escape_like(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

