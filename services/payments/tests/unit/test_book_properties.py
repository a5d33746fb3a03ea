"""Property-based: random sequences of donations, retries, declines, refunds, payouts and
redelivered events never break the books."""
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from demeu_common.errors import DomainError

from payments.domain import ledger
from payments.domain.book import Book

CAMPAIGNS = ("c1", "c2", "c3")
USERS = ("u1", "u2")
KEYS = tuple(f"k{i}" for i in range(6))
amounts = st.integers(min_value=1, max_value=50_000)


class BookMachine(RuleBasedStateMachine):
    @initialize(fee_bps=st.sampled_from([0, 250, 1_000]))
    def open_book(self, fee_bps):
        self.book = Book(fee_bps=fee_bps)
        self.event_ids = {}

    @rule(user=st.sampled_from(USERS), key=st.sampled_from(KEYS), campaign=st.sampled_from(CAMPAIGNS),
          amount=amounts, token=st.sampled_from(["tok_success", "tok_success", "tok_decline"]))
    def donate(self, user, key, campaign, amount, token):
        try:
            first = self.book.donate(user, key, campaign, amount, token)
        except DomainError as error:  # the key was used for another body
            assert error.code in {"idempotency_key_reused", "campaign_not_live"}
            return
        # retry-same-key: the very same answer, nothing charged again
        charges = dict(self.book.provider_charges)
        assert self.book.donate(user, key, campaign, amount, token) == first
        assert self.book.provider_charges == charges

    @rule(data=st.data(), part=st.one_of(st.none(), amounts), key=st.integers(0, 3))
    def refund(self, data, part, key):
        if not self.book.donations:
            return
        donation_id = data.draw(st.sampled_from(sorted(self.book.donations)))
        try:
            self.book.refund(donation_id, part, f"refund:{donation_id}:{key}")
        except DomainError as error:
            assert error.code in {"refund_exceeds_captured", "donation_not_refundable", "campaign_paid_out"}

    @rule(campaign=st.sampled_from(CAMPAIGNS))
    def payout(self, campaign):
        try:
            before = self.book.escrow_balance(campaign)
            amount, fee = self.book.payout(campaign)
            assert amount == before and 0 <= fee <= amount
        except DomainError as error:
            assert error.code in {"payout_exists", "nothing_to_pay_out", "campaign_not_succeeded"}

    @rule(campaign=st.sampled_from(CAMPAIGNS))
    def campaign_fails(self, campaign):
        if f"payout:{campaign}" in self.book.journals:
            return  # a paid-out campaign had succeeded; it cannot fail
        event_id = self.event_ids.setdefault(campaign, f"evt-{campaign}")
        self.book.campaign_failed(event_id, campaign)

    @rule(campaign=st.sampled_from(CAMPAIGNS))
    def failed_event_redelivered(self, campaign):
        if campaign not in self.event_ids:
            return
        journals = len(self.book.journals)
        self.book.campaign_failed(self.event_ids[campaign], campaign)
        assert len(self.book.journals) == journals

    @invariant()
    def postings_sum_to_zero(self):
        assert sum(p.amount for p in self.book.postings()) == 0
        for _, _, postings in self.book.journals.values():
            assert sum(p.amount for p in postings) == 0

    @invariant()
    def no_key_is_charged_twice(self):
        assert all(count == 1 for count in self.book.provider_charges.values())

    @invariant()
    def refunds_never_exceed_captured(self):
        for donation in self.book.donations.values():
            assert 0 <= donation.refunded_amount <= donation.captured_amount
            refunded = sum(a for d, a in self.book.provider_refunds.values() if d == donation.id)
            assert refunded == donation.refunded_amount

    @invariant()
    def payouts_never_exceed_escrow(self):
        for campaign in CAMPAIGNS:
            assert self.book.escrow_balance(campaign) >= 0

    @invariant()
    def every_campaign_total_equals_its_postings_and_chain(self):
        for campaign in CAMPAIGNS:
            chain = self.book.chains.get(campaign, [])
            assert ledger.verify_chain(chain) == []
            assert ledger.raised_from_chain(chain) == self.book.raised_by_postings(campaign) \
                == self.book.raised_by_donations(campaign)

    @invariant()
    def failed_campaigns_keep_nothing_and_paid_out_ones_owe_nothing(self):
        for campaign in self.book.failed_campaigns:
            assert self.book.raised_by_donations(campaign) == 0
            assert self.book.escrow_balance(campaign) == 0
        for campaign in self.book.paid_out_campaigns:
            assert self.book.escrow_balance(campaign) == 0


BookMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])
test_book_properties = BookMachine.TestCase
