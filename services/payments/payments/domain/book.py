"""An in-memory book of payments: the same rules as the service (``ledger`` postings and
chain, ``idempotency.decide``, refunds never over captured, one payout per campaign), with no
database or broker. The property-based tests drive it with random operations and check the
invariants after every step; it is also a readable summary of what the service does."""
from dataclasses import dataclass, field

from demeu_common.errors import Conflict, DomainError, NotFound

from payments.domain import idempotency, ledger, matching

AT = "2026-01-01T00:00:00Z"
REFUNDABLE = ("succeeded", "partially_refunded")


@dataclass
class BookDonation:
    id: str
    campaign_id: str
    amount: int
    status: str
    captured_amount: int = 0
    refunded_amount: int = 0


@dataclass
class BookPool:
    id: str
    budget_amount: int
    ratio: int
    cap_per_donation: int
    cap_per_campaign: int
    categories: tuple
    regions: tuple
    expires_at: int
    created: int  # creation order: pools match oldest first
    remaining_amount: int = 0
    matched_amount: int = 0
    returned_amount: int = 0
    status: str = matching.ACTIVE


@dataclass
class BookMatch:
    donation_id: str
    pool_id: str
    campaign_id: str
    amount: int
    released_amount: int = 0


@dataclass
class Book:
    fee_bps: int = 0
    journals: dict = field(default_factory=dict)        # reference -> (kind, campaign, [Posting])
    chains: dict = field(default_factory=dict)          # campaign -> [chain entry]
    donations: dict = field(default_factory=dict)       # id -> BookDonation
    keys: dict = field(default_factory=dict)            # (user, key) -> (fingerprint, answer)
    provider_charges: dict = field(default_factory=dict)  # reference -> number of charges made
    provider_refunds: dict = field(default_factory=dict)  # reference -> (donation id, amount)
    processed_events: set = field(default_factory=set)
    failed_campaigns: set = field(default_factory=set)
    paid_out_campaigns: set = field(default_factory=set)
    pools: dict = field(default_factory=dict)           # id -> BookPool
    matches: dict = field(default_factory=dict)         # (donation id, pool id) -> BookMatch
    pool_returns: dict = field(default_factory=dict)    # reference -> (pool id, amount)
    campaign_meta: dict = field(default_factory=dict)   # campaign -> (category, region)
    now: int = 0                                        # ticks of a clock tests move

    # --- operations ---------------------------------------------------------------------------

    def donate(self, user, key, campaign_id, amount, token="tok_success"):
        body = {"amount": amount, "token": token}
        fingerprint = idempotency.fingerprint("donate", campaign_id, body)
        known = self.keys.get((user, key))
        if known is not None:
            decision = idempotency.decide(known[0], "completed", None, known[1], fingerprint, None)
            return decision.replay
        if campaign_id in self.failed_campaigns or campaign_id in self.paid_out_campaigns:
            raise Conflict("The campaign has ended.", code="campaign_not_live")
        donation_id = f"{user}:{key}"
        if token == "tok_decline":
            self.donations[donation_id] = BookDonation(donation_id, campaign_id, amount, "failed")
            answer = {"status": 402, "body": {"code": "payment_declined"}}
        else:
            self.provider_charges[donation_id] = self.provider_charges.get(donation_id, 0) + 1
            donation = BookDonation(donation_id, campaign_id, amount, "succeeded", captured_amount=amount)
            self.donations[donation_id] = donation
            self._post(f"donation:{donation_id}", ledger.DONATION, campaign_id,
                       ledger.donation_captured(campaign_id, amount), amount, donation_id)
            self._apply_matches(donation)
            answer = {"status": 201, "body": {"id": donation_id, "status": "succeeded"}}
        self.keys[(user, key)] = (fingerprint, answer)
        return answer

    def refund(self, donation_id, amount, reference):
        """Refund ``amount`` (None: all that is left) once per ``reference``."""
        if reference in self.provider_refunds:
            return self.donations[donation_id]
        donation = self.donations.get(donation_id)
        if donation is None:
            raise NotFound("No such donation.", code="donation_not_found")
        if donation.status not in REFUNDABLE:
            raise Conflict("Not refundable.", code="donation_not_refundable")
        if f"payout:{donation.campaign_id}" in self.journals:
            raise Conflict("Paid out.", code="campaign_paid_out")
        remaining = donation.captured_amount - donation.refunded_amount
        amount = remaining if amount is None else amount
        if amount <= 0 or amount > remaining:
            raise DomainError("Too much.", code="refund_exceeds_captured", status=422)
        self.provider_refunds[reference] = (donation_id, amount)
        donation.refunded_amount += amount
        donation.status = "refunded" if donation.refunded_amount == donation.captured_amount else "partially_refunded"
        self._post(reference, ledger.REFUND, donation.campaign_id,
                   ledger.donation_refunded(donation.campaign_id, amount), -amount, donation_id)
        self._release_matches(donation, reference)
        return donation

    def campaign_failed(self, event_id, campaign_id):
        """The saga of a failed campaign; a redelivered event (same id) changes nothing."""
        if event_id in self.processed_events:
            return
        self.failed_campaigns.add(campaign_id)
        for donation in list(self.donations.values()):
            if donation.campaign_id == campaign_id and donation.status in REFUNDABLE:
                try:
                    self.refund(donation.id, None, f"auto-refund:{donation.id}")
                except DomainError:
                    pass
        self.processed_events.add(event_id)

    def payout(self, campaign_id):
        if campaign_id in self.failed_campaigns:
            raise Conflict("Not succeeded.", code="campaign_not_succeeded")
        if f"payout:{campaign_id}" in self.journals:
            raise Conflict("Paid out already.", code="payout_exists")
        amount = self.escrow_balance(campaign_id)
        if amount <= 0:
            raise Conflict("Nothing to pay out.", code="nothing_to_pay_out")
        fee = ledger.fee_for(amount, self.fee_bps)
        self.paid_out_campaigns.add(campaign_id)
        self._post(f"payout:{campaign_id}", ledger.PAYOUT, campaign_id, ledger.payout(campaign_id, amount, fee),
                   -(amount - fee), extra_links=((ledger.FEE, -fee),) if fee else ())
        return amount, fee

    # --- patronage -------------------------------------------------------------------------

    def open_pool(self, pool_id, budget, ratio, cap_per_donation, cap_per_campaign, categories=(), regions=(),
                  lifetime=10):
        """The budget is charged and posted to the pool's account (no campaign, no chain link)."""
        if pool_id in self.pools:
            return self.pools[pool_id]
        self.provider_charges[f"pool:{pool_id}"] = self.provider_charges.get(f"pool:{pool_id}", 0) + 1
        pool = BookPool(pool_id, budget, ratio, cap_per_donation, cap_per_campaign, tuple(categories),
                        tuple(regions), self.now + lifetime, len(self.pools), remaining_amount=budget)
        self.pools[pool_id] = pool
        self._post(f"pool:{pool_id}", ledger.POOL_BUDGET, None, ledger.pool_funded(pool_id, budget), 0)
        return pool

    def advance(self, ticks=1):
        self.now += ticks

    def expire_pools(self):
        """The sweep: what is left of every expired pool goes back to its patron, once."""
        for pool in sorted(self.pools.values(), key=lambda p: p.created):
            expiring = pool.status != matching.EXPIRED and pool.expires_at <= self.now
            leftover = pool.status == matching.EXPIRED and pool.remaining_amount > 0
            if not (expiring or leftover):
                continue
            amount = pool.remaining_amount
            returns_before = sum(1 for p, _ in self.pool_returns.values() if p == pool.id)
            pool.status, pool.remaining_amount = matching.EXPIRED, 0
            pool.returned_amount += amount
            if amount:
                reference = matching.expiry_reference(pool.id, returns_before)
                assert reference not in self.pool_returns
                self.pool_returns[reference] = (pool.id, amount)
                self._post(reference, ledger.POOL_RETURN, None, ledger.pool_returned(pool.id, amount), 0)

    def _apply_matches(self, donation):
        category, region = self.campaign_meta.get(donation.campaign_id, ("technology", "KZ-71"))
        for pool in sorted(self.pools.values(), key=lambda p: p.created):
            if not matching.is_open(pool.status, pool.expires_at, self.now):
                continue
            if not matching.fits(pool.categories, pool.regions, category, region):
                continue
            amount = matching.match_amount(donation.captured_amount, pool.ratio, pool.cap_per_donation,
                                           pool.cap_per_campaign, self.matched_for(pool.id, donation.campaign_id),
                                           pool.remaining_amount)
            if amount <= 0:
                continue
            pool.remaining_amount -= amount
            pool.matched_amount += amount
            self.matches[(donation.id, pool.id)] = BookMatch(donation.id, pool.id, donation.campaign_id, amount)
            self._post(f"match:{donation.id}:{pool.id}", ledger.MATCH, donation.campaign_id,
                       ledger.match_applied(donation.campaign_id, pool.id, amount), amount, donation.id)
            pool.status = matching.status_after(pool.remaining_amount, pool.status)

    def _release_matches(self, donation, refund_reference):
        for match in [m for m in self.matches.values() if m.donation_id == donation.id]:
            amount = matching.to_release(match.amount, match.released_amount, donation.refunded_amount,
                                         donation.captured_amount)
            if amount <= 0:
                continue
            pool = self.pools[match.pool_id]
            match.released_amount += amount
            pool.remaining_amount += amount
            pool.matched_amount -= amount
            pool.status = matching.status_after(pool.remaining_amount, pool.status)
            self._post(f"match-release:{refund_reference}:{pool.id}", ledger.MATCH_RELEASED, donation.campaign_id,
                       ledger.match_released(donation.campaign_id, pool.id, amount), -amount, donation.id)

    def matched_for(self, pool_id, campaign_id):
        return sum(m.amount - m.released_amount for m in self.matches.values()
                   if m.pool_id == pool_id and m.campaign_id == campaign_id)

    def pool_balance(self, pool_id):
        account = ledger.pool_account(pool_id)
        return sum(p.amount for p in self.postings() if p.account == account)

    # --- the books --------------------------------------------------------------------------

    def _post(self, reference, kind, campaign_id, postings, public_amount, donation_id=None, extra_links=()):
        if reference in self.journals:
            return
        self.journals[reference] = (kind, campaign_id, ledger.balanced(postings))
        if campaign_id is None:
            return  # a pool's own money: no campaign, no public chain link
        chain = self.chains.setdefault(campaign_id, [])
        for link_kind, amount in ((kind, public_amount), *extra_links):
            prev = chain[-1]["hash"] if chain else ledger.GENESIS_HASH
            chain.append(ledger.chain_entry(prev, len(chain) + 1, link_kind, amount, AT, donation_id))

    def postings(self):
        return [p for _, _, postings in self.journals.values() for p in postings]

    def escrow_balance(self, campaign_id):
        account = ledger.escrow(campaign_id)
        return -sum(p.amount for p in self.postings() if p.account == account)

    def raised_by_postings(self, campaign_id):
        account = ledger.escrow(campaign_id)
        return -sum(p.amount for kind, campaign, postings in self.journals.values()
                    if campaign == campaign_id and kind in ledger.RAISING_KINDS
                    for p in postings if p.account == account)

    def raised_by_donations(self, campaign_id):
        """Gifts less refunds, matched money included (as campaigns count it)."""
        return sum(d.captured_amount - d.refunded_amount for d in self.donations.values()
                   if d.campaign_id == campaign_id) + sum(
            m.amount - m.released_amount for m in self.matches.values() if m.campaign_id == campaign_id)
