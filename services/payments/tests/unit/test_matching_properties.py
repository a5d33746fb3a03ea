"""Property-based: random sequences of pools opened, gifts, refunds, failed campaigns, payouts
and pool expiries never break patronage's books. The same machine as the book's, plus pools."""
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

import importlib.util
from pathlib import Path

from payments.domain import ledger, matching

_spec = importlib.util.spec_from_file_location("payments_book_properties",
                                               Path(__file__).with_name("test_book_properties.py"))
_book = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_book)
BookMachine, CAMPAIGNS = _book.BookMachine, _book.CAMPAIGNS

META = {"c1": ("technology", "KZ-71"), "c2": ("culture", "KZ-75"), "c3": ("culture", "KZ-71")}


class PatronageMachine(BookMachine):
    @rule(pool=st.sampled_from(["p1", "p2", "p3"]), budget=st.integers(1, 60_000), ratio=st.integers(1, 3),
          cap_per_donation=st.integers(1, 30_000), cap_per_campaign=st.integers(1, 50_000),
          categories=st.sampled_from([(), ("culture",), ("technology",)]),
          regions=st.sampled_from([(), ("KZ-71",)]), lifetime=st.integers(1, 6))
    def open_pool(self, pool, budget, ratio, cap_per_donation, cap_per_campaign, categories, regions, lifetime):
        self.book.campaign_meta.update(META)
        charges = dict(self.book.provider_charges)
        self.book.open_pool(pool, budget, ratio, cap_per_donation, cap_per_campaign, categories, regions, lifetime)
        if f"pool:{pool}" in charges:  # opened before: nothing charged again
            assert self.book.provider_charges == charges

    @rule(ticks=st.integers(0, 4))
    def time_passes_and_the_sweep_runs(self, ticks):
        self.book.advance(ticks)
        self.book.expire_pools()
        returns = dict(self.book.pool_returns)
        self.book.expire_pools()  # a second instance sweeping at once changes nothing
        assert self.book.pool_returns == returns
        for pool in self.book.pools.values():
            if pool.expires_at <= self.book.now:
                assert pool.status == matching.EXPIRED and pool.remaining_amount == 0

    @invariant()
    def remaining_is_budget_less_matched_plus_released_less_returned_and_never_negative(self):
        for pool in self.book.pools.values():
            matches = [m for m in self.book.matches.values() if m.pool_id == pool.id]
            applied = sum(m.amount for m in matches)
            released = sum(m.released_amount for m in matches)
            returned = sum(a for p, a in self.book.pool_returns.values() if p == pool.id)
            assert pool.remaining_amount == pool.budget_amount - applied + released - returned >= 0
            assert pool.matched_amount == applied - released
            assert pool.returned_amount == returned
            # the pool's account holds exactly what it still owes
            assert self.book.pool_balance(pool.id) == -pool.remaining_amount

    @invariant()
    def matched_total_equals_the_match_postings(self):
        for pool in self.book.pools.values():
            account = ledger.pool_account(pool.id)
            posted = sum(p.amount for kind, _, postings in self.book.journals.values()
                         if kind in (ledger.MATCH, ledger.MATCH_RELEASED) for p in postings if p.account == account)
            assert posted == pool.matched_amount

    @invariant()
    def caps_are_never_exceeded(self):
        for match in self.book.matches.values():
            pool = self.book.pools[match.pool_id]
            donation = self.book.donations[match.donation_id]
            assert 0 < match.amount <= min(pool.cap_per_donation, donation.captured_amount * pool.ratio)
            assert 0 <= match.released_amount <= match.amount
        for pool in self.book.pools.values():
            for campaign in CAMPAIGNS:
                assert self.book.matched_for(pool.id, campaign) <= pool.cap_per_campaign

    @invariant()
    def a_wholly_refunded_gift_keeps_no_match(self):
        for match in self.book.matches.values():
            donation = self.book.donations[match.donation_id]
            if donation.refunded_amount == donation.captured_amount:
                assert match.released_amount == match.amount

    @invariant()
    def pools_match_only_what_fits_them(self):
        for match in self.book.matches.values():
            pool = self.book.pools[match.pool_id]
            category, region = META[match.campaign_id]
            assert matching.fits(pool.categories, pool.regions, category, region)


PatronageMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None,
                                              suppress_health_check=[HealthCheck.too_slow])
test_patronage_properties = PatronageMachine.TestCase
