"""Receipts without a database: the chain segment check and the PDF, with and without a font
that writes Kazakh."""
import pytest

from payments import receipts
from payments.domain import ledger


def segment():
    chain, prev = [], ledger.GENESIS_HASH
    for seq, (kind, amount) in enumerate([("donation", 500), ("donation", 1_000), ("match", 1_000),
                                          ("refund", -200)], start=1):
        entry = ledger.chain_entry(prev, seq, kind, amount, "2026-11-26T12:00:00Z", "d-1" if seq > 1 else None)
        chain.append(entry)
        prev = entry["hash"]
    return chain


def test_a_segment_from_any_entry_to_the_head_verifies_and_tampering_shows():
    chain = segment()
    assert ledger.verify_segment(chain[1:], chain[-1]["hash"]) == []
    assert ledger.verify_segment(chain[1:], "f" * 64) == ["the last entry is not the chain's head"]
    changed = [chain[1], dict(chain[2], amount=999_999), chain[3]]
    assert any("hash does not match" in p for p in ledger.verify_segment(changed, chain[-1]["hash"]))
    skipped = [chain[1], chain[3]]
    assert ledger.verify_segment(skipped, chain[-1]["hash"])


def receipt():
    chain = segment()
    return {"donation_id": "d-1", "donor": {"id": "donor-1"}, "anonymous": True, "amount": 1_000,
            "captured_amount": 1_000, "refunded_amount": 200, "currency": "KZT", "status": "partially_refunded",
            "campaign": {"id": "c-1", "title": "Ауыл кітапханасы — библиотека"}, "date": "2026-11-26T12:00:00Z",
            "entries": chain[1:], "issued_at": "2026-11-27T00:00:00Z",
            "chain_proof": {"campaign_id": "c-1", "from_seq": 2, "head_seq": 4, "head_hash": chain[-1]["hash"],
                            "entries": chain[1:], "how_to_verify": receipts.VERIFY_HOW}}


@pytest.mark.skipif(receipts.find_font() is None, reason="no DejaVu Sans (Debian: fonts-dejavu-core)")
def test_the_pdf_embeds_a_font_that_writes_kazakh():
    data = receipts.render_pdf(receipt())
    assert data.startswith(b"%PDF") and b"DejaVu" in data


def test_without_such_a_font_the_pdf_transliterates(monkeypatch):
    monkeypatch.setattr(receipts, "find_font", lambda name="": None)
    data = receipts.render_pdf(receipt())
    assert data.startswith(b"%PDF") and b"DejaVu" not in data
    assert receipts.transliterate("Ауыл кітапханасы") == "Auyl kitapkhanasy"
    assert receipts.transliterate("Қазақстан, Өскемен") == "Qazaqstan, Oskemen"


def test_money_is_written_in_tenge_from_tiyn():
    assert receipts.money(123_456, "KZT") == "1 234.56 KZT"
    assert receipts.money(-5, "KZT") == "-0.05 KZT"
