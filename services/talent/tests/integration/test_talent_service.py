"""The talent service in a real container, on the real broker and PostgreSQL."""
import json
import uuid
from datetime import date, timedelta

import eventlet
import pytest
from nameko.testing.utils import get_extension
from sqlalchemy import text

from demeu_common.clock import Clock, FrozenClock, isoformat
from demeu_common.db import make_engine
from demeu_common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from demeu_common.testing import publish_event, wait_for

from talent.domain import certificates
from talent.domain.iin import make_iin
from talent.service import TalentService

pytestmark = pytest.mark.integration

MENTOR = {"user_id": "mentor-1", "roles": ["mentor"]}
OTHER_MENTOR = {"user_id": "mentor-2", "roles": ["mentor"]}
ADMIN = {"user_id": "admin-1", "roles": ["admin"]}
STRANGER = {"user_id": "stranger", "roles": []}

ADULT_BIRTH = date(2000, 4, 15)
ADULT_IIN = make_iin(ADULT_BIRTH, "female", "0042")
MINOR_BIRTH = date(2010, 6, 1)
MINOR_IIN = make_iin(MINOR_BIRTH, "male", "0077")
GUARDIAN = {"guardian_name": "Гүлнар Сейітова", "relation": "mother", "consented_at": "2026-01-10T09:00:00Z"}


@pytest.fixture
def clock():
    return FrozenClock()


@pytest.fixture
def config(service_config):
    return service_config("talent", OFFER_SWEEP_INTERVAL=0.1)


@pytest.fixture
def talent(container_factory, config, clock):
    container = container_factory(TalentService, config)
    get_extension(container, Clock).clock = clock
    container.start()
    return container


def user(name):
    return {"user_id": name, "roles": []}


def profile_body(**overrides):
    body = {"display_name": "Aliya", "birth_date": ADULT_BIRTH.isoformat(), "region": "KZ-71",
            "fields": ["technology"], "bio": "Robots.", "iin": ADULT_IIN}
    body.update(overrides)
    return body


def program_body(clock, **overrides):
    body = {"kind": "course", "title": "Robotics for beginners", "field": "technology",
            "seats": 2, "application_deadline": isoformat(clock.now() + timedelta(days=7)),
            "starts_at": isoformat(clock.now() + timedelta(days=14))}
    body.update(overrides)
    return body


def register(rpc, name, region="KZ-71"):
    actor = user(name)
    rpc.talent.create_profile(actor, profile_body(display_name=name, region=region, iin=None))
    return actor


def applicants(rpc, program_id, specs):
    """specs: (name, region, score) → {name: (actor, application)}, applied in order."""
    out = {}
    for name, region, score in specs:
        actor = register(rpc, name, region)
        application = rpc.talent.apply(actor, program_id, {"motivation": f"I am {name}"})
        if score is not None:
            rpc.talent.score(MENTOR, application["id"], {"score": score})
        out[name] = (actor, application)
    return out


def ids(person):
    actor, application = person
    return actor, application["id"]


def status_of(rpc, actor):
    return {a["id"]: a["status"] for a in rpc.talent.list_my_applications(actor, 20, None)["items"]}


# --- profiles and privacy ---------------------------------------------------------------

