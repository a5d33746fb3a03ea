"""Request ids in every log line of every service.

The gateway gives each HTTP request an id (the caller's ``X-Request-ID`` or a new one) and
Nameko copies it, as context data ``request_id``, into every RPC and event the request
causes. :class:`RequestContext` — one line in a service class,
``request_context = RequestContext()`` — keeps that id for the worker's greenthread, and
every log record then carries it as ``record.request_id`` ("-" outside a request), so a
config's format may use ``%(request_id)s``.

Records get the attribute from a log-record factory installed when this module is imported
(so a format naming ``%(request_id)s`` never fails, whatever handler it is on);
:class:`RequestIdFilter` does the same for a handler configured explicitly. Because every
record already has the attribute, ``extra={"request_id": ...}`` is refused by logging; code
outside a worker that knows an id calls :func:`set_request_id` instead.
"""
import logging

from eventlet.corolocal import local
from nameko.extensions import DependencyProvider

NO_REQUEST = "-"
_current = local()


def current_request_id():
    """The request id of the greenthread running now, or "-"."""
    return getattr(_current, "request_id", None) or NO_REQUEST


def set_request_id(request_id):
    _current.request_id = request_id or None


def clear_request_id():
    _current.request_id = None


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to records (for dictConfig: ``{"()": "demeu_common.logs.RequestIdFilter"}``)."""

    def filter(self, record):
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        return True


class RequestContext(DependencyProvider):
    """Holds the calling request's id for the duration of each worker."""

    def worker_setup(self, worker_ctx):
        set_request_id((worker_ctx.context_data or {}).get("request_id"))

    def worker_teardown(self, worker_ctx):
        clear_request_id()

    def get_dependency(self, worker_ctx):
        return (worker_ctx.context_data or {}).get("request_id")


def _install_record_factory():
    previous = logging.getLogRecordFactory()
    if getattr(previous, "demeu_request_id", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return record

    factory.demeu_request_id = True
    logging.setLogRecordFactory(factory)


_install_record_factory()
