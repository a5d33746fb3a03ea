"""The moderation history of a campaign: every transition, oldest first, for its owner and staff."""
import pytest

from demeu_common.errors import NotFound

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}
ADMIN = {"user_id": "admin-1", "roles": ["admin"]}
STRANGER = {"user_id": "stranger", "roles": []}


def steps(history):
    return [(e["action"], e["from_status"], e["to_status"], e["actor_id"], e["reason"]) for e in history["items"]]


def test_history_records_each_transition_in_order_with_who_and_why(campaigns, rpc_client, body):
    rpc = rpc_client.campaigns
    rejected = rpc.create_campaign(OWNER, body())
    rpc.submit(OWNER, rejected["id"])
    rpc.reject(MODERATOR, rejected["id"], {"reason": "Add a budget to the story."})
    history = rpc.moderation_history(OWNER, rejected["id"])
    assert steps(history) == [
        ("submit", "draft", "pending_review", "owner-1", None),
        ("reject", "pending_review", "rejected", "mod-1", "Add a budget to the story."),
    ]
    assert history["next_cursor"] is None and all(e["at"].endswith("Z") for e in history["items"])

    closed = rpc.create_campaign(OWNER, body())
    rpc.submit(OWNER, closed["id"])
    rpc.approve(MODERATOR, closed["id"])
    rpc.close(ADMIN, closed["id"])
    assert steps(rpc.moderation_history(MODERATOR, closed["id"])) == [
        ("submit", "draft", "pending_review", "owner-1", None),
        ("approve", "pending_review", "live", "mod-1", None),
        ("close", "live", "failed", "admin-1", None),
    ]


def test_refused_transitions_leave_no_trace(campaigns, rpc_client, body):
    rpc = rpc_client.campaigns
    created = rpc.create_campaign(OWNER, body())
    for attempt in (lambda: rpc.approve(MODERATOR, created["id"]), lambda: rpc.approve(OWNER, created["id"]),
                    lambda: rpc.close(ADMIN, created["id"])):
        with pytest.raises(Exception):
            attempt()
    assert rpc.moderation_history(OWNER, created["id"])["items"] == []


def test_history_is_for_the_owner_and_staff_only_even_of_a_live_campaign(campaigns, rpc_client, live_campaign):
    live = live_campaign()
    for actor in (OWNER, MODERATOR, ADMIN):
        assert len(rpc_client.campaigns.moderation_history(actor, live["id"])["items"]) == 2
    for actor in (STRANGER, None):
        with pytest.raises(NotFound):
            rpc_client.campaigns.moderation_history(actor, live["id"])
    with pytest.raises(NotFound):
        rpc_client.campaigns.moderation_history(OWNER, "00000000-0000-4000-8000-000000000000")
