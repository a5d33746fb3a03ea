"""OpenAPI 3.1 generated from the routes themselves and the marshmallow schemas that
validate their bodies, so the document cannot drift from the API; and /docs, Swagger UI
served from a Python package (``swagger-ui-py``, Swagger UI 5, which reads OpenAPI 3.1), so
the page needs nothing from the internet at run time."""
import hashlib
import html
import importlib.util
import inspect
import mimetypes
import re
from pathlib import Path

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from demeu_common.logs import RequestContext
from demeu_common.reference import CATEGORIES, CURRENCY, REGION_CODES

from gateway.http import HttpProblem, Route, route
from gateway.routes import QUERY_SCHEMAS

PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}
ERROR_STATUSES = {"400": "Malformed request", "401": "No or invalid token", "403": "Not allowed",
                  "404": "Not found", "409": "State conflict", "413": "Body over 1 MiB",
                  "422": "Validation failed", "429": "Rate limited (see Retry-After)",
                  "502": "A payment provider or upstream failed", "503": "A service is down"}
MONEY_STATUSES = {"402": "Payment declined"}

# --- response bodies (the contract's objects; additional fields may appear) -----------------

_ID = {"type": "string"}
_TIME = {"type": "string", "format": "date-time"}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_AMOUNT = {"type": "integer", "minimum": 0, "description": "tiyn (100 tiyn = 1 KZT)"}
_PAGE = {"type": "object", "required": ["items", "next_cursor"],
         "properties": {"items": {"type": "array", "items": {}}, "next_cursor": {"type": ["string", "null"]}}}
SCHEMAS = {
    "Reward": {"type": "object", "required": ["id", "title", "min_amount"], "properties": {
        "id": _ID, "title": {"type": "string"}, "description": {"type": ["string", "null"]},
        "min_amount": _AMOUNT, "quantity": {"type": ["integer", "null"]}, "remaining": {"type": ["integer", "null"]},
    }},
    "Campaign": {"type": "object", "required": [
        "id", "owner_id", "title", "summary", "category", "region", "funding_model", "goal_amount",
        "raised_amount", "matched_amount", "backers_count", "currency", "status", "duration_days",
        "starts_at", "ends_at", "rewards", "created_at"], "properties": {
        "id": _ID, "owner_id": {"type": "string"}, "title": {"type": "string"}, "summary": {"type": "string"},
        "story": {"type": ["string", "null"]}, "category": {"type": "string", "enum": list(CATEGORIES)},
        "region": {"type": "string", "enum": list(REGION_CODES)},
        "funding_model": {"type": "string", "enum": ["all_or_nothing", "keep_it_all"]},
        "goal_amount": _AMOUNT, "raised_amount": _AMOUNT, "matched_amount": _AMOUNT,
        "backers_count": {"type": "integer", "minimum": 0}, "currency": {"type": "string", "const": CURRENCY},
        "status": {"type": "string", "enum": ["draft", "pending_review", "live", "rejected", "succeeded", "failed"]},
        "duration_days": {"type": "integer"}, "starts_at": _TIME_OR_NULL, "ends_at": _TIME_OR_NULL,
        "rewards": {"type": "array", "items": {"$ref": "#/components/schemas/Reward"}},
        "program_id": {"type": ["string", "null"]}, "seat_cost_amount": {"type": ["integer", "null"]},
        "created_at": _TIME,
    }},
    "Donation": {"type": "object", "required": [
        "id", "campaign_id", "donor_id", "amount", "currency", "reward_id", "anonymous", "status",
        "created_at"], "properties": {
        "id": _ID, "campaign_id": _ID, "donor_id": {"type": "string"}, "amount": _AMOUNT,
        "currency": {"type": "string", "const": CURRENCY}, "reward_id": {"type": ["string", "null"]},
        "anonymous": {"type": "boolean"}, "message": {"type": ["string", "null"]},
        "status": {"type": "string"}, "captured_amount": _AMOUNT, "refunded_amount": _AMOUNT,
        "created_at": _TIME,
    }},
    "PublicDonation": {"type": "object", "required": ["id", "donor", "amount", "currency", "created_at"],
                       "properties": {
        "id": _ID, "donor": {"type": ["object", "null"], "properties": {"id": {"type": "string"}}},
        "amount": _AMOUNT, "currency": {"type": "string", "const": CURRENCY},
        "message": {"type": ["string", "null"]}, "created_at": _TIME,
    }},
    "Page": _PAGE,
}


