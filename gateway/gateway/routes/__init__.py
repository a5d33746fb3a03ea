"""The gateway's routes, one module per area; :class:`gateway.service.GatewayService`
combines them. Each handler authorizes by declaration (``auth``, ``roles``), passes the actor
and the parsed body to one service over RPC, and returns what it answers."""


def query_args(request, *names):
    """The named query parameters that were given (empty strings dropped)."""
    return {name: request.args[name] for name in names if request.args.get(name)}


def page_args(request):
    from demeu_common.pagination import clamp_limit

    return {"limit": clamp_limit(request.args.get("limit", 20)), "cursor": request.args.get("cursor") or None}


def actor_of(request):
    """What services need to know of the caller (never the email or the raw token)."""
    return {"user_id": request.actor["user_id"], "roles": list(request.actor["roles"])}


def created(body, location):
    return 201, body, {"Location": location}
