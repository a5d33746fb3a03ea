"""Fixtures of the event contract tests: docs/asyncapi.yaml as validators, and the real
services driven through flows that make them publish each kind of event, collected by a
plain-kombu subscriber (not Nameko) as another government system would see them."""
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from demeu_common.clock import Clock, FrozenClock, isoformat

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
BASE = "urn:demeu:asyncapi"


def _date_time(value):
    if not isinstance(value, str):
        return True
    if "T" not in value:
        raise ValueError("not an RFC 3339 date-time")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("no UTC offset")
    return True


FORMATS = FormatChecker()
FORMATS.checks("date-time", raises=ValueError)(_date_time)


class AsyncApi:
    """The document, and each event type's payload schema as a validator."""

    def __init__(self, path=DOCUMENT):
        self.document = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.registry = Registry().with_resource(BASE, Resource(contents=self.document, specification=DRAFT7))
        self.messages = {m["name"]: key for key, m in self.document["components"]["messages"].items()}

    def channels(self):
        """``{event type: exchange binding}`` from the channels, following $refs."""
        out = {}
        for channel in self.document["channels"].values():
            binding = self.resolve(channel["bindings"]["amqp"])
            out[channel["address"]] = binding
        return out

    def channel_messages(self):
        return {channel["address"]: [self.resolve(m)["name"] for m in channel["messages"].values()]
                for channel in self.document["channels"].values()}

    def resolve(self, node):
        while isinstance(node, dict) and set(node) == {"$ref"}:
            node = self.registry.resolver(BASE).lookup(BASE + node["$ref"]).contents
        return node

    def validator(self, event_type):
        key = self.messages.get(event_type)
        if key is None:
            return None
        return Draft7Validator({"$ref": f"{BASE}#/components/messages/{key}/payload"},
                               registry=self.registry, format_checker=FORMATS)

    def problems(self, event_type, body):
        """What is wrong with one collected event, as readable lines (none: it conforms)."""
        validator = self.validator(event_type)
        if validator is None:
            return [f"{event_type}: published, but docs/asyncapi.yaml has no message for it"]
        return [f"{event_type} {'/'.join(map(str, e.absolute_path)) or '(envelope)'}: {e.message}"
                for e in validator.iter_errors(body)]


# --- driving the real services ---------------------------------------------------------------

OWNER = {"user_id": "owner-1", "roles": []}
MODERATOR = {"user_id": "mod-1", "roles": ["moderator"]}
ADMIN = {"user_id": "admin-1", "roles": ["admin"]}
DONOR = {"user_id": "donor-named-1", "roles": []}
# A donor id nobody could mistake for anything else: it must appear in no event at all.
ANONYMOUS_DONOR = {"user_id": f"anon-donor-{uuid.uuid4().hex}", "roles": []}
MENTOR = {"user_id": "mentor-1", "roles": ["mentor"]}
PATRON = {"user_id": "patron-1", "roles": []}


def campaign_body(**overrides):
    body = {"title": "Robotics club in Kyzylorda", "summary": "Kits for 40 pupils.",
            "category": "technology", "region": "KZ-43", "funding_model": "keep_it_all",
            "goal_amount": 5_000_000, "duration_days": 30}
    body.update(overrides)
    return body


def donate(rpc, campaign_id, key, donor=DONOR, token="tok_success", amount=10_000, **extra):
    body = {"amount": amount, "payment_method": {"type": "card", "token": token}, **extra}
    return rpc.payments.create_donation(donor, campaign_id, body, key)


CROWDFUNDING_TYPES = {
    "campaign.submitted": 3, "campaign.approved": 2, "campaign.rejected": 1,
    "campaign.succeeded": 1, "campaign.failed": 1,
    "donation.succeeded": 3, "donation.failed": 1, "donation.refunded": 2, "payout.created": 1,
    "pool.created": 1, "match.applied": 2, "pool.exhausted": 1, "match.released": 1, "pool.expired": 1,
}


def drive_crowdfunding(rpc, collector, clock):
    """Every campaign, donation and patronage event: a keep-it-all campaign with a named, an
    anonymous and a declined gift, matched by a pool they exhaust, a partial refund that
    gives part of a match back, success and payout; a rejected campaign; an all-or-nothing
    one that fails and is refunded automatically; then the pool expires."""
    kept = rpc.campaigns.create_campaign(OWNER, campaign_body())["id"]
    rpc.campaigns.submit(OWNER, kept)
    rpc.campaigns.approve(MODERATOR, kept)
    pool = rpc.payments.create_pool(PATRON, {
        "name": "Technology in Kyzylorda", "budget_amount": 15_000, "ratio": 1,
        "cap_per_donation": 10_000, "cap_per_campaign": 100_000, "categories": ["technology"],
        "regions": [], "expires_at": isoformat(clock.now() + timedelta(days=1)),
        "payment_method": {"type": "card", "token": "tok_success"}}, "pool-1")
    assert pool["status"] == 201, pool
    named = donate(rpc, kept, "named-1")
    assert named["status"] == 201, named
    assert donate(rpc, kept, "anon-1", donor=ANONYMOUS_DONOR, anonymous=True)["status"] == 201
    assert donate(rpc, kept, "declined-1", token="tok_decline")["status"] == 402
    refunded = rpc.payments.refund_donation(ADMIN, named["body"]["id"], {"amount": 4_000}, "refund-1")
    assert refunded["status"] == 200, refunded
    rpc.campaigns.close(ADMIN, kept)
    paid = rpc.payments.create_payout(ADMIN, kept, "payout-1")
    assert paid["status"] == 201, paid

    rejected = rpc.campaigns.create_campaign(OWNER, campaign_body(title="Too vague"))["id"]
    rpc.campaigns.submit(OWNER, rejected)
    rpc.campaigns.reject(MODERATOR, rejected, {"reason": "The budget is missing."})

    failing = rpc.campaigns.create_campaign(OWNER, campaign_body(
        title="Observatory dome", category="science", funding_model="all_or_nothing",
        goal_amount=90_000_000))["id"]
    rpc.campaigns.submit(OWNER, failing)
    rpc.campaigns.approve(MODERATOR, failing)
    assert donate(rpc, failing, "named-2")["status"] == 201
    rpc.campaigns.close(ADMIN, failing)
    collector.wait_for("donation.refunded", 2, timeout=15)
    clock.advance(days=2)  # payments' sweep returns what is left of the pool

    for event_type, count in CROWDFUNDING_TYPES.items():
        collector.wait_for(event_type, count, timeout=15)
    return collector.drain()