def _page_of(name):
    return {"allOf": [{"$ref": "#/components/schemas/Page"},
                      {"properties": {"items": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}}}]}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


# operationId (the handler's name) → what it answers; anything else is documented as an object
RESPONSES = {
    **{op: _ref("Campaign") for op in ("create_campaign", "get_campaign", "update_campaign", "submit_campaign",
                                       "approve_campaign", "reject_campaign", "close_campaign")},
    **{op: _ref("Donation") for op in ("donate", "get_donation", "refund")},
    "list_campaigns": _page_of("Campaign"),
    "my_donations": _page_of("Donation"),
    "campaign_donations": _page_of("PublicDonation"),
}
# Routes that answer an HTML page, for routes that do not say so themselves (produces=...)
PAGES = {"dashboard": "text/html"}
EXAMPLES = {
    "create_campaign": {
        "title": "Shanyrak theatre tour", "summary": "Bring our play to five villages of Karaganda region.",
        "story": "Twelve actors, one bus, five stages in village schools.", "category": "culture",
        "region": "KZ-35", "funding_model": "all_or_nothing", "goal_amount": 2_000_000_00, "currency": "KZT",
        "duration_days": 30,
        "rewards": [{"title": "A postcard from the tour", "min_amount": 2_000_00, "quantity": 200}],
    },
    "donate": {"amount": 5_000_00, "anonymous": False, "message": "Сәттілік! Good luck!",
               "payment_method": {"type": "card", "token": "tok_success"}},
}
def _lists_pages(entry):
    """Routes whose handler reads a page (``page_args``) take limit and cursor, declared or not."""
    try:
        source = inspect.getsource(getattr(entry.container.service_cls, entry.method_name))
    except (AttributeError, OSError, TypeError):
        return False
    return "page_args(" in source


