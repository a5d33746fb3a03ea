"""Listing campaigns: filters, who sees what, and cursor pages in a stable order (contract §2, §3)."""
from datetime import datetime

import pytest

from demeu_common.errors import ValidationFailed

pytestmark = pytest.mark.integration

OWNER = {"user_id": "owner-1", "roles": []}
OTHER = {"user_id": "owner-2", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}
ADMIN = {"user_id": "admin-1", "roles": ["admin"]}
STRANGER = {"user_id": "stranger", "roles": []}
ANONYMOUS = None


@pytest.fixture
def catalogue(campaigns, rpc_client, body):
    """One campaign in every status, across owners, categories and regions; name → campaign."""
    rpc = rpc_client.campaigns

    def create(owner, **fields):
        fields.setdefault("summary", f"About {fields['title']}.")
        return rpc.create_campaign(owner, body(**fields))

    def live(owner, **fields):
        created = create(owner, **fields)
        rpc.submit(owner, created["id"])
        return rpc.approve(MODERATOR, created["id"])

    made = {}
    made["draft"] = create(OWNER, title="Robotics club kits", category="technology", region="KZ-71")
    made["pending"] = rpc.submit(OWNER, create(OWNER, title="Chess for girls", category="education",
                                               region="KZ-75")["id"])
    rejected = rpc.submit(OTHER, create(OTHER, title="Rejected idea", region="KZ-75")["id"])
    made["rejected"] = rpc.reject(MODERATOR, rejected["id"], {"reason": "Not a project"})
    made["dombra"] = live(OWNER, title="Dombra for every school", summary="Instruments for RURAL music classes.",
                          category="culture", region="KZ-61")
    made["telescope"] = live(OTHER, title="A telescope for Shymkent", summary="Astronomy club at school 12.",
                             category="science", region="KZ-79")
    made["kobyz"] = live(OTHER, title="Kobyz masters on tour", summary="Folk music in 20 towns.",
                         category="culture", region="KZ-79")
    made["discount"] = live(OTHER, title="Books at 100% of cost", summary="No_markup libraries.",
                            category="education", region="KZ-11")
    made["failed"] = rpc.close(ADMIN, live(OTHER, title="Ice rink in Aktobe", category="charity",
                                           region="KZ-15")["id"])
    made["succeeded"] = rpc.close(ADMIN, live(OWNER, title="Music festival", funding_model="keep_it_all",
                                              category="creative", region="KZ-61")["id"])
    assert made["failed"]["status"] == "failed" and made["succeeded"]["status"] == "succeeded"
    return made


def listed(rpc_client, actor, limit=100, **filters):
    page = rpc_client.campaigns.list_campaigns(actor, filters, limit=limit)
    return {c["title"] for c in page["items"]}


def titles(catalogue, *names):
    return {catalogue[name]["title"] for name in names}


PUBLIC = ("dombra", "telescope", "kobyz", "discount", "failed", "succeeded")


def test_without_owner_me_everyone_but_staff_sees_only_live_succeeded_and_failed(catalogue, rpc_client):
    for actor in (ANONYMOUS, STRANGER, OWNER, OTHER):
        assert listed(rpc_client, actor) == titles(catalogue, *PUBLIC), actor


def test_strangers_asking_for_hidden_statuses_get_nothing(catalogue, rpc_client):
    for status in ("draft", "pending_review", "rejected"):
        assert listed(rpc_client, STRANGER, status=status) == set()
        assert listed(rpc_client, ANONYMOUS, status=status) == set()


def test_staff_see_every_status(catalogue, rpc_client):
    everything = titles(catalogue, *catalogue)
    assert listed(rpc_client, MODERATOR) == everything and listed(rpc_client, ADMIN) == everything
    assert listed(rpc_client, MODERATOR, status="pending_review") == titles(catalogue, "pending")


def test_owner_me_lists_all_of_my_campaigns_and_only_mine(catalogue, rpc_client):
    assert listed(rpc_client, OWNER, owner="me") == titles(catalogue, "draft", "pending", "dombra", "succeeded")
    assert listed(rpc_client, OWNER, owner="me", status="draft") == titles(catalogue, "draft")
    assert listed(rpc_client, OTHER, owner="me", status="rejected") == titles(catalogue, "rejected")
    assert listed(rpc_client, STRANGER, owner="me") == set()
    assert listed(rpc_client, ANONYMOUS, owner="me") == set()


