"""One error vocabulary for the whole platform.

A domain rule that refuses something raises a :class:`DomainError` subclass carrying the
contract's stable ``code`` and the HTTP status the gateway should answer with. Nameko
serialises exceptions raised by RPC entrypoints; because every class here is registered with
``deserialize_to_instance``, the gateway gets the same class back (not a bare
``RemoteError``) and turns it into problem+json in exactly one place.
"""
import json

from nameko.exceptions import deserialize_to_instance


@deserialize_to_instance
class DomainError(Exception):
    status = 422
    code = "unprocessable"
    title = "Request cannot be processed"

    def __init__(self, detail=None, code=None, status=None, errors=None, extra=None):
        self.detail = detail or self.title
        if code is not None:
            self.code = code
        if status is not None:
            self.status = int(status)
        self.errors = _from_wire(errors)
        self.extra = _from_wire(extra) or {}
        # Positional args are what nameko ships across RPC and replays on the other side.
        # Nameko turns non-string leaves into strings, so structured parts travel as JSON.
        super().__init__(self.detail, self.code, str(self.status),
                         json.dumps(self.errors), json.dumps(self.extra))

    def __str__(self):
        return f"{self.code}: {self.detail}"

    def to_problem(self):
        problem = {
            "type": f"https://demeu.kz/problems/{self.code.replace('_', '-')}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.errors:
            problem["errors"] = self.errors
        problem.update(self.extra)
        return problem


@deserialize_to_instance
class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"
    title = "Validation failed"

    @classmethod
    def from_marshmallow(cls, error):
        messages = error.messages
        if isinstance(messages, list):
            messages = {"_schema": messages}
        return cls("One or more fields are invalid.", errors=_stringify(messages))


@deserialize_to_instance
class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


@deserialize_to_instance
class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


@deserialize_to_instance
class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


@deserialize_to_instance
class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "Invalid state transition"


@deserialize_to_instance
class PaymentDeclined(DomainError):
    status = 402
    code = "payment_declined"
    title = "Payment declined"


@deserialize_to_instance
class ProviderUnavailable(DomainError):
    status = 502
    code = "provider_unavailable"
    title = "Payment provider unavailable"


@deserialize_to_instance
class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
    title = "Service unavailable"


def _from_wire(value):
    if isinstance(value, str):
        return json.loads(value)
    return value


def _stringify(messages):
    """Marshmallow nests messages by field and by list index; problem+json wants
    ``{field: [str]}`` with dotted paths for nested fields."""
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            flat.setdefault(prefix or "_schema", []).extend(value)
        elif isinstance(value, list):
            for item in value:
                walk(prefix, item)
        else:
            flat.setdefault(prefix or "_schema", []).append(str(value))

    walk("", messages)
    return flat
