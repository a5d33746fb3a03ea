"""docs/asyncapi.yaml is checked against what the services really publish (contract §8): the
real campaigns, payments and talent containers are driven until they publish each kind of
event, a plain-kombu subscriber collects them from the exchanges, and every one must be a
message the document describes, on the exchange it names, with a payload that validates."""
import importlib
from collections import Counter

import pytest
from jsonschema import Draft7Validator

from notifications.events import EVENT_TYPES as HEARD_BY_NOTIFICATIONS

CONTRACT_TYPES = {
    "campaign.submitted", "campaign.approved", "campaign.rejected", "campaign.succeeded",
    "campaign.failed", "donation.succeeded", "donation.failed", "donation.refunded",
    "match.applied", "match.released", "pool.created", "pool.exhausted", "pool.expired",
    "talent.registered", "program.created", "application.submitted", "application.offered",
    "application.waitlisted", "application.enrolled", "application.declined",
}
PUBLISHERS = ("campaigns", "payments", "talent")


def declared_types(service_name):
    """The event type constants of a service's events.py (``"a.b"`` strings in capitals)."""
    module = importlib.import_module(f"{service_name}.events")
    return {value for name, value in vars(module).items()
            if name.isupper() and isinstance(value, str) and value.count(".") == 1
            and value.split(".")[0].isalpha()}


def test_the_document_describes_every_type_the_contract_and_the_services_name(asyncapi):
    documented = set(asyncapi.messages)
    declared = set().union(*(declared_types(s) for s in PUBLISHERS))
    assert CONTRACT_TYPES - documented == set()
    assert declared - documented == set(), "a service declares event types the document lacks"
    assert set(HEARD_BY_NOTIFICATIONS) - documented == set()


def test_each_type_is_a_routing_key_on_its_publishers_durable_topic_exchange(asyncapi):
    channels = asyncapi.channels()
    assert set(channels) == set(asyncapi.messages)
    owners = {t: s for s in PUBLISHERS for t in declared_types(s)}
    for event_type, binding in channels.items():
        exchange = binding["exchange"]
        assert binding["is"] == "routingKey"
        assert (exchange["type"], exchange["durable"], exchange["autoDelete"]) == ("topic", True, False)
        if event_type in owners:
            assert exchange["name"] == f"{owners[event_type]}.events", event_type
        assert asyncapi.channel_messages()[event_type] == [event_type]


def test_every_payload_schema_is_valid_json_schema(asyncapi):
    for event_type in asyncapi.messages:
        validator = asyncapi.validator(event_type)
        Draft7Validator.check_schema(validator.schema)
        payload = asyncapi.resolve(asyncapi.document["components"]["messages"][asyncapi.messages[event_type]])
        Draft7Validator.check_schema(payload["payload"])
        # Every $ref in it resolves: an invalid body must be judged, not crash the validator.
        list(validator.iter_errors({"data": {}}))


def test_the_document_refuses_what_it_should(asyncapi):
    event = {"specversion": "1.0", "id": "x", "source": "demeu/payments", "type": "donation.succeeded",
             "time": "2026-01-01T00:00:00Z", "datacontenttype": "application/json", "data": {
                 "donation_id": "5f0c7b8e-1c1e-4c1e-9c1e-1c1e1c1e1c1e",
                 "campaign_id": "5f0c7b8e-1c1e-4c1e-9c1e-1c1e1c1e1c1f",
                 "campaign_owner_id": "o", "campaign_title": "t", "category": "science", "region": "KZ-71",
                 "amount": 100, "currency": "KZT", "anonymous": False, "donor_id": "d",
                 "backer_ref": "0" * 32, "reward_id": None, "status": "succeeded",
                 "created_at": "2026-01-01T00:00:00Z"}}
    assert asyncapi.problems("donation.succeeded", event) == []
    anonymous_but_named = {**event, "data": {**event["data"], "anonymous": True}}
    assert asyncapi.problems("donation.succeeded", anonymous_but_named)
    undocumented_field = {**event, "data": {**event["data"], "email": "a@b.kz"}}
    assert asyncapi.problems("donation.succeeded", undocumented_field)
    float_money = {**event, "data": {**event["data"], "amount": 1.5}}
    assert asyncapi.problems("donation.succeeded", float_money)
    assert asyncapi.problems("donation.teleported", event)


def assert_conforms(asyncapi, collected):
    problems, exchanges = [], asyncapi.channels()
    for event in collected.events:
        event_type, body = event["routing_key"], event["body"]
        problems += asyncapi.problems(event_type, body)
        documented = exchanges.get(event_type, {}).get("exchange", {}).get("name")
        if documented and event["exchange"] != documented:
            problems.append(f"{event_type}: published on {event['exchange']}, documented on {documented}")
        if body.get("type") != event_type:
            problems.append(f"{event_type}: routing key and CloudEvent type differ ({body.get('type')})")
    assert problems == [], "events that docs/asyncapi.yaml does not describe:\n" + "\n".join(problems)
    seen = Counter(e["routing_key"] for e in collected.events)
    missing = {t: n for t, n in collected.expected.items() if seen[t] < n}
    assert missing == {}, f"the flow published fewer events than it should: {dict(seen)}"
    ids = [e["body"]["id"] for e in collected.events]
    assert len(ids) == len(set(ids)), "one event id was published twice"


@pytest.mark.integration
def test_campaign_and_donation_events_published_match_the_document(asyncapi, crowdfunding_events):
    assert_conforms(asyncapi, crowdfunding_events)


@pytest.mark.integration
def test_talent_events_published_match_the_document(asyncapi, talent_events):
    assert_conforms(asyncapi, talent_events)
