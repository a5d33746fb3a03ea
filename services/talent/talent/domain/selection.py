"""Selection (contract §6): rank by mean score, offer the top seats within the regional quota,
waitlist the rest in rank order.

The quota binds the first round only: seats the quota left empty are then filled in rank
order whatever the region, and a seat freed later goes to the first waitlisted.
"""
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Candidate:
    application_id: str
    region: str
    submitted_at: datetime
    scores: tuple = field(default_factory=tuple)

    @property
    def mean_score(self):
        return sum(self.scores) / len(self.scores) if self.scores else None


@dataclass(frozen=True)
class Selection:
    offered: tuple  # application ids, best first
    waitlisted: tuple  # application ids in waitlist order (position 1 first)
    ranking: tuple  # every application id, best first


def rank(candidates):
    """Best mean first (unscored last); ties: earlier application first, then id."""
    def key(c):
        mean = c.mean_score
        return (mean is None, -(mean or 0), c.submitted_at, c.application_id)

    return sorted(candidates, key=key)


def select(candidates, seats, regional_quota=None):
    ranked = rank(candidates)
    offered, skipped, per_region = [], [], {}
    for candidate in ranked:  # first round: the quota binds
        if len(offered) >= seats:
            skipped.append(candidate)
        elif regional_quota is not None and per_region.get(candidate.region, 0) >= regional_quota:
            skipped.append(candidate)
        else:
            offered.append(candidate)
            per_region[candidate.region] = per_region.get(candidate.region, 0) + 1
    # Second round: seats the quota left empty go in rank order, whatever the region.
    free = seats - len(offered)
    offered.extend(skipped[:free])
    waitlisted = skipped[free:] if free > 0 else skipped
    offered_ids = {c.application_id for c in offered}
    return Selection(
        offered=tuple(c.application_id for c in ranked if c.application_id in offered_ids),
        waitlisted=tuple(c.application_id for c in waitlisted),
        ranking=tuple(c.application_id for c in ranked),
    )


def seats_to_fill(seats, enrolled, offered):
    """How many waitlisted applicants to promote now: never more than the free seats."""
    return max(seats - enrolled - offered, 0)
