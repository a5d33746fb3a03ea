"""Cursor pagination shared by every list (contract §2: ``limit`` 1–100, opaque ``cursor``).

Lists are ordered newest first by (created_at, id): a keyset order that stays stable while
rows are added, which offsets are not."""
import base64
import json
from datetime import datetime

from sqlalchemy import and_, or_

from demeu_common.clock import isoformat
from demeu_common.errors import ValidationFailed

DEFAULT_LIMIT, MAX_LIMIT = 20, 100


def encode_cursor(*values):
    raw = json.dumps([isoformat(v) if isinstance(v, datetime) else v for v in values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor):
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list):
            raise ValueError
        return values
    except (ValueError, TypeError):
        raise ValidationFailed("The cursor is not valid.", code="invalid_cursor",
                               errors={"cursor": ["Not a cursor this API issued."]})


def clamp_limit(limit):
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        limit = DEFAULT_LIMIT
    return max(1, min(limit, MAX_LIMIT))


def newest_first_page(session, query, created_column, id_column, limit, cursor, view):
    """Run ``query`` newest first after ``cursor``; returns ``{"items", "next_cursor"}``."""
    limit = clamp_limit(limit)
    if cursor:
        values = decode_cursor(cursor)
        try:
            created_at = datetime.fromisoformat(str(values[0]).replace("Z", "+00:00"))
            last_id = values[1]
        except (IndexError, ValueError):
            raise ValidationFailed("The cursor is not valid.", code="invalid_cursor",
                                   errors={"cursor": ["Not a cursor this API issued."]})
        query = query.where(or_(created_column < created_at,
                                and_(created_column == created_at, id_column < last_id)))
    rows = session.scalars(query.order_by(created_column.desc(), id_column.desc()).limit(limit + 1)).all()
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(getattr(last, created_column.key), getattr(last, id_column.key))
    return {"items": [view(row) for row in page], "next_cursor": next_cursor}
