"""Rendering: money, plurals and every notification type in every locale."""
import re

import pytest

from notifications.domain.money import format_tenge
from notifications.domain.plurals import category, plural
from notifications.domain.recipients import intents
from notifications.domain.render import render
from notifications.domain.templates import NOTIFICATION_TYPES, TEMPLATES

KAZAKH_LETTERS = set("әғқңөұүһі")


@pytest.mark.parametrize("tiyn,text", [
    (1_250_000, "12 500 ₸"),
    (1_250_050, "12 500,50 ₸"),
    (1_250_005, "12 500,05 ₸"),
    (0, "0 ₸"),
    (99, "0,99 ₸"),
    (100, "1 ₸"),
    (100_000, "1 000 ₸"),
    (123_456_789_00, "123 456 789 ₸"),
    (-50_000, "−500 ₸"),
])
def test_money_is_tenge_with_grouped_thousands_and_decimals_only_when_nonzero(tiyn, text):
    assert format_tenge(tiyn) == text


@pytest.mark.parametrize("bad", [12.5, "100", True, None])
def test_money_refuses_anything_but_int_tiyn(bad):
    with pytest.raises(TypeError):
        format_tenge(bad)


@pytest.mark.parametrize("n,form", [
    (1, "one"), (21, "one"), (101, "one"), (2, "few"), (3, "few"), (4, "few"), (22, "few"),
    (104, "few"), (5, "many"), (11, "many"), (12, "many"), (14, "many"), (111, "many"),
    (0, "many"), (25, "many"), (112, "many"),
])
def test_russian_plurals_follow_one_few_many(n, form):
    assert category("ru", n) == form


def test_russian_day_word_agrees_with_its_number():
    assert [plural("ru", n, "day") for n in (1, 2, 5, 11, 21, 22, 25)] == [
        "1 день", "2 дня", "5 дней", "11 дней", "21 день", "22 дня", "25 дней"]


def test_english_and_kazakh_plurals():
    assert plural("en", 1, "day") == "1 day" and plural("en", 2, "day") == "2 days"
    assert plural("en", 0, "day") == "0 days"
    # Kazakh keeps the noun singular after a numeral.
    assert plural("kk", 1, "day") == "1 күн" and plural("kk", 7, "day") == "7 күн"


SAMPLE_EVENTS = {
    "donation.succeeded": ("payments", {
        "donation_id": "d1", "campaign_id": "c1", "campaign_owner_id": "owner",
        "campaign_title": "Домбыра", "amount": 1_250_050, "currency": "KZT",
        "donor_id": "donor", "anonymous": False, "backer_ref": "b", "reward_id": None,
    }),
    "donation.refunded": ("payments", {
        "donation_id": "d1", "campaign_id": "c1", "campaign_owner_id": "owner",
        "campaign_title": "Домбыра", "donor_id": "donor", "amount": 500_000, "currency": "KZT",
        "status": "partially_refunded",
    }),
    "campaign.approved": ("campaigns", {
        "campaign_id": "c1", "owner_id": "owner", "title": "Домбыра", "goal_amount": 100_000_00,
        "raised_amount": 0, "currency": "KZT", "status": "live",
        "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-01-31T00:00:00Z",
    }),
    "campaign.rejected": ("campaigns", {
        "campaign_id": "c1", "owner_id": "owner", "title": "Домбыра", "reason": "Нет сметы",
    }),
    "campaign.succeeded": ("campaigns", {
        "campaign_id": "c1", "owner_id": "owner", "title": "Домбыра", "goal_amount": 1_000_000,
        "raised_amount": 1_250_000, "currency": "KZT",
    }),
    "campaign.failed": ("campaigns", {
        "campaign_id": "c1", "owner_id": "owner", "title": "Домбыра", "goal_amount": 1_000_000,
        "raised_amount": 250_000, "currency": "KZT",
    }),
    "application.offered": ("talent", {
        "application_id": "a1", "program_id": "p1", "program_title": "Робототехника",
        "talent_user_id": "talent", "offer_expires_at": "2026-01-04T00:00:00Z",
    }),
    "application.waitlisted": ("talent", {
        "application_id": "a1", "program_id": "p1", "program_title": "Робототехника",
        "talent_user_id": "talent",
    }),
    "application.enrolled": ("talent", {
        "application_id": "a1", "program_id": "p1", "program_title": "Робототехника",
        "talent_user_id": "talent",
    }),
    "pool.exhausted": ("payments", {
        "pool_id": "pl", "patron_id": "patron", "name": "Qazaq Tech", "remaining_amount": 0,
        "currency": "KZT",
    }),
    "pool.expired": ("payments", {
        "pool_id": "pl", "patron_id": "patron", "name": "Qazaq Tech",
        "remaining_amount": 10_000_000, "currency": "KZT",
    }),
}


