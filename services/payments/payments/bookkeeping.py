"""Writes the ledger: a journal entry, its postings and the campaign's public chain link, in
the caller's transaction. The rules of what to post live in :mod:`payments.domain.ledger`."""
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from demeu_common.clock import isoformat

from payments.domain import ledger
from payments.models import ChainEntry, ChainHead, JournalEntry, Posting


def record(session, *, kind, reference, postings, campaign_id, now, public_amount, donation_id=None,
           extra_links=()):
    """Post one balanced journal entry and link it into the campaign's public chain.

    ``extra_links`` are further ``(kind, public_amount)`` chain links of the same journal
    entry (a payout's fee). Returns None when ``reference`` was already posted: each
    operation posts once."""
    postings = ledger.balanced(postings)
    existing = session.scalar(select(JournalEntry.id).where(JournalEntry.reference == reference))
    if existing is not None:
        return None
    journal = JournalEntry(kind=kind, campaign_id=campaign_id, donation_id=donation_id,
                           reference=reference, created_at=now)
    session.add(journal)
    session.flush()
    session.add_all(Posting(journal_id=journal.id, account=p.account, amount=p.amount) for p in postings)
    head = lock_head(session, campaign_id)
    first = None
    for link_kind, amount in ((kind, public_amount), *extra_links):
        entry = ledger.chain_entry(head.last_hash, head.last_seq + 1, link_kind, amount,
                                   isoformat(now), donation_id)
        session.add(ChainEntry(campaign_id=campaign_id, seq=entry["seq"], kind=link_kind, amount=amount,
                               donation_id=donation_id, at=entry["at"], prev_hash=entry["prev_hash"],
                               hash=entry["hash"], journal_id=journal.id))
        head.last_seq, head.last_hash = entry["seq"], entry["hash"]
        first = first or entry
    return first


def record_unchained(session, *, kind, reference, postings, now, campaign_id=None, donation_id=None):
    """Post one balanced journal entry that belongs to no campaign's public chain (a pool's
    budget charged or returned). Returns False when ``reference`` was already posted."""
    postings = ledger.balanced(postings)
    if session.scalar(select(JournalEntry.id).where(JournalEntry.reference == reference)) is not None:
        return False
    journal = JournalEntry(kind=kind, campaign_id=campaign_id, donation_id=donation_id,
                           reference=reference, created_at=now)
    session.add(journal)
    session.flush()
    session.add_all(Posting(journal_id=journal.id, account=p.account, amount=p.amount) for p in postings)
    return True


def account_balance(session, account):
    return int(session.scalar(
        select(func.coalesce(func.sum(Posting.amount), 0)).where(Posting.account == account)
    ))


def escrow_balance(session, campaign_id):
    """What the platform still owes a campaign: the escrow account's credit balance."""
    return -int(session.scalar(
        select(func.coalesce(func.sum(Posting.amount), 0)).where(Posting.account == ledger.escrow(campaign_id))
    ))


def posted(session, reference):
    return session.scalar(select(JournalEntry.id).where(JournalEntry.reference == reference)) is not None


def lock_head(session, campaign_id):
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(ChainHead)
        .values(campaign_id=campaign_id, last_seq=0, last_hash=ledger.GENESIS_HASH)
        .on_conflict_do_nothing()
    )
    return session.scalars(
        select(ChainHead).where(ChainHead.campaign_id == campaign_id).with_for_update()
    ).one()


def chain_view(entry):
    view = {"seq": entry.seq, "kind": entry.kind, "amount": entry.amount, "at": entry.at,
            "prev_hash": entry.prev_hash, "hash": entry.hash}
    if entry.donation_id is not None:
        view["donation_id"] = entry.donation_id
    return view


def check(session):
    """The whole ledger balanced, and every campaign's chain intact and equal to its postings."""
    total = session.scalar(select(func.coalesce(func.sum(Posting.amount), 0)))
    entries = session.scalar(select(func.count()).select_from(JournalEntry))
    unbalanced = session.execute(
        select(Posting.journal_id).group_by(Posting.journal_id).having(func.sum(Posting.amount) != 0)
    ).scalars().all()
    mismatches = [{"journal_id": j, "problem": "journal entry does not sum to zero"} for j in unbalanced]
    campaign_ids = session.scalars(select(ChainHead.campaign_id).order_by(ChainHead.campaign_id)).all()
    raised_by_postings = dict(session.execute(
        select(JournalEntry.campaign_id, -func.sum(Posting.amount))
        .join(Posting, Posting.journal_id == JournalEntry.id)
        .where(Posting.account.like("campaign:%:escrow"))
        .where(JournalEntry.kind.in_(tuple(ledger.RAISING_KINDS)))
        .group_by(JournalEntry.campaign_id)
    ).all())
    for campaign_id in campaign_ids:
        chain = [chain_view(e) for e in session.scalars(
            select(ChainEntry).where(ChainEntry.campaign_id == campaign_id).order_by(ChainEntry.seq)
        )]
        for problem in ledger.verify_chain(chain):
            mismatches.append({"campaign_id": campaign_id, "problem": problem})
        chain_raised = ledger.raised_from_chain(chain)
        posted_raised = int(raised_by_postings.get(campaign_id) or 0)
        if chain_raised != posted_raised:
            mismatches.append({"campaign_id": campaign_id, "problem": "chain and postings disagree",
                               "chain_raised_amount": chain_raised, "posted_raised_amount": posted_raised})
    return {
        "balanced": total == 0 and not unbalanced,
        "entries": entries,
        "campaigns_checked": len(campaign_ids),
        "mismatches": mismatches,
        "raised_by_campaign": {c: int(raised_by_postings.get(c) or 0) for c in campaign_ids},
    }
