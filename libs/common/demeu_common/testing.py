"""Pytest fixtures shared by every service's tests: real RabbitMQ, real databases, isolated.

Each test gets its own RabbitMQ virtual host, so no test sees another's queues or messages.
Each service database is created once per test session (PostgreSQL by default, SQLite with
``DEMEU_TEST_DATABASE=sqlite``), migrated with the service's real alembic scripts, and
emptied after every test that used it.

Loaded from the repository's root ``conftest.py``, which monkey-patches eventlet first.
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from sqlalchemy import inspect, text

from demeu_common.db import make_engine
from demeu_common.migrate import upgrade

RABBIT_HOST = os.environ.get("DEMEU_TEST_RABBIT_HOST", "127.0.0.1")
RABBIT_MANAGEMENT = os.environ.get("DEMEU_TEST_RABBIT_MANAGEMENT", f"http://{RABBIT_HOST}:15672")
RABBIT_USER = os.environ.get("DEMEU_TEST_RABBIT_USER", "guest")
RABBIT_PASSWORD = os.environ.get("DEMEU_TEST_RABBIT_PASSWORD", "guest")
TEST_DATABASE = os.environ.get("DEMEU_TEST_DATABASE", "postgresql://postgres@127.0.0.1:5432")


# --- RabbitMQ -------------------------------------------------------------------------------

def _management(method, path, body=None):
    request = urllib.request.Request(
        RABBIT_MANAGEMENT + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "content-type": "application/json",
            "authorization": "Basic "
            + base64.b64encode(f"{RABBIT_USER}:{RABBIT_PASSWORD}".encode()).decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
        return json.loads(raw) if raw else None


def _ensure_management_api():
    """The HTTP API makes a vhost in milliseconds (rabbitmqctl takes seconds), so enable it
    when the broker is local and it is off."""
    try:
        _management("GET", "/api/overview")
        return
    except (urllib.error.URLError, ConnectionError, OSError):
        pass
    if shutil.which("rabbitmq-plugins"):
        subprocess.run(
            ["rabbitmq-plugins", "enable", "--quiet", "rabbitmq_management"],
            check=False, capture_output=True, timeout=120,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            _management("GET", "/api/overview")
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"RabbitMQ management API not reachable at {RABBIT_MANAGEMENT}; "
                    "run `rabbitmq-plugins enable rabbitmq_management`"
                )
            time.sleep(0.5)


@pytest.fixture(scope="session")
def rabbit_management():
    _ensure_management_api()
    return _management


def make_vhost(prefix="demeu-test"):
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    quoted = urllib.parse.quote(name, safe="")
    _management("PUT", f"/api/vhosts/{quoted}", {})
    _management(
        "PUT", f"/api/permissions/{quoted}/{RABBIT_USER}",
        {"configure": ".*", "write": ".*", "read": ".*"},
    )
    uri = f"amqp://{RABBIT_USER}:{RABBIT_PASSWORD}@{RABBIT_HOST}:5672/{quoted}"
    return name, uri


def delete_vhost(name):
    try:
        _management("DELETE", f"/api/vhosts/{urllib.parse.quote(name, safe='')}")
    except urllib.error.HTTPError:
        pass


@pytest.fixture
def amqp_uri(rabbit_management):
    name, uri = make_vhost()
    yield uri
    delete_vhost(name)


# --- Databases ------------------------------------------------------------------------------

class DatabaseRegistry:
    """Creates one migrated database per service per test session."""

    def __init__(self):
        self.run_id = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.urls = {}
        self.tmpdir = None

    @property
    def sqlite(self):
        return TEST_DATABASE == "sqlite"

    def url_for(self, service_name):
        if service_name not in self.urls:
            if self.sqlite:
                if self.tmpdir is None:
                    self.tmpdir = tempfile.mkdtemp(prefix="demeu-test-")
                url = f"sqlite:///{self.tmpdir}/{service_name}.db"
            else:
                name = f"demeu_test_{self.run_id}_{service_name}"
                self._admin(f'CREATE DATABASE "{name}"')
                url = f"{TEST_DATABASE.rstrip('/')}/{name}"
            upgrade(service_name, url)
            self.urls[service_name] = url
        return self.urls[service_name]

    def _admin(self, statement):
        engine = make_engine(f"{TEST_DATABASE.rstrip('/')}/postgres", isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    def drop_all(self):
        if self.sqlite:
            if self.tmpdir:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
            return
        for url in self.urls.values():
            name = url.rsplit("/", 1)[1]
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_database(url):
    engine = make_engine(url)
    try:
        tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
        if not tables:
            return
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                quoted = ", ".join(f'"{t}"' for t in tables)
                connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            else:
                connection.execute(text("PRAGMA foreign_keys=OFF"))
                for table in tables:
                    connection.execute(text(f'DELETE FROM "{table}"'))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_registry():
    registry = DatabaseRegistry()
    yield registry
    registry.drop_all()


@pytest.fixture
def database_url_for(database_registry):
    """``database_url_for("campaigns")`` → a migrated, empty database for this test."""
    used = set()

    def get(service_name):
        used.add(service_name)
        return database_registry.url_for(service_name)

    yield get
    for service_name in used:
        if service_name in database_registry.urls:
            empty_database(database_registry.urls[service_name])


@pytest.fixture
def service_config(amqp_uri, database_url_for):
    """``service_config("campaigns")`` → the Nameko config a test container of it runs with."""

    def make(service_name, **overrides):
        config = {
            "AMQP_URI": amqp_uri,
            "DATABASE_URL": database_url_for(service_name),
            "max_workers": 10,
            "parent_calls_tracked": 10,
            "RPC_TIMEOUT": 10,
        }
        config.update(overrides)
        return config

    return make


@pytest.fixture
def rpc_client(amqp_uri):
    """A standalone RPC client: ``rpc_client.campaigns.get_campaign(...)``."""
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=15) as proxy:
        yield proxy


def wait_for(predicate, timeout=10.0, interval=0.05, message="condition"):
    """Poll until ``predicate()`` is truthy; returns its value. For effects of events."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


