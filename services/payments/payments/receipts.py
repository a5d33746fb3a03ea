"""Donation receipts: what was given, to whom, and the proof that the public ledger holds it.

The JSON receipt carries the donation's own chain entries and the chain from its first entry
up to the campaign's head, so anyone can recompute every hash (contract §4's canonical JSON)
from the gift to the latest movement of the campaign's money. The PDF says the same for
people, in a font that writes Kazakh and Russian (DejaVu Sans, Debian's fonts-dejavu-core);
without one it falls back to a built-in font and transliterates to Latin letters.
"""
import os
from pathlib import Path

from sqlalchemy import select

from demeu_common.clock import as_utc, isoformat

from payments import bookkeeping
from payments.models import ChainEntry, ChainHead

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts",
             "/usr/share/fonts/TTF")
VERIFY_HOW = ("Each entry's hash is the lowercase hex SHA-256 of its canonical JSON without the hash field "
              "(keys sorted, no whitespace, UTF-8, non-ASCII unescaped; prev_hash included); each prev_hash "
              "is the hash of the entry before; the last hash is the campaign's head_hash.")


def build(session, donation, now):
    entries = session.scalars(
        select(ChainEntry).where(ChainEntry.campaign_id == donation.campaign_id,
                                 ChainEntry.donation_id == donation.id).order_by(ChainEntry.seq)
    ).all()
    proof = None
    if entries:
        head = session.get(ChainHead, donation.campaign_id)
        chain = session.scalars(
            select(ChainEntry).where(ChainEntry.campaign_id == donation.campaign_id,
                                     ChainEntry.seq >= entries[0].seq).order_by(ChainEntry.seq)
        ).all()
        proof = {"campaign_id": donation.campaign_id, "from_seq": entries[0].seq, "head_seq": head.last_seq,
                 "head_hash": head.last_hash, "entries": [bookkeeping.chain_view(e) for e in chain],
                 "how_to_verify": VERIFY_HOW}
    return {
        "donation_id": donation.id,
        "donor": {"id": donation.donor_id},
        "anonymous": donation.anonymous,
        "amount": donation.amount,
        "captured_amount": donation.captured_amount,
        "refunded_amount": donation.refunded_amount,
        "currency": donation.currency,
        "status": donation.status,
        "campaign": {"id": donation.campaign_id, "title": donation.campaign_title},
        "date": isoformat(as_utc(donation.created_at)),
        "entries": [bookkeeping.chain_view(e) for e in entries],
        "chain_proof": proof,
        "issued_at": isoformat(now),
    }


def find_font(name="DejaVuSans.ttf"):
    configured = os.environ.get("RECEIPT_FONT_DIR")
    for directory in ((configured,) if configured else ()) + FONT_DIRS:
        path = Path(directory) / name
        if path.is_file():
            return str(path)
    return None


_TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
    ["a", "b", "v", "g", "d", "e", "yo", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t",
     "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "a", "g", "q", "ng", "o", "u",
     "u", "h", "i"]))


def transliterate(text):
    """Latin letters for a font without Cyrillic; anything else unknown becomes "?"."""
    out = []
    for char in str(text):
        lower = char.lower()
        if lower in _TRANSLIT:
            latin = _TRANSLIT[lower]
            out.append(latin.capitalize() if char != lower else latin)
        elif ord(char) < 256:
            out.append(char)
        else:
            out.append("?")
    return "".join(out)


def money(amount, currency):
    sign = "-" if amount < 0 else ""
    whole, tiyn = divmod(abs(int(amount)), 100)
    return f"{sign}{whole:,}.{tiyn:02d} {currency}".replace(",", " ")


def render_pdf(receipt):
    """The receipt as PDF bytes."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4")
    pdf.set_title(f"Demeu receipt {receipt['donation_id']}")
    pdf.set_creator("Demeu payments")
    regular, mono = find_font("DejaVuSans.ttf"), find_font("DejaVuSansMono.ttf")
    if regular:
        pdf.add_font("DejaVu", "", regular)
        pdf.add_font("DejaVuMono", "", mono or regular)
        text, font, mono_font = str, "DejaVu", "DejaVuMono"
    else:
        text, font, mono_font = transliterate, "Helvetica", "Courier"
    pdf.add_page()

    def line(value, size=11, family=None, height=6):
        pdf.set_font(family or font, size=size)
        pdf.multi_cell(0, height, text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line("Demeu — Түбіртек / Квитанция / Donation receipt", size=16, height=9)
    line("")
    donor = receipt["donor"]["id"] + (" (анонимно / anonymous to the public)" if receipt["anonymous"] else "")
    for label, value in (
        ("Донор / Donor", donor),
        ("Сома / Сумма / Amount", money(receipt["amount"], receipt["currency"])),
        ("Қайтарылды / Refunded", money(receipt["refunded_amount"], receipt["currency"])),
        ("Жоба / Кампания / Campaign", f"{receipt['campaign']['title']} ({receipt['campaign']['id']})"),
        ("Күні / Дата / Date", receipt["date"]),
        ("Мәртебе / Status", receipt["status"]),
        ("Donation id", receipt["donation_id"]),
    ):
        line(f"{label}: {value}")
    line("")
    line("Ledger entries of this donation", size=12)
    for entry in receipt["entries"]:
        line(f"#{entry['seq']} {entry['kind']} {money(entry['amount'], receipt['currency'])} {entry['at']}", size=9)
        line(f"hash {entry['hash']}", size=7, family=mono_font, height=4)
    proof = receipt.get("chain_proof")
    if proof:
        line("")
        line(f"Chain proof: entries {proof['from_seq']}–{proof['head_seq']} of campaign {proof['campaign_id']}",
             size=12)
        line(f"head_hash {proof['head_hash']}", size=7, family=mono_font, height=4)
        line(proof["how_to_verify"], size=8, height=4)
        for entry in proof["entries"]:
            line(f"{entry['seq']:>5} {entry['kind']:<15} {entry['amount']:>14} prev {entry['prev_hash'][:16]}… "
                 f"hash {entry['hash']}", size=6, family=mono_font, height=3.5)
    line("")
    line(f"Issued {receipt['issued_at']} · public ledger: GET /v1/campaigns/{receipt['campaign']['id']}/ledger",
         size=8)
    return bytes(pdf.output())
