"""Every field rule of contract §3, as the service applies it: one ValidationFailed (422)
naming each offending field."""
import pytest

from demeu_common.errors import ValidationFailed
from demeu_common.reference import REGION_CODES
from demeu_common.schemas import load

from campaigns.schemas import CreateCampaignSchema, UpdateCampaignSchema

REGIONS = ["KZ-10", "KZ-11", "KZ-15", "KZ-19", "KZ-23", "KZ-27", "KZ-31", "KZ-33", "KZ-35", "KZ-39",
           "KZ-43", "KZ-47", "KZ-55", "KZ-59", "KZ-61", "KZ-62", "KZ-63", "KZ-71", "KZ-75", "KZ-79"]


def body(**overrides):
    value = {
        "title": "Dombra for every school",
        "summary": "Instruments for rural music classes.",
        "category": "culture",
        "region": "KZ-61",
        "funding_model": "all_or_nothing",
        "goal_amount": 1_000_000,
        "currency": "KZT",
        "duration_days": 30,
        "rewards": [{"title": "Thank-you card", "min_amount": 50_000, "quantity": 1}],
    }
    value.update(overrides)
    return value


def errors_of(data):
    with pytest.raises(ValidationFailed) as failed:
        load(CreateCampaignSchema, data)
    assert failed.value.code == "validation_failed" and failed.value.status == 422
    assert all(isinstance(m, str) for messages in failed.value.errors.values() for m in messages)
    return failed.value.errors


def test_a_valid_body_loads():
    loaded = load(CreateCampaignSchema, body())
    assert loaded["goal_amount"] == 1_000_000 and loaded["rewards"][0]["quantity"] == 1


@pytest.mark.parametrize("field", ["title", "summary", "category", "region", "funding_model",
                                   "goal_amount", "duration_days"])
def test_required_fields_are_named_when_missing(field):
    data = body()
    del data[field]
    assert field in errors_of(data)


def test_every_missing_field_is_reported_at_once():
    assert set(errors_of({})) == {"title", "summary", "category", "region", "funding_model",
                                  "goal_amount", "duration_days"}


@pytest.mark.parametrize("title,ok", [("abcd", False), ("abcde", True), ("x" * 120, True),
                                      ("x" * 121, False), (None, False), (12345, False)])
def test_title_is_5_to_120_characters(title, ok):
    if ok:
        assert load(CreateCampaignSchema, body(title=title))["title"] == title
    else:
        assert "title" in errors_of(body(title=title))


@pytest.mark.parametrize("summary,ok", [("x" * 500, True), ("x" * 501, False), ("", False)])
def test_summary_is_at_most_500_characters(summary, ok):
    if ok:
        load(CreateCampaignSchema, body(summary=summary))
    else:
        assert "summary" in errors_of(body(summary=summary))


@pytest.mark.parametrize("category", ["science", "culture", "creative", "education", "technology", "charity"])
def test_the_six_categories_are_accepted(category):
    assert load(CreateCampaignSchema, body(category=category))["category"] == category


@pytest.mark.parametrize("category", ["sports", "Culture", "", None])
def test_other_categories_are_refused(category):
    assert "category" in errors_of(body(category=category))


def test_exactly_the_twenty_regions_of_kazakhstan_are_accepted():
    assert sorted(REGION_CODES) == REGIONS
    for region in REGIONS:
        assert load(CreateCampaignSchema, body(region=region))["region"] == region


@pytest.mark.parametrize("region", ["KZ-00", "KZ-12", "kz-71", "Almaty", "KZ-71 ", "", None, 71])
def test_other_regions_are_refused(region):
    assert "region" in errors_of(body(region=region))


@pytest.mark.parametrize("goal", [0, -1, 1.5, 100.0, "100000", True, False, None, [1], 10**16])
def test_goal_must_be_a_positive_integer_amount(goal):
    assert "goal_amount" in errors_of(body(goal_amount=goal))