def test_status_filter(catalogue, rpc_client):
    assert listed(rpc_client, STRANGER, status="live") == titles(catalogue, "dombra", "telescope", "kobyz", "discount")
    assert listed(rpc_client, STRANGER, status="failed") == titles(catalogue, "failed")
    assert listed(rpc_client, STRANGER, status="succeeded") == titles(catalogue, "succeeded")


def test_category_and_region_filters_combine(catalogue, rpc_client):
    assert listed(rpc_client, STRANGER, category="culture") == titles(catalogue, "dombra", "kobyz")
    assert listed(rpc_client, STRANGER, region="KZ-79") == titles(catalogue, "telescope", "kobyz")
    assert listed(rpc_client, STRANGER, category="culture", region="KZ-79") == titles(catalogue, "kobyz")
    assert listed(rpc_client, STRANGER, region="KZ-61", status="succeeded") == titles(catalogue, "succeeded")
    assert listed(rpc_client, STRANGER, category="technology") == set()  # only a draft is technology


SEARCHES = [
    ("dombra", ("dombra",)),
    ("DOMBRA", ("dombra",)),
    ("rural", ("dombra",)),           # in the summary, written in capitals there
    ("music", ("dombra", "kobyz", "succeeded")),
    ("shymkent", ("telescope",)),
    ("100%", ("discount",)),
    ("%", ("discount",)),             # % and _ are text, not wildcards
    ("_", ("discount",)),
    ("robotics", ()),                 # a draft: not for strangers
    ("nowhere at all", ()),
]


def test_text_search_over_title_and_summary_ignores_case(catalogue, rpc_client):
    for q, expected in SEARCHES:
        assert listed(rpc_client, STRANGER, q=q) == titles(catalogue, *expected), q


def test_text_search_finds_my_drafts_for_me(catalogue, rpc_client):
    assert listed(rpc_client, OWNER, owner="me", q="ROBOTICS") == titles(catalogue, "draft")


def test_cursor_pages_walk_every_campaign_once_newest_first(catalogue, rpc_client, body):
    seen, cursor, pages = [], None, 0
    while True:
        page = rpc_client.campaigns.list_campaigns(MODERATOR, {}, limit=3, cursor=cursor)
        assert len(page["items"]) <= 3
        seen.extend(page["items"])
        pages += 1
        if pages == 1:
            # A campaign created while someone pages is newer than the cursor: it neither
            # shifts the later pages nor shows up twice.
            rpc_client.campaigns.create_campaign(OWNER, body(title="Created mid-walk"))
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3  # 9 campaigns, 3 a page
    assert [c["id"] for c in seen] == [c["id"] for c in sorted(catalogue.values(), key=_created, reverse=True)]
    assert len({c["id"] for c in seen}) == len(seen)

    whole = rpc_client.campaigns.list_campaigns(MODERATOR, {}, limit=100)
    assert whole["next_cursor"] is None
    assert [c["title"] for c in whole["items"]][0] == "Created mid-walk"


def test_filters_hold_across_pages(catalogue, rpc_client):
    first = rpc_client.campaigns.list_campaigns(STRANGER, {"status": "live"}, limit=2)
    second = rpc_client.campaigns.list_campaigns(STRANGER, {"status": "live"}, limit=2, cursor=first["next_cursor"])
    assert second["next_cursor"] is None
    both = first["items"] + second["items"]
    assert {c["title"] for c in both} == titles(catalogue, "dombra", "telescope", "kobyz", "discount")
    assert all(c["status"] == "live" for c in both)


def test_limit_is_clamped_to_1_to_100(catalogue, rpc_client):
    assert len(rpc_client.campaigns.list_campaigns(MODERATOR, {}, limit=0)["items"]) == 1
    assert len(rpc_client.campaigns.list_campaigns(MODERATOR, {}, limit=1000)["items"]) == 9


def test_a_cursor_the_api_did_not_issue_is_refused(campaigns, rpc_client):
    for cursor in ("garbage!", "bm90IGEgbGlzdA", "WyJub3QgYSB0aW1lIl0"):
        with pytest.raises(ValidationFailed) as refused:
            rpc_client.campaigns.list_campaigns(STRANGER, {}, cursor=cursor)
        assert refused.value.code == "invalid_cursor"


def _created(campaign):
    return datetime.fromisoformat(campaign["created_at"].replace("Z", "+00:00")), campaign["id"]
