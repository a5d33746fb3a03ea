import json
import hashlib

import pytest

from payments.domain import ledger
from payments.domain.idempotency import decide, fingerprint
from demeu_common.errors import Conflict, DomainError


def test_every_journal_entry_sums_to_zero():
    for postings in (
        ledger.donation_captured("c", 500),
        ledger.donation_refunded("c", 200),
        ledger.match_applied("c", "p", 300),
        ledger.match_released("c", "p", 300),
        ledger.payout("c", 1000, 25),
    ):
        assert sum(p.amount for p in postings) == 0


def test_unbalanced_or_fractional_postings_are_refused():
    with pytest.raises(ledger.UnbalancedEntry):
        ledger.balanced([ledger.Posting("a", 1), ledger.Posting("b", -2)])
    with pytest.raises(ledger.UnbalancedEntry):
        ledger.balanced([ledger.Posting("a", 0.5), ledger.Posting("b", -0.5)])


def test_chain_hash_is_the_contracts_canonical_json():
    entry = ledger.chain_entry(ledger.GENESIS_HASH, 1, "donation", 5000, "2026-11-26T10:00:00Z", "d-1")
    body = {k: v for k, v in entry.items() if k != "hash"}
    expected = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    assert entry["hash"] == expected and entry["prev_hash"] == "0" * 64


def test_a_tampered_chain_is_detected():
    first = ledger.chain_entry(ledger.GENESIS_HASH, 1, "donation", 5000, "t1", "d-1")
    second = ledger.chain_entry(first["hash"], 2, "refund", -2000, "t2", "d-1")
    assert ledger.verify_chain([first, second]) == []
    assert ledger.raised_from_chain([first, second]) == 3000
    forged = dict(second, amount=-1)
    assert ledger.verify_chain([first, forged])


def test_fee_is_rounded_down_in_the_campaigns_favour():
    assert ledger.fee_for(999, 250) == 24


def test_idempotency_key_rules():
    fp = fingerprint("donate", "c", {"amount": 1})
    assert fp == fingerprint("donate", "c", {"amount": 1})
    with pytest.raises(DomainError) as reused:
        decide(fp, "completed", None, {}, fingerprint("donate", "c", {"amount": 2}), None)
    assert reused.value.code == "idempotency_key_reused"
    assert decide(fp, "completed", None, {"status": 201}, fp, None).replay == {"status": 201}
    from datetime import datetime, timedelta, timezone
    now = datetime.now(timezone.utc)
    with pytest.raises(Conflict) as running:
        decide(fp, "in_progress", now + timedelta(seconds=5), None, fp, now)
    assert running.value.code == "request_in_progress"
    assert decide(fp, "in_progress", now - timedelta(seconds=5), None, fp, now).take_over