def test_the_smallest_goal_is_one_tiyn():
    assert load(CreateCampaignSchema, body(goal_amount=1))["goal_amount"] == 1


@pytest.mark.parametrize("model,days,ok", [
    ("all_or_nothing", 1, True), ("all_or_nothing", 60, True), ("all_or_nothing", 61, False),
    ("all_or_nothing", 0, False), ("keep_it_all", 61, True), ("keep_it_all", 365, True),
    ("keep_it_all", 366, False), ("keep_it_all", -3, False),
])
def test_duration_depends_on_the_funding_model(model, days, ok):
    data = body(funding_model=model, duration_days=days)
    if ok:
        assert load(CreateCampaignSchema, data)["duration_days"] == days
    else:
        assert set(errors_of(data)) == {"duration_days"}


@pytest.mark.parametrize("days", [30.5, "30", True, None])
def test_duration_must_be_a_whole_number_of_days(days):
    assert "duration_days" in errors_of(body(duration_days=days))


@pytest.mark.parametrize("model", ["flexible", "", None])
def test_funding_model_is_all_or_nothing_or_keep_it_all(model):
    assert "funding_model" in errors_of(body(funding_model=model))


def test_currency_is_kzt_and_defaults_to_it():
    data = body()
    del data["currency"]
    assert load(CreateCampaignSchema, data)["currency"] == "KZT"
    assert "currency" in errors_of(body(currency="USD"))


@pytest.mark.parametrize("min_amount", [0, -5, 2.5, "500", True, None])
def test_reward_min_amount_must_be_a_positive_integer(min_amount):
    errors = errors_of(body(rewards=[{"title": "Card", "min_amount": min_amount, "quantity": 5}]))
    assert "rewards.0.min_amount" in errors


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "3", True])
def test_reward_quantity_is_at_least_one(quantity):
    errors = errors_of(body(rewards=[{"title": "Card", "min_amount": 100, "quantity": quantity}]))
    assert "rewards.0.quantity" in errors


@pytest.mark.parametrize("quantity", [None, 1, 1000])
def test_reward_quantity_may_be_unlimited_or_a_count(quantity):
    loaded = load(CreateCampaignSchema, body(rewards=[{"title": "Card", "min_amount": 100, "quantity": quantity}]))
    assert loaded["rewards"][0]["quantity"] == quantity


def test_reward_quantity_left_out_means_unlimited():
    loaded = load(CreateCampaignSchema, body(rewards=[{"title": "Card", "min_amount": 100}]))
    assert loaded["rewards"][0]["quantity"] is None


def test_each_bad_reward_is_named_by_its_position():
    errors = errors_of(body(rewards=[{"title": "Fine", "min_amount": 100},
                                     {"title": "", "min_amount": 0, "quantity": 0}]))
    assert {"rewards.1.title", "rewards.1.min_amount", "rewards.1.quantity"} <= set(errors)
    assert not any(key.startswith("rewards.0") for key in errors)


def test_fields_a_client_may_not_set_are_dropped():
    loaded = load(CreateCampaignSchema, body(owner_id="hacker", status="live", raised_amount=10**9,
                                               matched_amount=5, backers_count=7, id="x", ends_at="2030"))
    assert not {"owner_id", "status", "raised_amount", "matched_amount", "backers_count", "id",
                "ends_at"} & set(loaded)


@pytest.mark.parametrize("not_an_object", [[], "text", 42, None])
def test_a_body_that_is_not_an_object_is_refused(not_an_object):
    with pytest.raises(ValidationFailed):
        load(CreateCampaignSchema, not_an_object)


def test_a_patch_validates_only_what_it_sends():
    assert load(UpdateCampaignSchema, {"title": "A better title"}, partial=True) == {"title": "A better title"}
    with pytest.raises(ValidationFailed) as failed:
        load(UpdateCampaignSchema, {"goal_amount": 0}, partial=True)
    assert set(failed.value.errors) == {"goal_amount"}
