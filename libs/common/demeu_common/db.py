"""Database access for services: one engine per container, a session per unit of work.

Built on nameko-sqlalchemy's provider; what we add is the URL resolution of
:mod:`demeu_common.config` and engine settings that make each backend safe under eventlet:

* PostgreSQL through psycopg2 made cooperative by psycogreen, so a slow query parks only its
  own greenthread instead of the whole process.
* SQLite (the laptop default) in WAL mode with a busy timeout and foreign keys on. SQLite
  waits for locks in C, blocking the hub, so services must never yield (RPC, HTTP) while a
  write transaction is open: keep transactions short and do remote calls outside them.
"""
import os
import threading

from nameko_sqlalchemy import Database as _NamekoDatabase
from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker
from nameko_sqlalchemy.database import Session

from demeu_common.config import database_url

_green_lock = threading.Lock()
_green_patched = False


def _make_psycopg_cooperative():
    global _green_patched
    with _green_lock:
        if _green_patched:
            return
        import eventlet.patcher

        if eventlet.patcher.is_monkey_patched("socket"):
            from psycogreen.eventlet import patch_psycopg

            patch_psycopg()
        _green_patched = True


def normalize_url(url):
    """``postgresql://`` means psycopg2 here (SQLAlchemy 2.1 would pick psycopg 3), so the
    URLs people write work unchanged."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def make_engine(url, **options):
    url = normalize_url(url)
    if url.startswith("postgresql"):
        _make_psycopg_cooperative()
        options.setdefault("pool_pre_ping", True)
        # Enough kept-open connections for a service's concurrent workers (max_workers
        # defaults to 20): connections beyond pool_size are opened and closed per use, and
        # that churn (a PostgreSQL backend per connection) measured as the donation path's
        # main cost when the pool was 10.
        options.setdefault("pool_size", int(os.environ.get("DB_POOL_SIZE", 20)))
        options.setdefault("max_overflow", int(os.environ.get("DB_MAX_OVERFLOW", 10)))
        return create_engine(url, **options)

    options.setdefault("connect_args", {"timeout": 15, "check_same_thread": False})
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    return engine


def is_postgres(bind):
    return bind.dialect.name == "postgresql"


class Database(_NamekoDatabase):
    """``self.db.get_session()`` as a context manager commits on success and rolls back on
    error; ``self.db.session`` is a worker-scoped session closed after the entrypoint."""

    def setup(self):
        service_name = self.container.service_name
        self.db_uri = database_url(service_name, self.container.config.get("DATABASE_URL"))
        self.engine = make_engine(self.db_uri, **self.engine_options)
        self.Session = sessionmaker(
            bind=self.engine, class_=Session, expire_on_commit=False, **self.session_options
        )
