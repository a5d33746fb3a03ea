"""Who may edit a campaign, when, and what a client can never set (contract §3)."""
import pytest

from demeu_common.errors import Conflict, Forbidden, NotFound, ValidationFailed

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}
ADMIN = {"user_id": "admin-1", "roles": ["admin"]}
STRANGER = {"user_id": "stranger", "roles": []}
FORGED = {"owner_id": "hacker", "status": "live", "raised_amount": 10**9, "matched_amount": 10**9,
          "backers_count": 99, "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z",
          "id": "00000000-0000-0000-0000-000000000000", "created_at": "2020-01-01T00:00:00Z"}


def test_fields_only_the_platform_sets_never_take_effect_on_create(campaigns, rpc_client, body):
    created = rpc_client.campaigns.create_campaign(OWNER, body(**FORGED))
    assert created["owner_id"] == "owner-1" and created["status"] == "draft"
    assert (created["raised_amount"], created["matched_amount"], created["backers_count"]) == (0, 0, 0)
    assert created["starts_at"] is None and created["ends_at"] is None
    assert created["id"] != FORGED["id"] and created["created_at"] != FORGED["created_at"]


def test_owner_edits_a_draft_and_forged_fields_are_ignored(campaigns, rpc_client, body):
    created = rpc_client.campaigns.create_campaign(OWNER, body())
    edited = rpc_client.campaigns.update_campaign(OWNER, created["id"], {
        "title": "Dombra for every village school", "goal_amount": 2_000_000,
        "rewards": [{"title": "Signed photo", "min_amount": 10_000, "quantity": None}], **FORGED})
    assert edited["title"] == "Dombra for every village school" and edited["goal_amount"] == 2_000_000
    assert [(r["title"], r["quantity"], r["remaining"]) for r in edited["rewards"]] == [("Signed photo", None, None)]
    assert edited["owner_id"] == "owner-1" and edited["status"] == "draft" and edited["raised_amount"] == 0
    assert edited["id"] == created["id"]
    assert rpc_client.campaigns.get_campaign(OWNER, created["id"]) == edited


def test_a_patch_without_rewards_keeps_them(campaigns, rpc_client, body):
    created = rpc_client.campaigns.create_campaign(OWNER, body())
    edited = rpc_client.campaigns.update_campaign(OWNER, created["id"], {"summary": "Now with songbooks."})
    assert edited["rewards"] == created["rewards"] and edited["summary"] == "Now with songbooks."


def test_a_patch_is_validated_with_the_rest_of_the_campaign(campaigns, rpc_client, body):
    created = rpc_client.campaigns.create_campaign(OWNER, body(funding_model="keep_it_all", duration_days=90))
    with pytest.raises(ValidationFailed) as failed:
        rpc_client.campaigns.update_campaign(OWNER, created["id"], {"funding_model": "all_or_nothing"})
    assert set(failed.value.errors) == {"duration_days"}
    with pytest.raises(ValidationFailed) as failed:
        rpc_client.campaigns.update_campaign(OWNER, created["id"], {"title": "abc", "goal_amount": 1.5})
    assert set(failed.value.errors) == {"title", "goal_amount"}
    assert rpc_client.campaigns.get_campaign(OWNER, created["id"])["funding_model"] == "keep_it_all"


def test_only_the_owner_edits(campaigns, rpc_client, body):
    created = rpc_client.campaigns.create_campaign(OWNER, body())
    with pytest.raises(NotFound):  # a stranger may not even see a draft
        rpc_client.campaigns.update_campaign(STRANGER, created["id"], {"title": "Taken over!"})
    for staff in (MODERATOR, ADMIN):
        with pytest.raises(Forbidden):
            rpc_client.campaigns.update_campaign(staff, created["id"], {"title": "Edited by staff"})
    assert rpc_client.campaigns.get_campaign(OWNER, created["id"])["title"] == created["title"]


def test_only_drafts_are_edited(campaigns, rpc_client, body):
    created = rpc_client.campaigns.create_campaign(OWNER, body())
    rpc_client.campaigns.submit(OWNER, created["id"])
    with pytest.raises(Conflict) as refused:
        rpc_client.campaigns.update_campaign(OWNER, created["id"], {"title": "Changed under review"})
    assert refused.value.code == "invalid_transition" and refused.value.status == 409
    rpc_client.campaigns.approve(MODERATOR, created["id"])
    with pytest.raises(Conflict):
        rpc_client.campaigns.update_campaign(OWNER, created["id"], {"goal_amount": 1})
    assert rpc_client.campaigns.get_campaign(OWNER, created["id"])["goal_amount"] == created["goal_amount"]


def test_editing_an_unknown_campaign_is_not_found(campaigns, rpc_client):
    for campaign_id in ("00000000-0000-4000-8000-000000000000", "not-a-uuid"):
        with pytest.raises(NotFound):
            rpc_client.campaigns.update_campaign(OWNER, campaign_id, {"title": "Whatever it is"})


def test_validation_errors_travel_over_rpc_per_field(campaigns, rpc_client, body):
    with pytest.raises(ValidationFailed) as failed:
        rpc_client.campaigns.create_campaign(OWNER, body(
            title="abc", summary="x" * 501, category="sports", region="KZ-00", goal_amount="100",
            duration_days=61, rewards=[{"title": "Card", "min_amount": 0, "quantity": 0}]))
    assert set(failed.value.errors) == {"title", "summary", "category", "region", "goal_amount",
                                        "duration_days", "rewards.0.min_amount", "rewards.0.quantity"}
