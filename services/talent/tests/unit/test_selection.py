"""Ranking, the first round's regional quota, and filling the rest in rank order."""
from datetime import datetime, timedelta, timezone

from talent.domain.selection import Candidate, rank, seats_to_fill, select

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def c(name, region, scores, minutes=0):
    return Candidate(name, region, T0 + timedelta(minutes=minutes), tuple(scores))


def test_ranks_by_mean_score_then_earlier_application():
    ranked = rank([c("late", "KZ-71", [8], 5), c("best", "KZ-75", [10, 9]),
                   c("early", "KZ-71", [7, 9], 1), c("low", "KZ-79", [2])])
    assert [x.application_id for x in ranked] == ["best", "early", "late", "low"]


def test_unscored_applications_rank_after_scored_ones():
    ranked = rank([c("unscored", "KZ-71", [], 0), c("zero", "KZ-71", [0], 9)])
    assert [x.application_id for x in ranked] == ["zero", "unscored"]


def test_without_quota_top_seats_are_offered_and_the_rest_waitlisted_in_rank_order():
    result = select([c("a", "KZ-71", [9]), c("b", "KZ-71", [8]), c("c", "KZ-71", [7]),
                     c("d", "KZ-75", [6])], seats=2)
    assert result.offered == ("a", "b") and result.waitlisted == ("c", "d")


def test_quota_skips_a_region_in_first_round_for_the_next_ranked_other_region():
    result = select([c("a1", "KZ-71", [10]), c("a2", "KZ-71", [9]), c("a3", "KZ-71", [8]),
                     c("b1", "KZ-75", [5]), c("c1", "KZ-79", [4])], seats=3, regional_quota=1)
    assert result.offered == ("a1", "b1", "c1")
    assert result.waitlisted == ("a2", "a3")


def test_seats_the_quota_leaves_empty_are_filled_in_rank_order_whatever_the_region():
    result = select([c("a1", "KZ-71", [10]), c("a2", "KZ-71", [9]), c("a3", "KZ-71", [8]),
                     c("b1", "KZ-75", [1])], seats=3, regional_quota=1)
    # first round: a1, b1; then the free seat goes to the best skipped, a2
    assert result.offered == ("a1", "a2", "b1")
    assert result.waitlisted == ("a3",)


def test_single_region_with_quota_still_fills_every_seat():
    result = select([c(f"a{i}", "KZ-71", [10 - i]) for i in range(5)], seats=3, regional_quota=1)
    assert result.offered == ("a0", "a1", "a2") and result.waitlisted == ("a3", "a4")


def test_quota_equal_to_seats_changes_nothing():
    candidates = [c(f"a{i}", "KZ-71", [10 - i]) for i in range(4)]
    assert select(candidates, seats=2, regional_quota=2) == select(candidates, seats=2)


def test_fewer_applicants_than_seats_offers_everyone_and_waitlists_no_one():
    result = select([c("a", "KZ-71", [3]), c("b", "KZ-71", [9])], seats=5, regional_quota=1)
    assert result.offered == ("b", "a") and result.waitlisted == ()
    assert select([], seats=3).offered == ()


def test_tied_means_offer_the_earlier_application_under_quota_too():
    result = select([c("later", "KZ-75", [8], 10), c("earlier", "KZ-75", [6, 10], 1),
                     c("other", "KZ-71", [1], 0)], seats=2, regional_quota=1)
    assert result.offered == ("earlier", "other") and result.waitlisted == ("later",)


def test_freed_seats_never_exceed_seats():
    assert seats_to_fill(3, enrolled=1, offered=1) == 1
    assert seats_to_fill(3, enrolled=3, offered=0) == 0
    assert seats_to_fill(3, enrolled=2, offered=2) == 0