# Talent: a minor with an IIN and a guardian, and adults; private strings to look for.
MINOR_BIRTH, ADULT_BIRTH = date(2010, 6, 1), date(2000, 4, 15)
GUARDIAN = {"guardian_name": "Гүлнар Сейітова", "relation": "mother", "consented_at": "2026-01-10T09:00:00Z"}

TALENT_TYPES = {
    "talent.registered": 3, "program.created": 1, "program.selected": 1,
    "application.submitted": 3, "application.offered": 3, "application.waitlisted": 2,
    "application.declined": 1, "application.expired": 1, "application.enrolled": 1,
    "application.completed": 1,
}


def drive_talent(rpc, collector, clock):
    """Every talent event: three applicants for one seat; the first declines, the offer to
    the second lapses, the third accepts and completes."""
    from talent.domain.iin import make_iin

    minor_iin, adult_iin = make_iin(MINOR_BIRTH, "male", "0077"), make_iin(ADULT_BIRTH, "female", "0042")
    people = [
        ({"user_id": "talent-minor", "roles": []},
         {"birth_date": MINOR_BIRTH.isoformat(), "iin": minor_iin, "guardian_consent": GUARDIAN}, 9),
        ({"user_id": "talent-adult-1", "roles": []}, {"birth_date": ADULT_BIRTH.isoformat(), "iin": adult_iin}, 7),
        ({"user_id": "talent-adult-2", "roles": []}, {"birth_date": ADULT_BIRTH.isoformat()}, 5),
    ]
    program = rpc.talent.create_program(MENTOR, {
        "kind": "course", "title": "Robotics for beginners", "field": "technology", "seats": 1,
        "application_deadline": isoformat(clock.now() + timedelta(days=7)),
        "starts_at": isoformat(clock.now() + timedelta(days=14))})
    applications = []
    for actor, private, score in people:
        rpc.talent.create_profile(actor, {"display_name": actor["user_id"], "region": "KZ-71",
                                          "fields": ["technology"], "bio": "Robots.", **private})
        application = rpc.talent.apply(actor, program["id"], {"motivation": "I build robots."})
        rpc.talent.score(MENTOR, application["id"], {"score": score})
        applications.append((actor, application["id"]))
    rpc.talent.select(MENTOR, program["id"])
    rpc.talent.decline(*applications[0])
    collector.wait_for("application.offered", 2)
    clock.advance(hours=73)  # the second's offer lapses; the third is offered the seat
    collector.wait_for("application.offered", 3, timeout=15)
    rpc.talent.accept(*applications[2])
    rpc.talent.complete(MENTOR, applications[2][1])

    for event_type, count in TALENT_TYPES.items():
        collector.wait_for(event_type, count, timeout=15)
    secrets = [minor_iin, adult_iin, MINOR_BIRTH.isoformat(), ADULT_BIRTH.isoformat(),
               GUARDIAN["guardian_name"]]
    return collector.drain(), secrets


def wait_quiet(collector, seconds=0.5):
    """Let stragglers (a duplicate, an unexpected extra event) arrive before judging."""
    count = -1
    while count != len(collector.drain(timeout=seconds)):
        count = len(collector.events)
    return collector.events


@dataclass
class Collected:
    events: list  # {"routing_key", "exchange", "body"} as the collector received them
    expected: dict  # event type → how many the flow must have produced at least
    secrets: list = field(default_factory=list)  # strings that must appear in no event


@pytest.fixture(scope="session")
def asyncapi():
    return AsyncApi()


@pytest.fixture
def crowdfunding_events(container_factory, service_config, rpc_client, collect_events):
    from campaigns.service import CampaignsService
    from payments.service import PaymentsService

    from nameko.testing.utils import get_extension

    clock = FrozenClock()
    container_factory(CampaignsService, service_config("campaigns")).start()
    payments = container_factory(PaymentsService, service_config("payments", POOL_SWEEP_SECONDS=0.2))
    get_extension(payments, Clock).clock = clock
    payments.start()
    collector = collect_events("campaigns", "payments", "talent")
    drive_crowdfunding(rpc_client, collector, clock)
    return Collected(wait_quiet(collector), CROWDFUNDING_TYPES, [ANONYMOUS_DONOR["user_id"]])


@pytest.fixture
def talent_events(container_factory, service_config, rpc_client, collect_events):
    from nameko.testing.utils import get_extension
    from talent.service import TalentService

    clock = FrozenClock()
    container = container_factory(TalentService, service_config("talent", OFFER_SWEEP_INTERVAL=0.1))
    get_extension(container, Clock).clock = clock
    container.start()
    collector = collect_events("campaigns", "payments", "talent")
    _, secrets = drive_talent(rpc_client, collector, clock)
    return Collected(wait_quiet(collector), TALENT_TYPES, secrets)
