"""Keyset pagination over (created_at, id): stable under inserts, opaque to clients."""
import base64
import json
from datetime import datetime

from sqlalchemy import and_, or_

from demeu_common.clock import isoformat
from demeu_common.errors import ValidationFailed


def _limit(limit):
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
        raise ValidationFailed("limit must be 1–100.", errors={"limit": ["Must be between 1 and 100."]})
    return limit


def paginate(query, model, cursor, limit, newest_first=True):
    limit = _limit(limit)
    if cursor:
        created_at, last_id = decode_cursor(cursor)
        if newest_first:
            query = query.where(or_(model.created_at < created_at,
                                    and_(model.created_at == created_at, model.id < last_id)))
        else:
            query = query.where(or_(model.created_at > created_at,
                                    and_(model.created_at == created_at, model.id > last_id)))
    order = (model.created_at.desc(), model.id.desc()) if newest_first else (model.created_at, model.id)
    return query.order_by(*order).limit(limit + 1)


def page(rows, limit, view):
    items = [view(row) for row in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor}


def encode_cursor(row):
    raw = json.dumps([isoformat(row.created_at), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor):
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, last_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(created_at.replace("Z", "+00:00")), str(last_id)
    except (ValueError, TypeError, AttributeError):
        raise ValidationFailed("The cursor is not valid.", code="invalid_cursor",
                               errors={"cursor": ["Not a cursor this API issued."]})
