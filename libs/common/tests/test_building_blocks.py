import pytest
from nameko.exceptions import deserialize, serialize

from demeu_common.cloudevents import PrivateDataInEvent, is_cloudevent, make_event
from demeu_common.errors import Conflict, DomainError, ValidationFailed
from demeu_common.pagination import clamp_limit, decode_cursor, encode_cursor


def test_domain_errors_cross_rpc_with_status_code_and_field_errors_intact():
    sent = ValidationFailed("bad", errors={"amount": ["Must be an integer amount in tiyn."]}, extra={"n": 3})
    received = deserialize(serialize(sent))
    assert type(received) is ValidationFailed
    assert received.to_problem() == sent.to_problem()
    assert received.to_problem()["status"] == 422 and received.to_problem()["n"] == 3
    conflict = deserialize(serialize(Conflict("gone", code="reward_sold_out")))
    assert (conflict.status, conflict.code) == (409, "reward_sold_out")
    assert isinstance(deserialize(serialize(DomainError("x", code="y", status=402))), DomainError)


def test_events_are_cloudevents_and_refuse_private_fields_at_any_depth():
    event = make_event("payments", "donation.succeeded", {"amount": 100}, subject="d-1")
    assert is_cloudevent(event) and event["source"] == "demeu/payments" and event["specversion"] == "1.0"
    assert event["id"] != make_event("payments", "donation.succeeded", {})["id"]
    for data in ({"iin": "1"}, {"talent": {"birth_date": "2000-01-01"}}, {"people": [{"email": "a@b"}]}):
        with pytest.raises(PrivateDataInEvent):
            make_event("talent", "talent.registered", data)


def test_cursors_round_trip_and_foreign_ones_are_a_validation_error():
    assert decode_cursor(encode_cursor("2026-11-26T10:00:00Z", "abc")) == ["2026-11-26T10:00:00Z", "abc"]
    with pytest.raises(ValidationFailed):
        decode_cursor("not-a-cursor!")
    assert clamp_limit("500") == 100 and clamp_limit(0) == 1 and clamp_limit(None) == 20
