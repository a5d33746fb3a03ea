"""Campaign totals projected from payments' events: the succeeded donations, refunds and
matches of a campaign, applied to its row in the handler's transaction.

Each function expects the campaign row locked (so effects on one campaign queue) and the
event claimed in the inbox (so each event counts once). Apart from that, none assumes an
order: a refund or a match may be handled before the donation it concerns, as happens when
several instances consume at once or a failed delivery is retried, and the totals end the
same. The rules of what counts live in :mod:`campaigns.domain.totals`."""
import logging

from sqlalchemy import func, or_, select, update

from campaigns.domain.totals import backers_delta, match_counted, refunded_after
from campaigns.models import Contribution, Match, Reward, RewardReservation

log = logging.getLogger(__name__)


def donation_succeeded(session, campaign, data):
    session.execute(
        update(RewardReservation)
        .where(RewardReservation.donation_id == data["donation_id"])
        .where(RewardReservation.status == "held")
        .values(status="confirmed")
    )
    if session.get(Contribution, data["donation_id"]) is not None:
        return  # a refund of it arrived first and recorded the gift from its own data
    _retake_lapsed_hold(session, data["donation_id"])
    _add_contribution(session, campaign, data, captured=data["amount"], refunded=0)


def _retake_lapsed_hold(session, donation_id):
    """The charge succeeded after its hold expired (a slow 3-D Secure): take the unit again
    if one is left. If none is, the gift stands without its reward, and people must settle
    it with the donor; it is never an extra unit beyond ``quantity``."""
    reservation = session.get(RewardReservation, donation_id)
    if reservation is None or reservation.status != "released":
        return
    taken = session.execute(
        update(Reward)
        .where(Reward.id == reservation.reward_id)
        .where(or_(Reward.quantity.is_(None), Reward.taken < Reward.quantity))
        .values(taken=Reward.taken + 1)
    ).rowcount
    if taken:
        reservation.status = "confirmed"
    else:
        log.warning("donation %s succeeded after its reward hold lapsed and the reward sold out",
                    donation_id)


def donation_refunded(session, campaign, data):
    contribution = session.get(Contribution, data["donation_id"])
    if contribution is None:
        contribution = _add_contribution(session, campaign, data, captured=data["captured_amount"],
                                         refunded=_refunded_total(data, 0))
        if contribution.refunded_amount >= contribution.captured_amount:
            release_reward(session, contribution.donation_id, statuses=("held", "confirmed"))
        return
    refunded = refunded_after(contribution.captured_amount, contribution.refunded_amount,
                              _refunded_total(data, contribution.refunded_amount))
    change = contribution.refunded_amount - refunded  # ≤ 0
    before = backer_net(session, campaign.id, contribution.backer_ref)
    contribution.refunded_amount = refunded
    campaign.raised_amount += change
    campaign.backers_count += backers_delta(before, before + change)
    if refunded >= contribution.captured_amount:
        # A gift given back in full earns no reward: its unit is free for another backer.
        release_reward(session, contribution.donation_id, statuses=("held", "confirmed"))


def release_reward(session, donation_id, statuses=("held",), expired_by=None):
    """Give a donation's reward unit back, once: the conditional UPDATE is the claim, so of
    concurrent releases (a failed charge, an expiry sweep, a refund) one takes effect. With
    ``expired_by``, only a hold that expired by then. Returns whether a unit came back."""
    statement = (
        update(RewardReservation)
        .where(RewardReservation.donation_id == donation_id, RewardReservation.status.in_(statuses))
        .values(status="released")
        .returning(RewardReservation.reward_id)
    )
    if expired_by is not None:
        statement = statement.where(RewardReservation.expires_at <= expired_by)
    reward_id = session.execute(statement).scalar_one_or_none()
    if reward_id is not None:
        session.execute(update(Reward).where(Reward.id == reward_id).values(taken=Reward.taken - 1))
    return reward_id is not None


def match_moved(session, campaign, data, released):
    key = (data["donation_id"], str(data.get("pool_id") or ""))
    match = session.get(Match, key)
    if match is None:
        match = Match(donation_id=key[0], pool_id=key[1], campaign_id=campaign.id,
                      applied_amount=0, released_amount=0)
        session.add(match)
    before = match_counted(match.applied_amount, match.released_amount)
    if released:
        match.released_amount += data["amount"]
    else:
        match.applied_amount += data["amount"]
    change = match_counted(match.applied_amount, match.released_amount) - before
    campaign.matched_amount += change
    campaign.raised_amount += change
    contribution = session.get(Contribution, key[0])
    if contribution is not None:
        contribution.matched_amount += change


def backer_net(session, campaign_id, backer_ref):
    return session.scalar(
        select(func.coalesce(func.sum(Contribution.captured_amount - Contribution.refunded_amount), 0))
        .where(Contribution.campaign_id == campaign_id, Contribution.backer_ref == backer_ref)
    )


def _add_contribution(session, campaign, data, captured, refunded):
    refunded = refunded_after(captured, 0, refunded)
    before = backer_net(session, campaign.id, data["backer_ref"])
    matched = sum(
        match_counted(applied, released)
        for applied, released in session.execute(
            select(Match.applied_amount, Match.released_amount).where(Match.donation_id == data["donation_id"])
        )
    )
    contribution = Contribution(
        donation_id=data["donation_id"], campaign_id=campaign.id, backer_ref=data["backer_ref"],
        captured_amount=captured, refunded_amount=refunded, matched_amount=matched,
    )
    session.add(contribution)
    net = captured - refunded
    campaign.raised_amount += net  # its matches, if any came first, are counted already
    campaign.backers_count += backers_delta(before, before + net)
    return contribution


def _refunded_total(data, refunded_before):
    """``refunded_total`` is the donation's running total; an event without it (an older
    payments) still carries this refund's ``amount``."""
    if data.get("refunded_total") is not None:
        return data["refunded_total"]
    return refunded_before + data["amount"]
