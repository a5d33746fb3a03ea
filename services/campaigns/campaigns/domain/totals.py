"""How a campaign's public totals follow from its contributions (contract §3)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Totals:
    raised_amount: int
    matched_amount: int
    backers_count: int


def totals(contributions):
    """``contributions``: iterable of (backer_ref, captured, refunded, matched).

    raised = succeeded donations less refunds, matched money included; backers = distinct
    donors with a succeeded donation not wholly refunded."""
    raised = matched = 0
    backers = set()
    for backer_ref, captured, refunded, matched_part in contributions:
        net = captured - refunded
        raised += net + matched_part
        matched += matched_part
        if net > 0:
            backers.add(backer_ref)
    return Totals(raised, matched, len(backers))


def backers_delta(backer_net_before, backer_net_after):
    """Change in ``backers_count`` when one backer's net giving moves from before to after."""
    return int(backer_net_after > 0) - int(backer_net_before > 0)


def refunded_after(captured, refunded_before, refunded_total):
    """What is refunded of a donation once a refund event says ``refunded_total``.

    Refund events carry the donation's running total, so the largest one seen is the truth
    whatever order they arrive in; it never exceeds what was captured."""
    return min(captured, max(refunded_before, refunded_total))


def match_counted(applied, released):
    """The part of a pool's match on a donation that still counts toward raised."""
    return max(applied - released, 0)