def test_private_fields_are_shown_only_to_owner_and_admin_and_stored_encrypted(talent, rpc_client, config):
    owner = user("minor-1")
    created = rpc_client.talent.create_profile(owner, profile_body(
        birth_date=MINOR_BIRTH.isoformat(), iin=MINOR_IIN, guardian_consent=GUARDIAN))
    assert created["iin"] == MINOR_IIN and created["birth_date"] == "2010-06-01"
    assert created["guardian_consent"]["guardian_name"] == GUARDIAN["guardian_name"]

    public = rpc_client.talent.get_profile(STRANGER, created["id"])
    assert set(public) == {"id", "display_name", "region", "fields", "bio", "age_band", "created_at"}
    assert public["age_band"] == "14-17"
    assert rpc_client.talent.get_profile(ADMIN, created["id"])["iin"] == MINOR_IIN
    assert rpc_client.talent.get_my_profile(owner)["guardian_consent"]["relation"] == "mother"

    engine = make_engine(config["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            raw = json.dumps([list(map(str, row)) for row in connection.execute(text("SELECT * FROM talents"))])
    finally:
        engine.dispose()
    for secret in (MINOR_IIN, "2010-06-01", GUARDIAN["guardian_name"], "mother"):
        assert secret not in raw


def test_profile_rules_refuse_young_unconsented_bad_iin_and_duplicates(talent, rpc_client, clock):
    too_young = (clock.now() - timedelta(days=13 * 366)).date().isoformat()
    for body, code in [
        (profile_body(birth_date=too_young, iin=None, guardian_consent=GUARDIAN), "too_young"),
        (profile_body(birth_date=MINOR_BIRTH.isoformat(), iin=None), "guardian_consent_required"),
        (profile_body(iin=ADULT_IIN[:11] + str((int(ADULT_IIN[11]) + 1) % 10)), "invalid_iin"),
        (profile_body(iin=MINOR_IIN), "invalid_iin"),  # valid number, other birth date
    ]:
        with pytest.raises(ValidationFailed) as error:
            rpc_client.talent.create_profile(user("x"), body)
        assert error.value.code == code
    with pytest.raises(ValidationFailed) as error:
        rpc_client.talent.create_profile(user("x"), profile_body(region="KZ-00", fields=["cooking"]))
    assert set(error.value.errors) == {"region", "fields.0"}

    rpc_client.talent.create_profile(user("x"), profile_body())
    with pytest.raises(Conflict) as error:
        rpc_client.talent.create_profile(user("x"), profile_body())
    assert error.value.code == "profile_exists"


# --- programs and applications ------------------------------------------------------------

def test_programs_are_created_by_mentors_and_applications_follow_the_rules(talent, rpc_client, clock):
    with pytest.raises(Forbidden):
        rpc_client.talent.create_program(STRANGER, program_body(clock))
    program = rpc_client.talent.create_program(MENTOR, program_body(clock, min_age=18, max_age=30))
    assert program["status"] == "open" and program["mentor_id"] == "mentor-1"
    assert program["enrolled_count"] == 0 and program["waitlist_count"] == 0 and program["funded_seats"] == 0
    assert rpc_client.talent.list_programs(STRANGER, {"field": "technology"}, 20, None)["items"][0]["id"] == program["id"]

    with pytest.raises(Forbidden) as error:
        rpc_client.talent.apply(user("nobody"), program["id"], {"motivation": "hi"})
    assert error.value.code == "profile_required"

    adult = register(rpc_client, "adult")
    with pytest.raises(ValidationFailed) as error:
        rpc_client.talent.apply(adult, program["id"], {"motivation": "hi", "portfolio_urls": ["ftp://x.kz/a", "javascript:alert(1)"]})
    assert "portfolio_urls.0" in error.value.errors and "portfolio_urls.1" in error.value.errors
    application = rpc_client.talent.apply(adult, program["id"], {"motivation": "hi", "portfolio_urls": ["https://github.com/aliya"]})
    assert application["status"] == "submitted" and application["program_id"] == program["id"]
    with pytest.raises(Conflict) as error:
        rpc_client.talent.apply(adult, program["id"], {"motivation": "again"})
    assert error.value.code == "already_applied"

    minor = user("minor")
    rpc_client.talent.create_profile(minor, profile_body(birth_date=MINOR_BIRTH.isoformat(), iin=None, guardian_consent=GUARDIAN))
    with pytest.raises(ValidationFailed) as error:
        rpc_client.talent.apply(minor, program["id"], {"motivation": "hi"})
    assert error.value.code == "not_eligible"

    late = register(rpc_client, "late")
    clock.advance(days=8)
    with pytest.raises(Conflict) as error:
        rpc_client.talent.apply(late, program["id"], {"motivation": "hi"})
    assert error.value.code == "applications_closed"


def test_mentors_review_blind_and_scores_are_final_after_selection(talent, rpc_client, clock):
    program = rpc_client.talent.create_program(MENTOR, program_body(clock))
    people = applicants(rpc_client, program["id"], [("amina", "KZ-71", None)])
    application_id = people["amina"][1]["id"]
    rpc_client.talent.score(MENTOR, application_id, {"score": 4})
    rpc_client.talent.score(MENTOR, application_id, {"score": 7, "comment": "strong"})  # changed
    with pytest.raises(NotFound):
        rpc_client.talent.score(OTHER_MENTOR, application_id, {"score": 1})
    with pytest.raises(ValidationFailed):
        rpc_client.talent.score(MENTOR, application_id, {"score": 11})

    blind = rpc_client.talent.list_program_applications(MENTOR, program["id"], 20, None)["items"][0]
    assert blind["my_score"] == 7 and blind["scores_count"] == 1 and blind["motivation"] == "I am amina"
    for revealing in ("talent_id", "talent_user_id", "display_name", "region", "age_band", "birth_date"):
        assert revealing not in blind
    full = rpc_client.talent.list_program_applications(ADMIN, program["id"], 20, None)["items"][0]
    assert full["display_name"] == "amina" and full["region"] == "KZ-71"
    with pytest.raises(Forbidden):
        rpc_client.talent.list_program_applications(OTHER_MENTOR, program["id"], 20, None)

    rpc_client.talent.select(MENTOR, program["id"])
    with pytest.raises(Conflict) as error:
        rpc_client.talent.score(MENTOR, application_id, {"score": 9})
    assert error.value.code == "scoring_closed"


# --- selection, offers, waitlist ----------------------------------------------------------

def test_selection_respects_quota_and_a_decline_promotes_the_first_waitlisted(talent, rpc_client, clock, collect_events):
    events = collect_events("talent")
    program = rpc_client.talent.create_program(MENTOR, program_body(clock, seats=2, regional_quota=1))
    people = applicants(rpc_client, program["id"], [
        ("a1", "KZ-71", 10), ("a2", "KZ-71", 9), ("a3", "KZ-71", 8), ("b1", "KZ-75", 2)])
    with pytest.raises(Forbidden):
        rpc_client.talent.select(OTHER_MENTOR, program["id"])
    selected = rpc_client.talent.select(MENTOR, program["id"])
    assert selected["status"] == "selecting" and selected["waitlist_count"] == 2

    def status(name):
        actor, application = people[name]
        return status_of(rpc_client, actor)[application["id"]]

    assert [status(n) for n in ("a1", "a2", "a3", "b1")] == ["offered", "waitlisted", "waitlisted", "offered"]
    offered = events.wait_for("application.offered", 2)
    assert {e["data"]["talent_user_id"] for e in offered} == {"a1", "b1"}
    assert all(e["data"]["program_id"] == program["id"] and e["data"]["program_title"] == program["title"]
               and e["data"]["offer_expires_at"] for e in offered)
    waitlisted = events.wait_for("application.waitlisted", 2)
    assert sorted((e["data"]["talent_user_id"], e["data"]["waitlist_position"]) for e in waitlisted) == [("a2", 1), ("a3", 2)]

    with pytest.raises(NotFound):
        rpc_client.talent.decline(people["a1"][0], people["b1"][1]["id"])  # not theirs
    rpc_client.talent.decline(*ids(people["b1"]))
    assert status("b1") == "declined" and status("a2") == "offered"  # whatever the region
    assert events.wait_for("application.declined")[0]["data"]["talent_user_id"] == "b1"
    assert events.wait_for("application.offered", 3)[-1]["data"]["talent_user_id"] == "a2"

    enrolled = rpc_client.talent.accept(*ids(people["a1"]))
    assert enrolled["status"] == "enrolled"
    assert rpc_client.talent.accept(*ids(people["a1"]))["status"] == "enrolled"  # a retry changes nothing
    with pytest.raises(Conflict) as error:
        rpc_client.talent.accept(*ids(people["a3"]))
    assert error.value.code == "offer_not_open"
    event = events.wait_for("application.enrolled")[0]["data"]
    assert (event["talent_user_id"], event["program_id"], event["program_title"]) == ("a1", program["id"], program["title"])
    assert rpc_client.talent.get_program(STRANGER, program["id"])["enrolled_count"] == 1


def test_fewer_applicants_than_seats_are_all_offered(talent, rpc_client, clock):
    program = rpc_client.talent.create_program(MENTOR, program_body(clock, seats=5, regional_quota=1))
    people = applicants(rpc_client, program["id"], [("x1", "KZ-71", 3), ("x2", "KZ-71", None)])
    selected = rpc_client.talent.select(ADMIN, program["id"])
    assert selected["offered_count"] == 2 and selected["waitlist_count"] == 0
    with pytest.raises(Conflict) as error:
        rpc_client.talent.select(ADMIN, program["id"])
    assert error.value.code == "invalid_transition"
    assert rpc_client.talent.accept(*ids(people["x2"]))["status"] == "enrolled"


def test_concurrent_accepts_never_enrol_more_than_the_seats(talent, rpc_client, clock, collect_events):
    events = collect_events("talent")
    program = rpc_client.talent.create_program(MENTOR, program_body(clock, seats=3))
    people = applicants(rpc_client, program["id"], [(f"c{i}", "KZ-71", 10 - i) for i in range(6)])
    rpc_client.talent.select(MENTOR, program["id"])
    offered = [p for p in people.values() if status_of(rpc_client, p[0])[p[1]["id"]] == "offered"]
    assert len(offered) == 3

    # Every offered talent accepts four times at once, and the waitlisted try too.
    replies = [rpc_client.talent.accept.call_async(actor, application["id"])
               for _ in range(4) for actor, application in people.values()]
    outcomes = []
    for reply in replies:
        try:
            outcomes.append(reply.result()["status"])
        except Conflict as refused:
            outcomes.append(refused.code)
    assert outcomes.count("enrolled") == 12 and outcomes.count("offer_not_open") == 12
    program = rpc_client.talent.get_program(STRANGER, program["id"])
    assert program["enrolled_count"] == 3 and program["status"] == "closed"
    eventlet.sleep(0.5)
    assert len(events.wait_for("application.enrolled", 3)) == 3


def test_expired_offer_is_lapsed_by_the_timer_and_the_seat_goes_to_the_waitlist(talent, rpc_client, clock, collect_events):
    events = collect_events("talent")
    program = rpc_client.talent.create_program(MENTOR, program_body(clock, seats=1))
    people = applicants(rpc_client, program["id"], [("e1", "KZ-71", 9), ("e2", "KZ-75", 5)])
    rpc_client.talent.select(MENTOR, program["id"])
    first, second = people["e1"], people["e2"]
    eventlet.sleep(0.3)  # several sweeps while the offer stands change nothing
    assert status_of(rpc_client, first[0])[first[1]["id"]] == "offered"

    clock.advance(hours=72)
    wait_for(lambda: status_of(rpc_client, second[0])[second[1]["id"]] == "offered", message="promotion")
    assert status_of(rpc_client, first[0])[first[1]["id"]] == "expired"
    with pytest.raises(Conflict):
        rpc_client.talent.accept(*ids(first))
    assert events.wait_for("application.expired")[0]["data"]["talent_user_id"] == "e1"
    assert rpc_client.talent.accept(*ids(second))["status"] == "enrolled"


# --- scholarships, completion, statistics -------------------------------------------------

def test_funded_seats_follow_campaign_and_donation_events_once_each(talent, rpc_client, clock, amqp_uri):
    program = rpc_client.talent.create_program(MENTOR, program_body(clock))
    campaign_id = str(uuid.uuid4())
    publish_event(amqp_uri, "campaigns", "campaign.approved", {
        "campaign_id": campaign_id, "category": "education", "status": "live", "raised_amount": 0,
        "program_id": program["id"], "seat_cost_amount": 100_000})
    donation = {"donation_id": str(uuid.uuid4()), "campaign_id": campaign_id, "amount": 150_000}
    event_id = str(uuid.uuid4())
    for _ in range(3):
        publish_event(amqp_uri, "payments", "donation.succeeded", donation, event_id=event_id)
    publish_event(amqp_uri, "payments", "donation.succeeded", {**donation, "donation_id": str(uuid.uuid4()), "amount": 60_000})
    wait_for(lambda: rpc_client.talent.get_program(STRANGER, program["id"])["funded_seats"] == 2,
             message="two seats funded")
    publish_event(amqp_uri, "payments", "donation.succeeded", donation, event_id=event_id)
    publish_event(amqp_uri, "payments", "donation.succeeded",  # not an education campaign
                  {**donation, "campaign_id": str(uuid.uuid4()), "category": "culture", "donation_id": str(uuid.uuid4())})
    rpc_client.talent.ping()
    assert rpc_client.talent.get_program(STRANGER, program["id"])["funded_seats"] == 2

    publish_event(amqp_uri, "payments", "donation.refunded", {**donation, "refund_amount": 20_000})
    wait_for(lambda: rpc_client.talent.get_program(STRANGER, program["id"])["funded_seats"] == 1,
             message="a refund unfunds a seat")
    publish_event(amqp_uri, "campaigns", "campaign.failed", {
        "campaign_id": campaign_id, "category": "education", "status": "failed", "raised_amount": 190_000,
        "program_id": program["id"], "seat_cost_amount": 100_000})
    wait_for(lambda: rpc_client.talent.get_program(STRANGER, program["id"])["funded_seats"] == 0,
             message="a failed campaign funds nothing")


def test_completion_issues_a_certificate_anyone_can_verify_and_stats_count_it(talent, rpc_client, clock):
    program = rpc_client.talent.create_program(MENTOR, program_body(clock, seats=1))
    people = applicants(rpc_client, program["id"], [("g1", "KZ-79", 8), ("g2", "KZ-10", 1)])
    rpc_client.talent.select(MENTOR, program["id"])
    with pytest.raises(Conflict):
        rpc_client.talent.complete(MENTOR, people["g1"][1]["id"])  # offered, not enrolled
    rpc_client.talent.accept(*ids(people["g1"]))
    with pytest.raises(NotFound):
        rpc_client.talent.complete(OTHER_MENTOR, people["g1"][1]["id"])
    issued = rpc_client.talent.complete(MENTOR, people["g1"][1]["id"])
    assert issued["valid"] and issued["display_name"] == "g1" and issued["program_title"] == program["title"]

    fetched = rpc_client.talent.get_certificate(issued["id"])
    assert fetched == issued
    signature = fetched["signature"]
    assert certificates.verify(signature["public_key"], fetched, signature["value"])
    assert not certificates.verify(signature["public_key"], {**fetched, "display_name": "forged"}, signature["value"])
    with pytest.raises(NotFound):
        rpc_client.talent.get_certificate(str(uuid.uuid4()))

    stats = rpc_client.talent.region_stats()
    assert stats["KZ-79"] == {"talents": 1, "applications": 1, "enrolled": 1}
    assert stats["KZ-10"] == {"talents": 1, "applications": 1, "enrolled": 0}


def test_no_talent_event_ever_carries_private_data(talent, rpc_client, clock, collect_events):
    events = collect_events("talent")
    minor = user("private-minor")
    rpc_client.talent.create_profile(minor, profile_body(
        birth_date=MINOR_BIRTH.isoformat(), iin=MINOR_IIN, guardian_consent=GUARDIAN))
    adult = user("private-adult")
    rpc_client.talent.create_profile(adult, profile_body())
    program = rpc_client.talent.create_program(MENTOR, program_body(clock, seats=1))
    for actor in (minor, adult):
        application = rpc_client.talent.apply(actor, program["id"], {"motivation": "please"})
        rpc_client.talent.score(MENTOR, application["id"], {"score": 5})
    rpc_client.talent.select(MENTOR, program["id"])
    mine = rpc_client.talent.list_my_applications(minor, 20, None)["items"][0]
    rpc_client.talent.decline(minor, mine["id"])
    theirs = rpc_client.talent.list_my_applications(adult, 20, None)["items"][0]
    rpc_client.talent.accept(adult, theirs["id"])
    rpc_client.talent.complete(MENTOR, theirs["id"])

    wait_for(lambda: events.of_type("application.completed"), message="the last event")
    seen = {e["routing_key"] for e in events.drain()}
    assert {"talent.registered", "program.created", "application.submitted", "application.offered",
            "application.declined", "application.enrolled", "application.completed"} <= seen
    raw = json.dumps([e["body"] for e in events.events], ensure_ascii=False)
    for secret in (MINOR_IIN, ADULT_IIN, "2010-06-01", ADULT_BIRTH.isoformat(), GUARDIAN["guardian_name"],
                   "guardian", "birth_date", '"iin"'):
        assert secret not in raw


def test_two_instances_sweeping_at_once_lapse_each_offer_once_and_promote_once(
        container_factory, config, clock, rpc_client, collect_events):
    for _ in range(2):
        container = container_factory(TalentService, config)
        get_extension(container, Clock).clock = clock
        container.start()
    events = collect_events("talent")
    program = rpc_client.talent.create_program(MENTOR, program_body(clock, seats=2))
    people = applicants(rpc_client, program["id"], [(f"s{i}", "KZ-71", 10 - i) for i in range(5)])
    rpc_client.talent.select(MENTOR, program["id"])
    events.wait_for("application.offered", 2)

    clock.advance(hours=73)
    promoted = events.wait_for("application.offered", 4)
    eventlet.sleep(1)  # many more sweeps by both instances
    assert len(events.of_type("application.expired")) == 2
    assert sorted(e["data"]["talent_user_id"] for e in events.of_type("application.offered")) == ["s0", "s1", "s2", "s3"]
    assert [status_of(rpc_client, people[f"s{i}"][0])[people[f"s{i}"][1]["id"]] for i in range(5)] == [
        "expired", "expired", "offered", "offered", "waitlisted"]
    assert len(promoted) == 4
