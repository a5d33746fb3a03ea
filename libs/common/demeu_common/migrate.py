"""Migrations: each service keeps alembic scripts in ``services/<name>/migrations``; this
module runs them against the database :func:`demeu_common.config.database_url` resolves, so
the service and its migrations never disagree about where the data lives.

``demeu-migrate campaigns payments`` upgrades each named service to head.
"""
import argparse
import importlib
import logging
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from demeu_common.config import database_url
from demeu_common.db import make_engine


def service_dir(service_name):
    package = importlib.import_module(service_name)
    return Path(package.__file__).resolve().parent.parent


def alembic_config(service_name, url=None):
    root = service_dir(service_name)
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    config.attributes["service_name"] = service_name
    config.attributes["database_url"] = url or database_url(service_name)
    return config


def upgrade(service_name, url=None, revision="head"):
    command.upgrade(alembic_config(service_name, url), revision)


def run_migrations(context, target_metadata):
    """The body of every service's ``migrations/env.py``."""
    config = context.config
    url = config.attributes.get("database_url") or database_url(
        config.attributes.get("service_name") or config.get_main_option("service_name")
    )
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="+")
    parser.add_argument("--revision", default="head")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in args.services:
        print(f"migrating {name} -> {args.revision} ({_redacted(database_url(name))})")
        upgrade(name, revision=args.revision)
    return 0


def _redacted(url):
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
    return url


if __name__ == "__main__":
    sys.exit(main())