def event(event_type, data, time="2026-01-01T00:00:00Z"):
    return {"id": "e1", "type": event_type, "time": time, "source": "demeu/x", "data": data}


def all_intents():
    for event_type, (_source, data) in SAMPLE_EVENTS.items():
        yield from intents(event(event_type, data))


def test_every_notification_type_has_title_and_body_in_all_three_locales():
    produced = {intent.type for intent in all_intents()}
    assert produced == set(NOTIFICATION_TYPES)
    for notification_type in NOTIFICATION_TYPES:
        assert set(TEMPLATES[notification_type]) == {"kk", "ru", "en"}


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_every_type_renders_fully_in_each_locale(locale):
    for intent in all_intents():
        title, body = render(intent.type, locale, intent.params)
        assert title and body, intent.type
        assert "{" not in title + body and "None" not in body, (intent.type, body)
        template_title = TEMPLATES[intent.type][locale]["title"]
        if locale == "en":
            assert not re.search("[а-яА-Я]", template_title), template_title
        else:
            assert re.search("[а-яА-ЯёәғқңөұүһіӘҒҚҢӨҰҮҺІ]", template_title), template_title


def test_kazakh_uses_its_own_letters():
    letters = set()
    for notification_type in NOTIFICATION_TYPES:
        for text in TEMPLATES[notification_type]["kk"].values():
            letters |= set(text.lower())
    assert {"ә", "ғ", "қ", "ң", "ө", "ұ", "ү", "і"} <= letters


def test_donation_received_shows_amount_in_tenge_in_each_locale():
    owner = next(i for i in all_intents() if i.type == "donation.received")
    for locale in ("kk", "ru", "en"):
        _title, body = render(owner.type, locale, owner.params)
        assert "12 500,50 ₸" in body and "Домбыра" in body


def test_anonymous_donation_tells_owner_someone_anonymous_gave():
    data = dict(SAMPLE_EVENTS["donation.succeeded"][1], donor_id=None, anonymous=True)
    found = intents(event("donation.succeeded", data))
    assert [i.type for i in found] == ["donation.received"]
    assert render("donation.received", "en", found[0].params)[1].startswith("Someone anonymous")
    assert "анонимно" in render("donation.received", "ru", found[0].params)[1]
    assert "жасырын" in render("donation.received", "kk", found[0].params)[1]


def test_named_donation_goes_to_owner_and_donor():
    found = intents(event("donation.succeeded", SAMPLE_EVENTS["donation.succeeded"][1]))
    assert {(i.recipient_id, i.type) for i in found} == {
        ("owner", "donation.received"), ("donor", "donation.succeeded")}


def test_offer_deadline_is_counted_in_days_with_agreeing_word():
    offered = next(i for i in all_intents() if i.type == "application.offered")
    assert offered.params["days"] == 3
    assert "3 дня" in render(offered.type, "ru", offered.params)[1]
    assert "3 days" in render(offered.type, "en", offered.params)[1]
    assert "3 күн" in render(offered.type, "kk", offered.params)[1]


def test_campaign_approved_counts_days_of_fundraising():
    approved = next(i for i in all_intents() if i.type == "campaign.approved")
    assert approved.params["days"] == 30
    assert "30 дней" in render(approved.type, "ru", approved.params)[1]


def test_missing_deadline_uses_the_undated_wording():
    data = dict(SAMPLE_EVENTS["application.offered"][1], offer_expires_at=None)
    offered = intents(event("application.offered", data))[0]
    assert render(offered.type, "ru", offered.params)[1] == \
        "Вам предложено место в программе «Робототехника»."


def test_missing_or_foreign_recipients_are_skipped_not_fatal():
    assert intents(event("donation.refunded", dict(SAMPLE_EVENTS["donation.refunded"][1], donor_id=None))) == []
    assert intents(event("campaign.approved", {"title": "x"})) == []
    assert intents(event("campaign.submitted", {"owner_id": "owner"})) == []
    assert intents(event("pool.expired", None)) == []
    assert intents({"type": "unknown.type", "data": {}}) == []


def test_unknown_locale_falls_back_to_russian():
    intent = next(i for i in all_intents() if i.type == "application.enrolled")
    assert render(intent.type, "de", intent.params) == render(intent.type, "ru", intent.params)
