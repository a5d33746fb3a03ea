from campaigns.domain.totals import match_counted, refunded_after


def test_refund_total_is_the_largest_running_total_seen():
    assert refunded_after(70_000, 0, 20_000) == 20_000
    assert refunded_after(70_000, 50_000, 20_000) == 50_000  # an older total arrived late


def test_refund_never_exceeds_captured():
    assert refunded_after(70_000, 0, 90_000) == 70_000


def test_released_match_counts_for_nothing_even_before_it_was_applied():
    assert match_counted(0, 60_000) == 0
    assert match_counted(60_000, 60_000) == 0
    assert match_counted(100_000, 40_000) == 60_000
