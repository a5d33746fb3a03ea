import pytest

from demeu_common.errors import DomainError

from payments.domain import signatures
from payments.providers.sandbox import sign as sandbox_sign

SECRET = "whsec"
BODY = b'{"id":"evt_1","type":"charge.succeeded","charge_id":"ch_1","reference":"d-1"}'
NOW = 1_800_000_000


def refused(header, body=BODY, now=NOW):
    with pytest.raises(DomainError) as error:
        signatures.verify(SECRET, body, header, now)
    assert error.value.code == "invalid_signature" and error.value.status == 401


def test_a_good_signature_is_accepted_as_bytes_or_text():
    header = sandbox_sign(SECRET, NOW, BODY)
    assert signatures.verify(SECRET, BODY, header, NOW) == NOW
    assert signatures.verify(SECRET, BODY.decode(), header, NOW + 299) == NOW
    assert signatures.sign(SECRET, NOW, BODY) == header


def test_a_bad_signature_or_other_body_is_refused():
    refused(sandbox_sign("other-secret", NOW, BODY))
    refused(sandbox_sign(SECRET, NOW, BODY), body=BODY.replace(b"d-1", b"d-2"))
    refused("t=abc,v1=00")
    refused(f"t={NOW}")
    refused("")


def test_signatures_older_or_newer_than_five_minutes_are_refused():
    refused(sandbox_sign(SECRET, NOW - 301, BODY))
    refused(sandbox_sign(SECRET, NOW + 301, BODY))
