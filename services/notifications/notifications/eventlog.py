"""The event log behind ``GET /v1/events`` (contract §8): every event the platform published,
once, in the order notifications recorded it, replayable from an opaque cursor.

Why a reader never skips an event
---------------------------------
``seq`` comes from a PostgreSQL sequence, which hands out numbers when a row is inserted, not
when its transaction commits. Two handlers could take 10 and 11, the one with 11 commit
first, and a reader that then read "up to 11" would move its cursor past 10 for good.

So the number is taken under a transaction-scoped advisory lock (``pg_advisory_xact_lock``),
as the last statement before commit: a writer that gets the lock, inserts and commits
releases it only once its commit is visible (PostgreSQL makes a commit visible before it
releases the transaction's locks). Whoever takes the next number therefore does so after
every smaller number is visible or rolled back for good: seq order is commit order, and any
snapshot that sees ``n`` sees everything below ``n`` that will ever exist.

The alternatives were weaker or heavier: serving only rows older than ~1 s narrows the race
without closing it (a transaction can stall longer than any margin, under a lock wait or a
paused process), and a single sequencing writer is another process to run and keep alive.
The cost of the lock is that on_event commits one at a time at the very end of their
transaction — an insert and a commit, milliseconds, with nothing remote inside.

SQLite already allows one writer at a time, so there the order is commit order by itself.
"""
import json

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from demeu_common.errors import ValidationFailed
from demeu_common.pagination import decode_cursor, encode_cursor

from notifications.models import EventLogEntry

# pg_advisory_xact_lock key: "eventlog" in ASCII, so it is recognisable in pg_locks.
SEQUENCE_LOCK = int.from_bytes(b"eventlog", "big")
CURSOR_KIND = "events"


def record(session, event, now):
    """Append ``event`` to the log in the caller's transaction; a no-op for an id already
    there (the inbox claim is the first guard, this unique constraint the second).

    Call it last in the unit of work: on PostgreSQL it takes the sequencing lock, held until
    commit."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCE_LOCK})
    dialect = postgresql if postgres else sqlite
    session.execute(dialect.insert(EventLogEntry).values(
        event_id=str(event["id"]), event_type=str(event["type"])[:100],
        source=str(event.get("source") or "")[:200],
        envelope=json.dumps(event, ensure_ascii=False, separators=(",", ":")),
        recorded_at=now,
    ).on_conflict_do_nothing(index_elements=["event_id"]))


def replay(session, cursor, types, limit):
    """``{"items": [CloudEvent…], "next_cursor"}`` after ``cursor`` in log order.

    ``next_cursor`` is never null: past the end it is where to poll from later. When a page
    is not full the cursor moves to the newest entry the reader can see, even one filtered
    out, so a poller for a rare type does not re-scan the same rows (safe because no entry
    below a visible one can still appear; see the module docstring)."""
    after = _position(cursor)
    # The horizon first, then the page below it: under READ COMMITTED each statement has its
    # own snapshot, and an entry committed between the two must not be jumped over.
    newest = session.scalar(select(func.max(EventLogEntry.seq))) or 0
    query = select(EventLogEntry.seq, EventLogEntry.envelope).where(
        EventLogEntry.seq > after, EventLogEntry.seq <= newest)
    if types:
        query = query.where(EventLogEntry.event_type.in_(types))
    rows = session.execute(query.order_by(EventLogEntry.seq).limit(limit)).all()
    position = rows[-1].seq if len(rows) == limit else max(after, newest)
    return {"items": [json.loads(row.envelope) for row in rows], "next_cursor": encode(position)}


def encode(position):
    return encode_cursor(CURSOR_KIND, int(position))


def _position(cursor):
    if not cursor:
        return 0
    values = decode_cursor(str(cursor))
    if (len(values) != 2 or values[0] != CURSOR_KIND or not isinstance(values[1], int)
            or isinstance(values[1], bool) or not 0 <= values[1] < 2 ** 63):
        raise ValidationFailed("The cursor is not valid.", code="invalid_cursor",
                               errors={"cursor": ["Not a cursor this API issued."]})
    return values[1]


def parse_types(types, known):
    """``types`` as a list or a comma-separated string → a list of known event types, or None
    for all. Unknown names are refused: a typo would otherwise poll an empty feed forever."""
    if types is None or types == "" or types == []:
        return None
    if isinstance(types, str):
        types = types.split(",")
    if not isinstance(types, (list, tuple)) or not all(isinstance(t, str) for t in types):
        raise ValidationFailed("types must be a list of event types.",
                               errors={"types": ["Must be a comma-separated list of event types."]})
    wanted = sorted({t.strip() for t in types if t.strip()})
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise ValidationFailed("Unknown event types.", code="unknown_event_type",
                               errors={"types": [f"Unknown event type: {t}" for t in unknown]})
    return wanted or None
