"""Offer expiry on an injected clock; funded seats; certificates anyone can verify."""
import base64

from demeu_common.clock import FrozenClock

from talent.dependencies import DEV_CERTIFICATE_LABEL, dev_key, vault_from_config
from talent.domain import certificates, funding, offers


def test_offer_lapses_exactly_when_its_72_hours_are_up():
    clock = FrozenClock()
    expires = offers.expires_at(clock.now())
    assert not offers.is_expired(expires, clock.now())
    clock.advance(hours=71, minutes=59)
    assert offers.due([("a", expires)], clock.now()) == []
    clock.advance(minutes=1)
    assert offers.due([("a", expires)], clock.now()) == ["a"]


def test_offer_hours_of_the_program_override_the_default():
    clock = FrozenClock()
    expires = offers.expires_at(clock.now(), hours=1)
    clock.advance(hours=1)
    assert offers.is_expired(expires, clock.now())


def test_funded_seats_are_raised_over_seat_cost_floored_and_skip_failed_campaigns():
    assert funding.funded_seats([(250_000, 100_000, "live"), (99_999, 100_000, "live")]) == 2
    assert funding.funded_seats([(500_000, 100_000, "failed"), (300_000, None, "live")]) == 0
    assert funding.raised(120, 80) == 120 and funding.raised(0, 80) == 80


CONTENT = {"certificate_id": "c1", "talent_id": "t1", "display_name": "Әлия", "program_id": "p1",
           "program_title": "Робототехника", "program_kind": "course", "program_field": "technology",
           "mentor_id": "m1", "issued_at": "2026-01-01T00:00:00Z"}


def test_certificate_signature_verifies_with_the_published_key_and_fails_when_tampered():
    vault = vault_from_config({})
    signature = vault.sign(CONTENT)
    assert certificates.verify(vault.public_key, CONTENT, signature)
    assert not certificates.verify(vault.public_key, {**CONTENT, "display_name": "Someone"}, signature)
    other = vault_from_config({"TALENT_CERTIFICATE_KEY": base64.urlsafe_b64encode(b"x" * 32).decode()})
    assert not certificates.verify(other.public_key, CONTENT, signature)


def test_canonical_content_is_sorted_compact_utf8():
    assert certificates.canonical(CONTENT).decode().startswith('{"certificate_id":"c1","display_name":"Әлия"')


def test_private_values_are_encrypted_and_the_dev_key_is_deterministic():
    first, second = vault_from_config({}), vault_from_config({})
    token = first.encrypt("870228401232")
    assert "870228401232" not in token and second.decrypt(token) == "870228401232"
    assert dev_key(DEV_CERTIFICATE_LABEL) == dev_key(DEV_CERTIFICATE_LABEL)
