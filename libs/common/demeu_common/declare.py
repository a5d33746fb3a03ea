"""Declare, at deploy time, every durable queue that must exist before the first event is
published: ``demeu-declare-queues`` (``make declare-queues``, run by ``make up``).

RabbitMQ drops a message routed to no queue. Nameko declares a handler's queue only when
the handler's service first starts, and an outside subscriber's queue exists only once it
connects, so an event published before then would reach nobody — whatever the outbox did to
publish it safely. Declaring the queues up front closes that window:

* **known subscribers** (``deploy/subscribers.yaml``): a durable queue
  ``<subscriber>.<exchange>`` bound to each exchange with the subscriber's routing keys;
* **every Nameko service's own event handlers**: the queue each ``@event_handler`` consumes
  from, with the very name and arguments nameko gives it. They are taken from nameko itself —
  the service class is instantiated in a container that is never started and each
  ``EventHandler.setup`` builds its ``Queue`` (registering with the container's own queue
  consumer, which does no I/O until started) — so a nameko upgrade cannot make us declare a
  different queue, or one with different arguments (a 406 PRECONDITION_FAILED at start).

Exchanges are declared as nameko declares them (:func:`get_event_exchange`), for the same
reason. Declaring is idempotent: run it on every deploy.
"""
import argparse
import importlib
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from kombu import Connection, Queue
from nameko.containers import ServiceContainer
from nameko.events import BROADCAST, EventHandler
from nameko.standalone.events import get_event_exchange

from demeu_common.config import amqp_uri as configured_amqp_uri

log = logging.getLogger(__name__)

EXCHANGE_SUFFIX = ".events"


@dataclass(frozen=True)
class QueueSpec:
    queue: Queue
    owner: str  # who consumes it: "subscriber <name>" or "<service>.<method>"


def exchange_of(exchange_name):
    """The exchange ``<service>.events`` exactly as nameko declares it."""
    if not exchange_name.endswith(EXCHANGE_SUFFIX) or len(exchange_name) <= len(EXCHANGE_SUFFIX):
        raise ValueError(f"{exchange_name!r} is not a service's event exchange (<service>.events)")
    return get_event_exchange(exchange_name[: -len(EXCHANGE_SUFFIX)], {})


def subscriber_queues(subscribers):
    """``[{name, exchanges: {exchange: [routing keys]}}]`` → one durable queue per subscriber
    and exchange, ``<subscriber>.<exchange>``, with a binding per routing key."""
    specs = []
    for subscriber in subscribers or ():
        name = str(subscriber["name"])
        if not name or any(c.isspace() for c in name):
            raise ValueError(f"subscriber name {name!r} must be non-empty without spaces")
        for exchange_name, routing_keys in (subscriber.get("exchanges") or {}).items():
            if isinstance(routing_keys, str):
                routing_keys = [routing_keys]
            if not routing_keys:
                raise ValueError(f"subscriber {name}: no routing keys for {exchange_name}")
            exchange = exchange_of(exchange_name)
            queue = Queue(f"{name}.{exchange_name}", exchange=exchange, routing_key=routing_keys[0],
                          durable=True, auto_delete=False, exclusive=False)
            queue.extra_routing_keys = list(routing_keys[1:])
            specs.append(QueueSpec(queue, f"subscriber {name}"))
    return specs


def load_service_class(path):
    """``"package.module:Class"`` → the class."""
    module_name, _, class_name = path.partition(":")
    if not class_name:
        raise ValueError(f"{path!r}: expected module:Class")
    return getattr(importlib.import_module(module_name), class_name)


def handler_queues(service_cls, config=None):
    """The queues nameko would declare for the event handlers of ``service_cls`` — only the
    durable, shared ones (SERVICE_POOL and SINGLETON with reliable delivery); a broadcast or
    unreliable handler's queue belongs to one running instance and cannot be made earlier."""
    container = ServiceContainer(service_cls, dict(config or {"AMQP_URI": configured_amqp_uri()}))
    specs = []
    for entrypoint in sorted(container.entrypoints, key=lambda e: (e.method_name, getattr(e, "event_type", ""))):
        if not isinstance(entrypoint, EventHandler):
            continue
        if not entrypoint.reliable_delivery or entrypoint.handler_type == BROADCAST:
            continue
        entrypoint.setup()
        queue = entrypoint.queue
        if not queue.durable or queue.auto_delete or queue.exclusive:
            continue
        specs.append(QueueSpec(queue, f"{container.service_name}.{entrypoint.method_name}"))
    return specs


def load_plan(path):
    """``deploy/subscribers.yaml`` → (subscribers, service class paths)."""
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return document.get("subscribers") or [], document.get("services") or []


def declare(amqp_uri, specs):
    """Declare each queue, its exchange and its bindings; returns the queue names."""
    declared = []
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        try:
            for spec in specs:
                queue = spec.queue(channel)
                queue.declare()  # the exchange, the queue, and the first binding
                for routing_key in getattr(spec.queue, "extra_routing_keys", ()):
                    queue.bind_to(exchange=queue.exchange, routing_key=routing_key)
                declared.append(queue.name)
                log.info("declared %s (%s)", queue.name, spec.owner)
        finally:
            channel.close()
    return declared


def plan(subscribers, service_paths, config=None):
    specs = subscriber_queues(subscribers)
    for path in service_paths:
        specs.extend(handler_queues(load_service_class(path), config))
    return specs


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="demeu-declare-queues",
        description="Declare durable queues for known subscribers and every service's event handlers.",
    )
    parser.add_argument("--config", default="deploy/subscribers.yaml",
                        help="YAML with `subscribers` and `services` (default: %(default)s)")
    parser.add_argument("--amqp-uri", default=None, help="default: $AMQP_URI or the local broker")
    parser.add_argument("--dry-run", action="store_true", help="print the queues, declare nothing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    uri = args.amqp_uri or configured_amqp_uri()
    subscribers, services = load_plan(args.config)
    specs = plan(subscribers, services, {"AMQP_URI": uri})
    if args.dry_run:
        for spec in specs:
            print(f"{spec.queue.name}\t{spec.queue.exchange.name}\t{spec.owner}")
        return 0
    declared = declare(uri, specs)
    print(f"declared {len(declared)} durable queues")
    return 0


if __name__ == "__main__":
    sys.exit(main())