# --- Events ---------------------------------------------------------------------------------

def publish_event(amqp_uri, service_name, event_type, data, event_id=None):
    """Publish a CloudEvent as ``service_name`` would, straight to its exchange."""
    from nameko.standalone.events import event_dispatcher

    from demeu_common.cloudevents import make_event

    envelope = make_event(service_name, event_type, data, event_id=event_id)
    event_dispatcher({"AMQP_URI": amqp_uri})(service_name, event_type, envelope)
    return envelope


class EventCollector:
    """A plain-kombu subscriber (not Nameko) that records every event of some services, as
    another government system would see them."""

    def __init__(self, amqp_uri, services):
        from kombu import Connection, Exchange, Queue

        self.connection = Connection(amqp_uri)
        self.channel = self.connection.channel()
        self.events = []
        queues = []
        for service_name in services:
            exchange = Exchange(f"{service_name}.events", type="topic", durable=True)
            queues.append(Queue(
                f"test-collector-{service_name}-{uuid.uuid4().hex[:8]}", exchange,
                routing_key="#", exclusive=True, auto_delete=True, channel=self.channel,
            ))
        from kombu import Consumer

        for queue in queues:
            queue.declare()
        self.consumer = Consumer(self.channel, queues, callbacks=[self._on_message], accept=["json"])
        self.consumer.consume()

    def _on_message(self, body, message):
        self.events.append({"routing_key": message.delivery_info["routing_key"], "body": body,
                            "exchange": message.delivery_info["exchange"]})
        message.ack()

    def drain(self, timeout=0.2):
        import socket

        try:
            while True:
                self.connection.drain_events(timeout=timeout)
        except socket.timeout:
            pass
        return self.events

    def of_type(self, event_type):
        self.drain()
        return [e["body"] for e in self.events if e["routing_key"] == event_type]

    def wait_for(self, event_type, count=1, timeout=10.0):
        return wait_for(lambda: len(self.of_type(event_type)) >= count and self.of_type(event_type),
                        timeout=timeout, message=f"{count} {event_type} event(s)")

    def close(self):
        try:
            self.consumer.cancel()
        finally:
            self.connection.release()


@pytest.fixture
def collect_events(amqp_uri):
    """``collect_events("campaigns", "payments")`` → an :class:`EventCollector`."""
    collectors = []

    def make(*services):
        collector = EventCollector(amqp_uri, services)
        collectors.append(collector)
        return collector

    yield make
    for collector in collectors:
        collector.close()
