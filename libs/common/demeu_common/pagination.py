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


def checked_limit(limit):
    """``limit`` as given, or a 422 when it is not a whole number from 1 to 100."""
    if limit is None:
        return DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed("limit must be 1–100.", errors={"limit": ["Must be between 1 and 100."]})
    return limit


def keyset_query(query, created_column, id_column, cursor, limit, newest_first=True):
    """Order ``query`` by (created_at, id) and start it after ``cursor``; fetches one row
    more than ``limit`` so :func:`keyset_result` knows whether a next page exists."""
    if cursor:
        values = decode_cursor(cursor)
        try:
            created_at = datetime.fromisoformat(str(values[0]).replace("Z", "+00:00"))
            last_id = str(values[1])
        except (IndexError, ValueError):
            raise ValidationFailed("The cursor is not valid.", code="invalid_cursor",
                                   errors={"cursor": ["Not a cursor this API issued."]})
        if newest_first:
            query = query.where(or_(created_column < created_at,
                                    and_(created_column == created_at, id_column < last_id)))
        else:
            query = query.where(or_(created_column > created_at,
                                    and_(created_column == created_at, id_column > last_id)))
    order = (created_column.desc(), id_column.desc()) if newest_first else (created_column, id_column)
    return query.order_by(*order).limit(limit + 1)


def keyset_result(rows, limit, view, created_attr="created_at", id_attr="id"):
    """``{"items", "next_cursor"}`` from the rows of a :func:`keyset_query`."""
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(getattr(last, created_attr), getattr(last, id_attr))
    return {"items": [view(row) for row in page], "next_cursor": next_cursor}


def newest_first_page(session, query, created_column, id_column, limit, cursor, view):
    """Run ``query`` newest first after ``cursor``; returns ``{"items", "next_cursor"}``."""
    limit = clamp_limit(limit)
    rows = session.scalars(keyset_query(query, created_column, id_column, cursor, limit)).all()
    return keyset_result(rows, limit, view, created_column.key, id_column.key)
