"""Scholarships: seats that education campaigns have paid for (contract §6)."""


def raised(snapshot_amount, donated_amount):
    """What a campaign has raised, as far as talent knows.

    ``snapshot_amount`` is the ``raised_amount`` of the latest campaign.* event (matches and
    refunds included, but only as of that event); ``donated_amount`` sums the
    ``donation.succeeded`` events seen since. Neither alone is complete and they overlap, so
    the larger is the best lower bound that never counts a gift twice."""
    return max(snapshot_amount or 0, donated_amount or 0)


def funded_seats(campaigns):
    """``campaigns``: iterable of (raised_amount, seat_cost_amount, status)."""
    total = 0
    for raised_amount, seat_cost_amount, status in campaigns:
        if status in ("rejected", "failed") or not seat_cost_amount:
            continue
        total += raised_amount // seat_cost_amount
    return total
