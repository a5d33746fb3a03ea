import pytest

from demeu_common.errors import Forbidden, InvalidTransition, NotFound
from campaigns.domain import lifecycle
from campaigns.domain.lifecycle import Actor
from campaigns.domain.totals import backers_delta, totals

OWNER = Actor("owner-1")
STRANGER = Actor("someone-else")
MODERATOR = Actor("mod-1", frozenset({"moderator"}))
ADMIN = Actor("admin-1", frozenset({"admin"}))


def test_draft_goes_to_review_then_live_or_rejected():
    assert lifecycle.next_status("submit", "draft") == "pending_review"
    assert lifecycle.next_status("approve", "pending_review") == "live"
    assert lifecycle.next_status("reject", "pending_review") == "rejected"


@pytest.mark.parametrize("action,status", [
    ("approve", "draft"), ("submit", "live"), ("reject", "live"), ("close", "pending_review"),
    ("close", "succeeded"), ("submit", "rejected"), ("approve", "failed"),
])
def test_illegal_transitions_are_refused_with_invalid_transition(action, status):
    with pytest.raises(InvalidTransition) as error:
        lifecycle.next_status(action, status)
    assert error.value.code == "invalid_transition" and error.value.status == 409


def test_all_or_nothing_succeeds_only_at_goal_counting_matches():
    assert lifecycle.closing_status("all_or_nothing", 999, 1000) == "failed"
    assert lifecycle.closing_status("all_or_nothing", 1000, 1000) == "succeeded"
    assert lifecycle.closing_status("keep_it_all", 1, 1000) == "succeeded"


def test_only_owner_submits_and_only_moderators_approve():
    lifecycle.authorize("submit", OWNER, "owner-1")
    with pytest.raises(Forbidden):
        lifecycle.authorize("submit", STRANGER, "owner-1")
    lifecycle.authorize("approve", MODERATOR, "owner-1")
    lifecycle.authorize("approve", ADMIN, "owner-1")
    with pytest.raises(Forbidden):
        lifecycle.authorize("approve", OWNER, "owner-1")
    with pytest.raises(Forbidden):
        lifecycle.authorize("close", MODERATOR, "owner-1")


def test_unpublished_campaigns_are_invisible_to_strangers():
    for status in ("draft", "pending_review", "rejected"):
        with pytest.raises(NotFound):
            lifecycle.ensure_visible(STRANGER, status, "owner-1")
        lifecycle.ensure_visible(OWNER, status, "owner-1")
        lifecycle.ensure_visible(MODERATOR, status, "owner-1")
    for status in ("live", "succeeded", "failed"):
        lifecycle.ensure_visible(Actor(None), status, "owner-1")


def test_totals_count_refunds_matches_and_distinct_backers():
    result = totals([
        ("a", 1000, 0, 500),
        ("a", 200, 0, 0),
        ("b", 300, 300, 0),  # wholly refunded: not a backer
        ("c", 400, 100, 0),
    ])
    assert result.raised_amount == 1000 + 500 + 200 + 0 + 300
    assert result.matched_amount == 500
    assert result.backers_count == 2


def test_backers_delta_counts_a_backer_once():
    assert backers_delta(0, 100) == 1
    assert backers_delta(100, 200) == 0
    assert backers_delta(100, 0) == -1


def test_only_the_platform_itself_closes_at_the_deadline_not_a_user_named_system():
    lifecycle.authorize("close", lifecycle.SYSTEM, "owner-1")
    with pytest.raises(Forbidden):
        lifecycle.authorize("close", Actor.from_wire({"user_id": "system", "roles": []}), "owner-1")
    with pytest.raises(Forbidden):
        lifecycle.authorize("approve", lifecycle.SYSTEM, "owner-1")

