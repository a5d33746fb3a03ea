"""RPC between services with a deadline.

Nameko 2's ``RpcProxy`` waits for a reply forever; a caller that must answer a person (the
gateway) or hold a reservation (payments) cannot. ``TimedRpcProxy`` waits at most
``timeout`` seconds and raises :class:`~demeu_common.errors.ServiceUnavailable` (503). Its
requests carry the same number as a message TTL, so a request nobody picked up in time is
dropped by the broker rather than executed long after its caller gave up.
"""
import socket

import eventlet
from kombu.exceptions import OperationalError
from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy

from demeu_common.errors import ServiceUnavailable

DEFAULT_TIMEOUT = 8.0


class TimedMethod:
    def __init__(self, method, service_name, timeout):
        self._method = method
        self._service_name = service_name
        self._timeout = timeout

    def __call__(self, *args, **kwargs):
        try:
            reply = self._method.call_async(*args, **kwargs)
        except UnknownService:
            raise ServiceUnavailable(f"The {self._service_name} service is not running.")
        except (OperationalError, socket.error, OSError):
            raise ServiceUnavailable("The message broker is unreachable.", code="broker_unavailable")
        timer = eventlet.Timeout(self._timeout)
        try:
            return reply.result()
        except eventlet.Timeout as expired:
            if expired is not timer:
                raise
            raise ServiceUnavailable(
                f"The {self._service_name} service did not answer within {self._timeout:g}s.",
                code="service_timeout",
            )
        finally:
            timer.cancel()


class TimedServiceProxy:
    def __init__(self, proxy, service_name, timeout):
        self._proxy = proxy
        self._service_name = service_name
        self._timeout = timeout

    def __getattr__(self, name):
        return TimedMethod(getattr(self._proxy, name), self._service_name, self._timeout)


class TimedRpcProxy(RpcProxy):
    def __init__(self, target_service, timeout=None, **options):
        self.timeout = timeout
        super().__init__(target_service, **options)

    def setup(self):
        if self.timeout is None:
            self.timeout = float(self.container.config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))
        # A TTL in seconds; a late request is worthless to a caller who already gave up.
        self.options.setdefault("expiration", self.timeout)
        super().setup()

    def get_dependency(self, worker_ctx):
        return TimedServiceProxy(super().get_dependency(worker_ctx), self.target_service, self.timeout)
