"""No event carries private data (contract §8): no IIN, birth date, email or guardian data,
and never the donor of an anonymous donation — checked over every event the real services
publish while they are driven through every flow that emits one."""
import json

import pytest

from demeu_common.cloudevents import find_private_keys

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("flow", ["crowdfunding_events", "talent_events"])
def test_no_published_event_carries_a_private_field_or_value(flow, request):
    collected = request.getfixturevalue(flow)
    assert set(collected.expected) <= {e["routing_key"] for e in collected.events}
    leaks = {}
    for event in collected.events:
        keys = find_private_keys(event["body"])
        raw = json.dumps(event["body"], ensure_ascii=False)
        values = [secret for secret in collected.secrets if secret in raw]
        if keys or values:
            leaks.setdefault(event["routing_key"], []).append({"keys": keys, "values": values})
    assert leaks == {}


def test_an_anonymous_donors_id_appears_in_no_event_at_all(crowdfunding_events):
    (anonymous_donor,) = crowdfunding_events.secrets
    anonymous = [e["body"] for e in crowdfunding_events.events
                 if e["routing_key"] == "donation.succeeded" and e["body"]["data"]["anonymous"]]
    assert len(anonymous) == 1 and anonymous[0]["data"]["donor_id"] is None
    everything = json.dumps([e["body"] for e in crowdfunding_events.events], ensure_ascii=False)
    assert anonymous_donor not in everything
    # The check can see a donor id when one is there: the named donor's is.
    assert "donor-named-1" in everything
