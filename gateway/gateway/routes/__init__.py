"""The gateway's routes, one module per area; :class:`gateway.service.GatewayService`
combines them. Each handler authorizes by declaration (``auth``, ``roles``), passes the actor
and the parsed body to one service over RPC, and returns what it answers."""
import re

from demeu_common.errors import ValidationFailed
from demeu_common.reference import CATEGORIES, REGION_CODES

DEFAULT_LIMIT, MIN_LIMIT, MAX_LIMIT = 20, 1, 100
MAX_CURSOR_LENGTH = 512
_DIGITS = re.compile(r"^[0-9]{1,4}$")

# What the query parameters routes declare may hold: checked here by query_args, and the
# same dicts are the parameters' schemas in /openapi.json. An empty value means "not given".
QUERY_SCHEMAS = {
    "limit": {"type": "integer", "minimum": MIN_LIMIT, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT,
              "description": f"Items per page ({MIN_LIMIT}–{MAX_LIMIT}); outside that range → 422."},
    "cursor": {"type": "string", "maxLength": MAX_CURSOR_LENGTH, "description": "next_cursor of the previous page."},
    "category": {"type": "string", "enum": list(CATEGORIES)},
    "field": {"type": "string", "enum": list(CATEGORIES)},
    "region": {"type": "string", "enum": list(REGION_CODES)},
    "kind": {"type": "string", "enum": ["course", "master_class"]},
    "owner": {"type": "string", "enum": ["me"], "description": "Only my campaigns (needs a token)."},
    "q": {"type": "string", "maxLength": 200, "description": "Words in the title or summary."},
}


def query_args(request, *names):
    """The named query parameters that were given (empty strings dropped), each checked
    against its QUERY_SCHEMAS entry: a value outside an enum or too long is a 422, never
    passed on to be silently ignored."""
    given = {name: request.args[name] for name in names if request.args.get(name)}
    errors = {}
    for name, value in given.items():
        schema = QUERY_SCHEMAS.get(name, {})
        if "enum" in schema and value not in schema["enum"]:
            errors[name] = [f"Must be one of: {', '.join(schema['enum'])}."]
        elif len(value) > schema.get("maxLength", 1000):
            errors[name] = [f"At most {schema.get('maxLength', 1000)} characters."]
    if errors:
        raise ValidationFailed("One or more query parameters are invalid.", errors=errors)
    return given


def page_args(request):
    """``limit`` (1–100, default 20) and ``cursor`` of a list request. A limit out of range or
    not a whole number is refused (422 ``validation_failed``), not silently changed: a client
    asking for 500 items should learn that it gets at most 100."""
    raw = request.args.get("limit")
    errors = {}
    limit = DEFAULT_LIMIT
    if raw is not None and raw != "":
        if not _DIGITS.match(raw) or not MIN_LIMIT <= int(raw) <= MAX_LIMIT:
            errors["limit"] = [f"Must be a whole number from {MIN_LIMIT} to {MAX_LIMIT}."]
        else:
            limit = int(raw)
    cursor = request.args.get("cursor") or None
    if cursor is not None and len(cursor) > MAX_CURSOR_LENGTH:
        errors["cursor"] = ["Not a cursor this API issued."]
    if errors:
        raise ValidationFailed("One or more query parameters are invalid.", errors=errors)
    return {"limit": limit, "cursor": cursor}


def actor_of(request):
    """What services need to know of the caller (never the email or the raw token)."""
    return {"user_id": request.actor["user_id"], "roles": list(request.actor["roles"])}


def created(body, location):
    return 201, body, {"Location": location}
