"""Configuration: environment over each service's config file, defaults that run on a laptop.

Nameko's ``config.yaml`` already substitutes ``${VAR:default}`` from the environment; this
module resolves what YAML cannot express, such as "an SQLite file under var/ unless a
database URL is given", so that the service and its migrations agree on one answer.
"""
import os
from pathlib import Path

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


def _repo_root():
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "Makefile").exists() and (parent / "services").is_dir():
            return parent
    return Path.cwd()


def var_dir():
    path = Path(os.environ.get("DEMEU_VAR_DIR") or _repo_root() / "var")
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(service_name, configured=None):
    """The database of ``service_name``: the configured URL, else ``<SERVICE>_DATABASE_URL``,
    else an embedded SQLite file ``var/<service>.db``."""
    url = configured or os.environ.get(f"{service_name.upper()}_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{var_dir() / f'{service_name}.db'}"


def amqp_uri(config=None):
    return (config or {}).get("AMQP_URI") or os.environ.get("AMQP_URI") or DEFAULT_AMQP_URI


def env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}
