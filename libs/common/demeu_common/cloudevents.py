"""The CloudEvents 1.0 envelope every Demeu event travels in (contract §8)."""
import uuid

from demeu_common.clock import isoformat, utcnow

SPEC_VERSION = "1.0"
SCHEMA_BASE = "https://demeu.kz/schemas/events"

# Keys that must never leave a service in an event, at any depth (contract §8: no IIN,
# birth date, email, guardian data). Anonymous donors are removed by the publisher of
# the donation event, which is the only one that knows a gift is anonymous.
PRIVATE_KEYS = frozenset(
    {"iin", "birth_date", "email", "guardian_consent", "guardian_name", "password", "token"}
)


class PrivateDataInEvent(ValueError):
    pass


def find_private_keys(data, path=""):
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else key
            if key in PRIVATE_KEYS:
                found.append(where)
            found.extend(find_private_keys(value, where))
    elif isinstance(data, (list, tuple)):
        for index, value in enumerate(data):
            found.extend(find_private_keys(value, f"{path}[{index}]"))
    return found


def make_event(service_name, event_type, data, *, subject=None, event_id=None, time=None):
    leaked = find_private_keys(data)
    if leaked:
        raise PrivateDataInEvent(f"{event_type} would carry private fields: {', '.join(leaked)}")
    envelope = {
        "specversion": SPEC_VERSION,
        "id": event_id or str(uuid.uuid4()),
        "source": f"demeu/{service_name}",
        "type": event_type,
        "time": isoformat(time or utcnow()),
        "datacontenttype": "application/json",
        "dataschema": f"{SCHEMA_BASE}/{event_type}.json",
        "data": data,
    }
    if subject is not None:
        envelope["subject"] = str(subject)
    return envelope


REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type", "time", "datacontenttype", "data")


def is_cloudevent(payload):
    return isinstance(payload, dict) and all(key in payload for key in REQUIRED_ATTRIBUTES)
