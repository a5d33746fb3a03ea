import eventlet
from marshmallow import fields, validate

from demeu_common.errors import DomainError
from demeu_common.reference import LOCALES, REGIONS
from demeu_common.schemas import RequestSchema, load

from gateway.auth import ROLES
from gateway.http import HttpProblem, route

SERVICES = ("campaigns", "payments", "notifications", "talent")


class DevTokenSchema(RequestSchema):
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), load_default=list)
    email = fields.Email(load_default=None, allow_none=True)
    locale = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(LOCALES))


class OpsRoutes:
    @route("GET", "/health", tag="operations", summary="Are all services answering?")
    def health(self, request):
        timeout = float(self.config.get("HEALTH_TIMEOUT") or 2)

        def ping(name):
            try:
                with eventlet.Timeout(timeout):
                    return getattr(self, name).ping() == "ok"
            except (eventlet.Timeout, DomainError, Exception):  # any failure means not healthy
                return False

        pool = eventlet.GreenPool(len(SERVICES))
        results = dict(zip(SERVICES, pool.imap(ping, SERVICES)))
        services = {name: "ok" if up else "unavailable" for name, up in results.items()}
        healthy = all(results.values())
        return (200 if healthy else 503), {"status": "ok" if healthy else "degraded", "services": services}

    @route("POST", "/v1/auth/dev-token", body=DevTokenSchema, tag="auth", dev_token=True,
           summary="Issue a development token (only when DEMEU_DEV=1)")
    def dev_token(self, request):
        if str(self.config.get("DEMEU_DEV")).lower() not in ("1", "true", "yes"):
            raise HttpProblem(404, "not_found", "Not found", "No such resource.")
        data = load(DevTokenSchema, request.json_body)
        token, ttl = request.verifier.issue_dev_token(
            data["user_id"], sorted(set(data["roles"])), data.get("email"), data.get("locale"))
        return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}

    @route("GET", "/v1/regions", tag="reference", summary="Kazakhstan's 20 regions in kk, ru and en")
    def regions(self, request):
        items = [{"code": code, "name": names} for code, names in REGIONS.items()]
        return {"items": items, "next_cursor": None}
