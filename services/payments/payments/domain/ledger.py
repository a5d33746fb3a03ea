"""Double-entry bookkeeping and the public hash chain. Pure Python: tests need no database.

Postings are signed integers in tiyn: positive debits, negative credits. Every journal entry
sums to zero; nothing is ever updated or deleted, a correction is another entry.

Accounts:
  provider_clearing            money held for us by the card acquirer
  campaign:<id>:escrow         what the platform owes a campaign until payout
  campaign:<id>:payable        released to the owner by a payout
  pool:<id>                    a patron's matching budget
  platform:fees                the platform's fee income
"""
import hashlib
import json
from dataclasses import dataclass

GENESIS_HASH = "0" * 64

# Public kinds, and the sign of their effect on what a campaign has raised.
DONATION, REFUND, MATCH, MATCH_RELEASED, PAYOUT, FEE = (
    "donation", "refund", "match", "match_released", "payout", "fee",
)
RAISING_KINDS = {DONATION: 1, MATCH: 1, REFUND: -1, MATCH_RELEASED: -1}
# Journal kinds of a pool's own money, with no campaign and so no public chain link.
POOL_BUDGET, POOL_RETURN = "pool_budget", "pool_return"


class UnbalancedEntry(ValueError):
    pass


@dataclass(frozen=True)
class Posting:
    account: str
    amount: int


def escrow(campaign_id):
    return f"campaign:{campaign_id}:escrow"


def payable(campaign_id):
    return f"campaign:{campaign_id}:payable"


def pool_account(pool_id):
    return f"pool:{pool_id}"


PROVIDER_CLEARING = "provider_clearing"
PLATFORM_FEES = "platform:fees"


def balanced(postings):
    postings = list(postings)
    if not postings or sum(p.amount for p in postings) != 0:
        raise UnbalancedEntry(f"postings do not sum to zero: {postings}")
    if any(not isinstance(p.amount, int) or isinstance(p.amount, bool) for p in postings):
        raise UnbalancedEntry("amounts must be integer tiyn")
    return postings


def donation_captured(campaign_id, amount):
    return balanced([Posting(PROVIDER_CLEARING, amount), Posting(escrow(campaign_id), -amount)])


def donation_refunded(campaign_id, amount):
    return balanced([Posting(escrow(campaign_id), amount), Posting(PROVIDER_CLEARING, -amount)])


def match_applied(campaign_id, pool_id, amount):
    return balanced([Posting(pool_account(pool_id), amount), Posting(escrow(campaign_id), -amount)])


def match_released(campaign_id, pool_id, amount):
    return balanced([Posting(escrow(campaign_id), amount), Posting(pool_account(pool_id), -amount)])


def pool_funded(pool_id, amount):
    """The patron's budget charged: the acquirer holds it, the platform owes it to the pool."""
    return balanced([Posting(PROVIDER_CLEARING, amount), Posting(pool_account(pool_id), -amount)])


def pool_returned(pool_id, amount):
    """Unused budget refunded to the patron at expiry: the pool account goes back to zero."""
    return balanced([Posting(pool_account(pool_id), amount), Posting(PROVIDER_CLEARING, -amount)])


def payout(campaign_id, amount, fee):
    postings = [Posting(escrow(campaign_id), amount), Posting(payable(campaign_id), -(amount - fee))]
    if fee:
        postings.append(Posting(PLATFORM_FEES, -fee))
    return balanced(postings)


def fee_for(amount, fee_bps):
    """Platform fee in tiyn, rounded down: the campaign never pays a fraction extra."""
    return amount * fee_bps // 10_000


# --- the public chain -------------------------------------------------------------------------

def canonical_json(entry):
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry):
    """SHA-256 of the entry's canonical JSON without its ``hash`` (``prev_hash`` included)."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def chain_entry(prev_hash, seq, kind, amount, at, donation_id=None):
    entry = {"seq": seq, "kind": kind, "amount": amount, "at": at, "prev_hash": prev_hash}
    if donation_id is not None:
        entry["donation_id"] = donation_id
    entry["hash"] = entry_hash(entry)
    return entry


def verify_chain(entries):
    """Returns the list of problems (empty when the chain is intact)."""
    problems = []
    expected_prev = GENESIS_HASH
    for index, entry in enumerate(entries, start=1):
        if entry.get("seq") != index:
            problems.append(f"entry {index}: seq {entry.get('seq')} out of order")
        if entry.get("prev_hash") != expected_prev:
            problems.append(f"entry {index}: prev_hash does not link to the entry before")
        if entry_hash(entry) != entry.get("hash"):
            problems.append(f"entry {index}: hash does not match its content")
        expected_prev = entry.get("hash")
    return problems


def verify_segment(entries, head_hash=None):
    """Problems of a run of consecutive chain entries that need not start at the genesis (a
    receipt's proof: from a donation's first entry up to the campaign's head). Each entry's
    hash must match its content, each ``prev_hash`` the hash before it, and the last hash
    ``head_hash`` when given."""
    problems = []
    for index, entry in enumerate(entries):
        if entry_hash(entry) != entry.get("hash"):
            problems.append(f"entry {entry.get('seq')}: hash does not match its content")
        if index:
            before = entries[index - 1]
            if entry.get("seq") != before.get("seq", 0) + 1:
                problems.append(f"entry {entry.get('seq')}: seq does not follow {before.get('seq')}")
            if entry.get("prev_hash") != before.get("hash"):
                problems.append(f"entry {entry.get('seq')}: prev_hash does not link to the entry before")
    if head_hash is not None and (not entries or entries[-1].get("hash") != head_hash):
        problems.append("the last entry is not the chain's head")
    return problems


def raised_from_chain(entries):
    return sum(e["amount"] for e in entries if e["kind"] in RAISING_KINDS)
