"""Entrypoints with the delivery guarantees the platform needs."""
import logging

import eventlet
from nameko.events import EventHandler
from nameko.rpc import Rpc
from nameko.timer import Timer

from demeu_common.errors import DomainError

log = logging.getLogger(__name__)


class ReliableEventHandler(EventHandler):
    """An event handler whose failures do not lose the event.

    Nameko acks a message once its handler returns, even when the handler raised. Here a
    failure (a database or peer away) puts the message back on the queue after a pause, so
    the effect happens once things recover; handlers are idempotent through
    :mod:`demeu_common.inbox`, so the redelivery is safe. Domain refusals must be handled
    inside the handler (they are outcomes, not failures) or they would be retried forever.
    """

    retry_delay = 1.0

    def __init__(self, source_service, event_type, retry_delay=None, **kwargs):
        kwargs.setdefault("requeue_on_error", True)
        if retry_delay is not None:
            self.retry_delay = retry_delay
        super().__init__(source_service, event_type, **kwargs)

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is not None:
            log.warning(
                "handler %s failed on %s; requeueing in %.1fs",
                worker_ctx.entrypoint.method_name,
                message.delivery_info.get("routing_key"),
                self.retry_delay,
                exc_info=exc_info,
            )
            eventlet.sleep(self.retry_delay)
        return super().handle_result(message, worker_ctx, result, exc_info)


event_handler = ReliableEventHandler.decorator


def rpc(fn=None, **kwargs):
    """Nameko's ``@rpc`` that knows domain refusals are outcomes: they travel back to the
    caller as their own class and are logged as warnings, not as crashes. Works bare
    (``@rpc``) and called (``@rpc(...)``); nameko's own decorator drops keyword arguments
    when used bare, hence the two steps."""
    kwargs.setdefault("expected_exceptions", DomainError)
    decorator = Rpc.decorator(**kwargs)
    return decorator if fn is None else decorator(fn)


class ConfiguredTimer(Timer):
    """Nameko's ``@timer`` with its interval read from config when the container starts, so
    operators (and tests) set it without code: ``@sweep("DEADLINE_SWEEP_SECONDS", 5)``.

    Every sweep must be safe when several instances run it at once: each claims its rows
    with a conditional UPDATE (or SKIP LOCKED) before acting."""

    def __init__(self, config_key, default, **kwargs):
        self.config_key, self.default = config_key, default
        super().__init__(interval=default, **kwargs)

    def setup(self):
        self.interval = float(self.container.config.get(self.config_key) or self.default)
        super().setup()


sweep = ConfiguredTimer.decorator
