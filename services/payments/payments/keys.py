"""Idempotency keys in payments' database, next to the money they protect."""
import json
import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from payments.domain import idempotency
from payments.models import IdempotencyKey

# Ids of what a keyed request creates are derived from the key, so a retry that takes over
# a crashed attempt addresses the same donation and the same provider charge.
_NAMESPACE = uuid.UUID("6f1c3a52-4b8e-4d59-9a43-5f1e2d7c8b90")


def derived_id(user_id, key, operation):
    return str(uuid.uuid5(_NAMESPACE, f"{operation}:{user_id}:{key}"))


def begin(session_factory, user_id, key, fingerprint, now):
    """Claim the key. Returns a stored answer to replay, or None when the caller should go on."""
    with session_factory() as session:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        claimed = session.execute(
            dialect.insert(IdempotencyKey).values(
                user_id=user_id, key=key, fingerprint=fingerprint, state="in_progress",
                locked_until=now + idempotency.IN_PROGRESS_LEASE, created_at=now,
            ).on_conflict_do_nothing()
        ).rowcount
        if claimed:
            session.commit()
            return None
        row = session.scalars(
            select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
            .with_for_update()
        ).one()
        stored = None
        if row.state == "completed":
            stored = {"status": row.response_status, "body": json.loads(row.response_body)}
        decision = idempotency.decide(row.fingerprint, row.state, _aware(row.locked_until), stored,
                                      fingerprint, now)
        if decision.take_over:
            row.locked_until = now + idempotency.IN_PROGRESS_LEASE
        session.commit()
        return decision.replay


def complete(session, user_id, key, status, body):
    """Store the answer, in the same transaction as the effect when there is one."""
    if not idempotency.storable(status):
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id,
                                                     IdempotencyKey.key == key))
        return
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        .values(state="completed", locked_until=None, response_status=status,
                response_body=json.dumps(body, ensure_ascii=False))
    )


def release(session_factory, user_id, key):
    """Nothing was done (a 5xx): forget the key so the same key may be retried."""
    with session_factory() as session:
        complete(session, user_id, key, 500, None)
        session.commit()


def _aware(moment):
    from demeu_common.clock import as_utc

    return as_utc(moment)