def build_spec(routes):
    spec = APISpec(
        title="Demeu API", version="1.0.0", openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": (
            "Crowdfunding, patronage and the Talent Factory of Kazakhstan.\n\n"
            "Money is integer tiyn (100 tiyn = 1 KZT) with a `currency`; errors are RFC 9457 "
            "`application/problem+json` with a stable `code`. Lists take `limit` (1–100) and "
            "`cursor`. Money-moving POSTs need an `Idempotency-Key`. Send `X-Request-ID` to trace a "
            "request (it is echoed, and logged by every service); reads answer with an `ETag` and "
            "`304` to a matching `If-None-Match`.")},
    )
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    paths = {}
    for entry in sorted(routes, key=lambda r: (r.url, r.method)):
        if not entry.doc.get("public", True):
            continue
        paths.setdefault(PATH_PARAM.sub(r"{\1}", entry.url), {})[entry.method.lower()] = _operation(entry)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation(entry):
    status = str(entry.doc.get("status", 200))
    produces = PAGES.get(entry.method_name) or entry.doc.get("produces") or "application/json"
    success = {"description": "Success"}
    if status != "204":
        success["content"] = {produces: {"schema": RESPONSES.get(entry.method_name, {"type": "object"})
                                         if produces == "application/json" else {"type": "string"}}}
    if status == "201":
        success["headers"] = {"Location": {"description": "The new resource", "schema": {"type": "string"}}}
    operation = {
        "operationId": entry.method_name,
        "summary": entry.doc.get("summary") or entry.method_name.replace("_", " "),
        "tags": [entry.doc.get("tag") or "misc"],
        "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                       for name in PATH_PARAM.findall(entry.url)],
        "responses": {status: success},
    }
    if entry.method == "GET":
        success.setdefault("headers", {})["ETag"] = {"description": "Send back in If-None-Match",
                                                     "schema": {"type": "string"}}
        operation["responses"]["304"] = {"description": "Not modified (If-None-Match matched the ETag)"}
    names = list(entry.doc.get("query") or ())
    if _lists_pages(entry):
        names += [n for n in ("limit", "cursor") if n not in names]
    for name in names:
        operation["parameters"].append({"name": name, "in": "query", "required": False, "allowEmptyValue": True,
                                        "schema": QUERY_SCHEMAS.get(name, {"type": "string"})})
    if entry.idempotent:
        operation["parameters"].append({
            "name": "Idempotency-Key", "in": "header", "required": True,
            "description": "Same key and body again → the original answer; nothing is done twice.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        })
    if entry.auth == "required":
        operation["security"] = [{"bearer": []}]
    elif entry.auth == "optional":
        operation["security"] = [{}, {"bearer": []}]
    body = entry.doc.get("body")
    if body is not None:
        content = {"schema": body}
        if entry.method_name in EXAMPLES:
            content["example"] = EXAMPLES[entry.method_name]
        operation["requestBody"] = {"required": True, "content": {"application/json": content}}
    errors = dict(ERROR_STATUSES, **(MONEY_STATUSES if entry.idempotent else {}))
    for code, description in sorted(errors.items()):
        operation["responses"][code] = {
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    operation["responses"]["414"] = {"description": "Request line over 32 KiB (answered by the web server, no body)"}
    if "429" in operation["responses"]:
        operation["responses"]["429"]["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return operation


class ApiSpec(DependencyProvider):
    """Builds the document once per process from the container's routes."""

    def setup(self):
        self.spec = None

    def get_dependency(self, worker_ctx):
        if self.spec is None:
            self.spec = build_spec([e for e in self.container.entrypoints if isinstance(e, Route)])
        return self.spec


# --- /docs: Swagger UI from a package ----------------------------------------------------------

def swagger_ui_dir():
    """The packaged Swagger UI files (found without importing the package, which would pull
    in its web-framework adapters)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "static"


DOCS_ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png")
INIT_JS = b"""window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    displayRequestDuration: true,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""
DOCS_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demeu API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/png" href="/docs/static/favicon-32x32.png">
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
</head><body>
<noscript>The machine-readable description is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/static/demeu-docs.js"></script>
</body></html>"""
# Only /docs gets a policy that lets scripts and styles run, and only its own: Swagger UI
# sets inline styles; everything else, fetching the spec included, stays same-origin.
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def plain_docs_page(spec):
    items = "".join(
        f"<li><b>{method.upper()}</b> <code>{html.escape(path)}</code> — "
        f"{html.escape(operation.get('summary', ''))}</li>"
        for path, operations in spec["paths"].items() for method, operation in operations.items())
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demeu API</title></head>'
            '<body><h1>Demeu API</h1><p>The machine-readable description is at '
            f'<a href="/openapi.json">/openapi.json</a>.</p><ul>{items}</ul></body></html>')


class StaticFiles:
    """The few files /docs needs, read once, each with its ETag."""

    def __init__(self):
        self.files = {}

    def get(self, name):
        if name not in self.files:
            if name == "demeu-docs.js":
                data = INIT_JS
            elif name in DOCS_ASSETS and swagger_ui_dir() is not None:
                data = (swagger_ui_dir() / name).read_bytes()
            else:
                return None
            self.files[name] = (data, hashlib.sha256(data).hexdigest()[:32])
        return self.files[name]


class StaticProvider(DependencyProvider):
    def setup(self):
        self.static = StaticFiles()

    def get_dependency(self, worker_ctx):
        return self.static


class DocsRoutes:
    api_spec = ApiSpec()
    docs_static = StaticProvider()
    # the gateway's own log lines carry the request id too (here because every
    # GatewayService includes this mixin)
    request_context = RequestContext()

    @route("GET", "/openapi.json", tag="operations", summary="This API's OpenAPI 3.1 document")
    def openapi(self, request):
        return self.api_spec

    @route("GET", "/docs", tag="operations", summary="Interactive API docs (Swagger UI)", produces="text/html")
    def docs(self, request):
        if swagger_ui_dir() is None:  # the package is missing: a plain list still helps
            return Response(plain_docs_page(self.api_spec), content_type="text/html; charset=utf-8",
                            headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
        return Response(DOCS_PAGE, content_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": DOCS_CSP})

    @route("GET", "/docs/static/<string:filename>", tag="operations", public=False,
           summary="Files of the docs page")
    def docs_static_file(self, request, filename):
        found = self.docs_static.get(filename)
        if found is None:
            raise HttpProblem(404, "not_found", "Not found", "No such file.")
        data, etag = found
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith("javascript"):
            content_type += "; charset=utf-8"
        response = Response(data, content_type=content_type,
                            headers={"Cache-Control": "public, max-age=3600",
                                     "Cross-Origin-Resource-Policy": "same-origin"})
        response.set_etag(etag)
        return response
